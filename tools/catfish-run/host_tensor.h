//===- host_tensor.h - tensors in host memory for the tools -----*- C++ -*-===//
//
// What catfish-run reads from .npy/.pb files, fills with random data and prints. Tool code:
// errors are reported as `false` plus a message (one line, without the "error: " prefix).
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_TOOLS_HOST_TENSOR_H
#define CATFISH_TOOLS_HOST_TENSOR_H

#include "catfish/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace catfish::tools {

struct HostTensor {
  catfish_dtype_t dtype = CATFISH_DTYPE_F32;
  std::vector<int64_t> shape;
  /// Packed like the runtime's buffers (I4: two per byte, low nibble first).
  std::vector<uint8_t> data;
};

/// "1x4", or "scalar" for rank 0.
std::string shapeText(const int64_t *dims, size_t rank);
inline std::string shapeText(const std::vector<int64_t> &shape) {
  return shapeText(shape.data(), shape.size());
}

/// The element count of `shape`; false if a dim is negative or the product overflows.
bool elementCount(const std::vector<int64_t> &shape, uint64_t &outCount);

/// Element `index` of `data` (of `dtype`) as a double. Floating types are decoded (f16, bf16,
/// f8), I4 is sign-extended from its nibble.
double elementValue(catfish_dtype_t dtype, const uint8_t *data, uint64_t index);

bool isFloatingPoint(catfish_dtype_t dtype);

/// Fills `byteSize` bytes with `count` random elements of `dtype` from `seed`: floating types
/// uniform in [-1, 1), integers in {0, 1} (safe for index-like inputs), bools 0/1.
std::vector<uint8_t> randomData(catfish_dtype_t dtype, uint64_t count, size_t byteSize,
                                uint64_t seed);

/// Reads a whole file; false and `error` on failure.
bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error);

} // namespace catfish::tools

#endif // CATFISH_TOOLS_HOST_TENSOR_H
