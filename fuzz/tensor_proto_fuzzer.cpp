//===- tensor_proto_fuzzer.cpp - the ONNX TensorProto (.pb) reader ----------===//
//
// Any bytes: parseTensorProto (catfish-run's reader, which needs no protobuf library) accepts
// them or says why; what it accepts holds exactly the bytes its dtype and shape need.
//
//===----------------------------------------------------------------------===//

#include "onnx_tensor.h"

#include <cstdlib>

using catfish::tools::HostTensor;

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  HostTensor tensor;
  std::string name, error;
  if (!catfish::tools::parseTensorProto(data, size, "<fuzz>", tensor, name, error)) {
    if (error.empty())
      std::abort();
    return 0;
  }
  uint64_t count = 0;
  if (!catfish::tools::elementCount(tensor.shape, count))
    std::abort();
  size_t bits = catfish_dtype_bit_width(tensor.dtype);
  unsigned __int128 needBits = static_cast<unsigned __int128>(count) * bits;
  if (bits == 0 || tensor.data.size() != (needBits + 7) / 8)
    std::abort();
  return 0;
}
