//===- packing.h - 4-bit tensors, two per byte ------------------*- C++ -*-===//
//
// The API and files hold I4, U4 and F4E2M1 tensors packed two elements per byte (the even
// element in the low nibble); kernels read and write one element per byte (the low nibble).
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_PACKING_H
#define CATFISH_RUNTIME_SRC_PACKING_H

#include <cstdint>
#include <cstring>

namespace catfish::rt {

/// Spreads `count` packed elements over `count` bytes.
inline void unpackNibbles(const uint8_t *packed, uint64_t count, uint8_t *out) {
  for (uint64_t i = 0; i < count; ++i)
    out[i] = (packed[i / 2] >> (i % 2 ? 4 : 0)) & 0xf;
}

/// Packs the low nibbles of `count` bytes into (count + 1) / 2 bytes.
inline void packNibbles(const uint8_t *unpacked, uint64_t count, uint8_t *out) {
  std::memset(out, 0, (count + 1) / 2);
  for (uint64_t i = 0; i < count; ++i)
    out[i / 2] |= static_cast<uint8_t>((unpacked[i] & 0xf) << (i % 2 ? 4 : 0));
}

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_SRC_PACKING_H
