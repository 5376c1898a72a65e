//===- npy.h - reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Versions 1.0, 2.0 and 3.0; little-endian (or single-byte) data in C order. The descr maps to
// catfish dtypes as f4 f8 f2 i8 i4 i2 i1 u8 u4 u2 u1 b1. Types NumPy lacks are written as their
// raw bits: bf16 as <u2, f8e4m3fn and f8e5m2 as |u1; i4 is written unpacked as |i1.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_TOOLS_NPY_H
#define CATFISH_TOOLS_NPY_H

#include "host_tensor.h"

namespace catfish::tools {

/// Parses the bytes of a .npy file. `name` is used in errors.
bool parseNpy(const uint8_t *bytes, size_t size, const std::string &name, HostTensor &out,
              std::string &error);

/// The bytes of a .npy file holding `data` (`byteSize` bytes of `dtype`, shape `dims`).
std::vector<uint8_t> encodeNpy(catfish_dtype_t dtype, const int64_t *dims, size_t rank,
                               const uint8_t *data, size_t byteSize);

} // namespace catfish::tools

#endif // CATFISH_TOOLS_NPY_H
