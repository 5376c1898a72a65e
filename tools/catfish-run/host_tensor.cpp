//===- host_tensor.cpp - tensors in host memory for the tools --------------===//

#include "host_tensor.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

namespace catfish::tools {
namespace {

template <typename T> T load(const uint8_t *data, uint64_t index) {
  T value;
  std::memcpy(&value, data + index * sizeof(T), sizeof(T));
  return value;
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  float value;
  if (exponent == 0)
    value = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    value = mantissa ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -value : value;
}

float bf16ToFloat(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

/// A float8 with 4 exponent bits (E4M3FN, bias 7; E4M3FNUZ, bias 8) or 5 (E5M2FNUZ, bias 16).
/// E5M2 is the top byte of an f16 and decodes as one.
float float8ToFloat(uint8_t bits, int exponentBits, int bias, bool fnuz) {
  int mantissaBits = 7 - exponentBits;
  uint32_t sign = bits >> 7, exponent = (bits & 0x7f) >> mantissaBits;
  uint32_t mantissa = bits & ((1u << mantissaBits) - 1);
  if (fnuz ? bits == 0x80 : (bits & 0x7f) == 0x7f)
    return NAN;
  float value = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), 1 - bias - mantissaBits)
                              : std::ldexp(static_cast<float>(mantissa | (1u << mantissaBits)),
                                           static_cast<int>(exponent) - bias - mantissaBits);
  return sign ? -value : value;
}

uint16_t floatToHalf(float value) {
  // Exact for the values randomData makes: |value| < 1, rounded to nearest.
  uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  float magnitude = std::fabs(value);
  if (magnitude < std::ldexp(1.0f, -14))
    return sign | static_cast<uint16_t>(std::nearbyint(magnitude * std::ldexp(1.0f, 24)));
  int exponent;
  float fraction = std::frexp(magnitude, &exponent); // magnitude = fraction * 2^exponent
  auto mantissa = static_cast<uint32_t>(std::nearbyint((fraction * 2 - 1) * 1024));
  if (mantissa == 1024) {
    mantissa = 0;
    ++exponent;
  }
  return sign | static_cast<uint16_t>((exponent - 1 + 15) << 10) | static_cast<uint16_t>(mantissa);
}

uint16_t floatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

} // namespace

std::string shapeText(const int64_t *dims, size_t rank) {
  if (rank == 0)
    return "scalar";
  std::string text;
  for (size_t i = 0; i < rank; ++i)
    text += (i ? "x" : "") + std::to_string(dims[i]);
  return text;
}

bool elementCount(const std::vector<int64_t> &shape, uint64_t &outCount) {
  uint64_t count = 1;
  for (int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count))
      return false;
  outCount = count;
  return true;
}

bool isFloatingPoint(catfish_dtype_t dtype) {
  switch (dtype) {
  case CATFISH_DTYPE_F32:
  case CATFISH_DTYPE_F16:
  case CATFISH_DTYPE_BF16:
  case CATFISH_DTYPE_F64:
  case CATFISH_DTYPE_F8E4M3FN:
  case CATFISH_DTYPE_F8E5M2:
  case CATFISH_DTYPE_F8E4M3FNUZ:
  case CATFISH_DTYPE_F8E5M2FNUZ:
  case CATFISH_DTYPE_F4E2M1:
    return true;
  default:
    return false;
  }
}

double elementValue(catfish_dtype_t dtype, const uint8_t *data, uint64_t index) {
  switch (dtype) {
  case CATFISH_DTYPE_F32:
    return load<float>(data, index);
  case CATFISH_DTYPE_F16:
    return halfToFloat(load<uint16_t>(data, index));
  case CATFISH_DTYPE_BF16:
    return bf16ToFloat(load<uint16_t>(data, index));
  case CATFISH_DTYPE_F64:
    return load<double>(data, index);
  case CATFISH_DTYPE_I64:
    return static_cast<double>(load<int64_t>(data, index));
  case CATFISH_DTYPE_I32:
    return load<int32_t>(data, index);
  case CATFISH_DTYPE_I16:
    return load<int16_t>(data, index);
  case CATFISH_DTYPE_I8:
    return load<int8_t>(data, index);
  case CATFISH_DTYPE_U64:
    return static_cast<double>(load<uint64_t>(data, index));
  case CATFISH_DTYPE_U32:
    return load<uint32_t>(data, index);
  case CATFISH_DTYPE_U16:
    return load<uint16_t>(data, index);
  case CATFISH_DTYPE_U8:
    return load<uint8_t>(data, index);
  case CATFISH_DTYPE_BOOL:
    return load<uint8_t>(data, index) != 0;
  case CATFISH_DTYPE_F8E4M3FN:
    return float8ToFloat(data[index], 4, 7, false);
  case CATFISH_DTYPE_F8E4M3FNUZ:
    return float8ToFloat(data[index], 4, 8, true);
  case CATFISH_DTYPE_F8E5M2FNUZ:
    return float8ToFloat(data[index], 5, 16, true);
  case CATFISH_DTYPE_F8E5M2:
    return halfToFloat(static_cast<uint16_t>(data[index] << 8));
  case CATFISH_DTYPE_I4:
  case CATFISH_DTYPE_U4:
  case CATFISH_DTYPE_F4E2M1: {
    uint8_t nibble = (data[index / 2] >> (index % 2 ? 4 : 0)) & 0xf;
    if (dtype == CATFISH_DTYPE_U4)
      return nibble;
    if (dtype == CATFISH_DTYPE_I4)
      return nibble >= 8 ? int(nibble) - 16 : int(nibble);
    // E2M1: exponent bias 1, no infinities or NaN; the largest magnitude is 6.
    int exponent = (nibble >> 1) & 3, mantissa = nibble & 1;
    double magnitude =
        exponent == 0 ? 0.5 * mantissa : std::ldexp(1.0 + 0.5 * mantissa, exponent - 1);
    return nibble & 8 ? -magnitude : magnitude;
  }
  }
  return 0;
}

std::vector<uint8_t> randomData(catfish_dtype_t dtype, uint64_t count, size_t byteSize,
                                uint64_t seed) {
  std::vector<uint8_t> data(byteSize, 0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  auto store = [&](uint64_t index, auto value) {
    std::memcpy(data.data() + index * sizeof(value), &value, sizeof(value));
  };
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t bits = rng();
    switch (dtype) {
    case CATFISH_DTYPE_F32:
      store(i, static_cast<float>(uniform(rng)));
      break;
    case CATFISH_DTYPE_F64:
      store(i, uniform(rng));
      break;
    case CATFISH_DTYPE_F16:
      store(i, floatToHalf(static_cast<float>(uniform(rng))));
      break;
    case CATFISH_DTYPE_BF16:
      store(i, floatToBf16(static_cast<float>(uniform(rng))));
      break;
    case CATFISH_DTYPE_F8E4M3FN: // Biased exponent 0..6: |value| < 1.
    case CATFISH_DTYPE_F8E4M3FNUZ:
      data[i] = static_cast<uint8_t>((bits & 0x80) | ((bits >> 8) % 7) << 3 | (bits & 7));
      break;
    case CATFISH_DTYPE_F8E5M2: // Biased exponent 0..14: |value| < 1.
    case CATFISH_DTYPE_F8E5M2FNUZ:
      data[i] = static_cast<uint8_t>((bits & 0x80) | ((bits >> 8) % 15) << 2 | (bits & 3));
      break;
    case CATFISH_DTYPE_I64:
    case CATFISH_DTYPE_U64:
      store(i, uint64_t(bits & 1));
      break;
    case CATFISH_DTYPE_I32:
    case CATFISH_DTYPE_U32:
      store(i, uint32_t(bits & 1));
      break;
    case CATFISH_DTYPE_I16:
    case CATFISH_DTYPE_U16:
      store(i, uint16_t(bits & 1));
      break;
    case CATFISH_DTYPE_I8:
    case CATFISH_DTYPE_U8:
    case CATFISH_DTYPE_BOOL:
      data[i] = static_cast<uint8_t>(bits & 1);
      break;
    case CATFISH_DTYPE_I4:
    case CATFISH_DTYPE_U4:
    case CATFISH_DTYPE_F4E2M1: // 0 or 1 (E2M1 0x1 is 0.5).
      data[i / 2] |= static_cast<uint8_t>((bits & 1) << (i % 2 ? 4 : 0));
      break;
    }
    bool fnuz = dtype == CATFISH_DTYPE_F8E4M3FNUZ || dtype == CATFISH_DTYPE_F8E5M2FNUZ;
    if (fnuz && data[i] == 0x80) // NaN in the FNUZ formats: use +0.
      data[i] = 0;
  }
  return data;
}

bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) {
    error = "cannot read '" + path + "'";
    return false;
  }
  out.resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char *>(out.data()), size)) {
    error = "cannot read '" + path + "'";
    return false;
  }
  return true;
}

} // namespace catfish::tools
