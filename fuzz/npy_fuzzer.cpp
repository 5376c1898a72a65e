//===- npy_fuzzer.cpp - the .npy reader of catfish-run ----------------------===//
//
// Any bytes: parseNpy accepts them or says why. What it accepts encodes back (encodeNpy) to a
// file it reads again as the same tensor.
//
//===----------------------------------------------------------------------===//

#include "npy.h"

#include <cstdlib>

using catfish::tools::HostTensor;

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  HostTensor tensor;
  std::string error;
  if (!catfish::tools::parseNpy(data, size, "<fuzz>", tensor, error)) {
    if (error.empty())
      std::abort();
    return 0;
  }
  std::vector<uint8_t> encoded =
      catfish::tools::encodeNpy(tensor.dtype, tensor.shape.data(), tensor.shape.size(),
                                tensor.data.data(), tensor.data.size());
  HostTensor again;
  if (!catfish::tools::parseNpy(encoded.data(), encoded.size(), "<fuzz>", again, error) ||
      again.dtype != tensor.dtype || again.shape != tensor.shape || again.data != tensor.data)
    std::abort();
  return 0;
}
