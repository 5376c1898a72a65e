//===- onnx_tensor.cpp - reading ONNX TensorProto files --------------------===//

#include "onnx_tensor.h"

#include <cstring>

namespace catfish::tools {
namespace {

/// onnx.TensorProto.DataType values.
enum OnnxType : int64_t {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13,
  kBfloat16 = 16, kFloat8E4M3FN = 17, kFloat8E4M3FNUZ = 18, kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20, kUint4 = 21, kInt4 = 22, kFloat4E2M1 = 23,
};

bool dtypeFromOnnx(int64_t type, catfish_dtype_t &out) {
  switch (type) {
  case kFloat: out = CATFISH_DTYPE_F32; return true;
  case kUint8: out = CATFISH_DTYPE_U8; return true;
  case kInt8: out = CATFISH_DTYPE_I8; return true;
  case kUint16: out = CATFISH_DTYPE_U16; return true;
  case kInt16: out = CATFISH_DTYPE_I16; return true;
  case kInt32: out = CATFISH_DTYPE_I32; return true;
  case kInt64: out = CATFISH_DTYPE_I64; return true;
  case kBool: out = CATFISH_DTYPE_BOOL; return true;
  case kFloat16: out = CATFISH_DTYPE_F16; return true;
  case kDouble: out = CATFISH_DTYPE_F64; return true;
  case kUint32: out = CATFISH_DTYPE_U32; return true;
  case kUint64: out = CATFISH_DTYPE_U64; return true;
  case kBfloat16: out = CATFISH_DTYPE_BF16; return true;
  case kFloat8E4M3FN: out = CATFISH_DTYPE_F8E4M3FN; return true;
  case kFloat8E5M2: out = CATFISH_DTYPE_F8E5M2; return true;
  case kFloat8E4M3FNUZ: out = CATFISH_DTYPE_F8E4M3FNUZ; return true;
  case kFloat8E5M2FNUZ: out = CATFISH_DTYPE_F8E5M2FNUZ; return true;
  case kInt4: out = CATFISH_DTYPE_I4; return true;
  case kUint4: out = CATFISH_DTYPE_U4; return true;
  case kFloat4E2M1: out = CATFISH_DTYPE_F4E2M1; return true;
  default: return false;
  }
}

class WireReader {
public:
  WireReader(const uint8_t *begin, const uint8_t *end) : at_(begin), end_(end) {}
  bool done() const { return at_ == end_; }

  bool varint(uint64_t &out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_)
        return false;
      uint8_t byte = *at_++;
      out |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }
  bool fixed(size_t width, uint64_t &out) {
    if (size_t(end_ - at_) < width)
      return false;
    out = 0;
    std::memcpy(&out, at_, width);
    at_ += width;
    return true;
  }
  bool bytes(const uint8_t *&outBegin, size_t &outSize) {
    uint64_t length;
    if (!varint(length) || length > uint64_t(end_ - at_))
      return false;
    outBegin = at_;
    outSize = static_cast<size_t>(length);
    at_ += length;
    return true;
  }
  /// Skips a field of wire type `wireType`.
  bool skip(uint32_t wireType) {
    uint64_t ignored;
    const uint8_t *begin;
    size_t size;
    switch (wireType) {
    case 0: return varint(ignored);
    case 1: return fixed(8, ignored);
    case 2: return bytes(begin, size);
    case 5: return fixed(4, ignored);
    default: return false;
    }
  }

private:
  const uint8_t *at_;
  const uint8_t *end_;
};

/// Appends the values of a repeated scalar field, packed (wire type 2) or not.
bool readRepeated(WireReader &reader, uint32_t wireType, uint32_t scalarWireType, size_t width,
                  std::vector<uint64_t> &out) {
  auto one = [&](WireReader &r) {
    uint64_t value;
    if (!(scalarWireType == 0 ? r.varint(value) : r.fixed(width, value)))
      return false;
    out.push_back(value);
    return true;
  };
  if (wireType == scalarWireType)
    return one(reader);
  if (wireType != 2)
    return false;
  const uint8_t *begin;
  size_t size;
  if (!reader.bytes(begin, size))
    return false;
  WireReader packed(begin, begin + size);
  while (!packed.done())
    if (!one(packed))
      return false;
  return true;
}

} // namespace

bool parseTensorProto(const uint8_t *bytes, size_t size, const std::string &name, HostTensor &out,
                      std::string &outTensorName, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "'" + name + "' is not a valid ONNX TensorProto: " + what;
    return false;
  };
  WireReader reader(bytes, bytes + size);
  std::vector<uint64_t> dims, floats, int32s, int64s, doubles, uint64s;
  int64_t dataType = 0;
  bool haveRaw = false;
  const uint8_t *raw = nullptr;
  size_t rawSize = 0;
  while (!reader.done()) {
    uint64_t key;
    if (!reader.varint(key) || key >> 3 == 0 || key >> 3 > UINT32_MAX)
      return fail("malformed field key");
    uint32_t field = static_cast<uint32_t>(key >> 3), wireType = key & 7;
    bool ok = true;
    switch (field) {
    case 1: ok = readRepeated(reader, wireType, 0, 0, dims); break;
    case 2: {
      uint64_t value = 0;
      ok = wireType == 0 && reader.varint(value);
      dataType = static_cast<int64_t>(value);
      break;
    }
    case 4: ok = readRepeated(reader, wireType, 5, 4, floats); break;
    case 5: ok = readRepeated(reader, wireType, 0, 0, int32s); break;
    case 6: return fail("string tensors (string_data) are not supported");
    case 7: ok = readRepeated(reader, wireType, 0, 0, int64s); break;
    case 8: {
      const uint8_t *begin;
      size_t length;
      ok = wireType == 2 && reader.bytes(begin, length);
      if (ok)
        outTensorName.assign(reinterpret_cast<const char *>(begin), length);
      break;
    }
    case 9:
      ok = wireType == 2 && reader.bytes(raw, rawSize);
      haveRaw = ok;
      break;
    case 10: ok = readRepeated(reader, wireType, 1, 8, doubles); break;
    case 11: ok = readRepeated(reader, wireType, 0, 0, uint64s); break;
    case 14: {
      uint64_t location;
      ok = wireType == 0 && reader.varint(location);
      if (ok && location == 1)
        return fail("external data is not supported; embed the data in the file");
      break;
    }
    default: ok = reader.skip(wireType); break;
    }
    if (!ok)
      return fail("malformed field " + std::to_string(field));
  }

  if (dataType == kString)
    return fail("string tensors are not supported");
  if (!dtypeFromOnnx(dataType, out.dtype))
    return fail("unsupported data_type " + std::to_string(dataType));
  out.shape.clear();
  for (uint64_t dim : dims) {
    if (dim > uint64_t(INT64_MAX))
      return fail("negative dim");
    out.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t count, byteSize;
  size_t bits = catfish_dtype_bit_width(out.dtype);
  if (!elementCount(out.shape, count) || __builtin_mul_overflow(count, uint64_t(bits), &byteSize))
    return fail("shape too large");
  byteSize = (byteSize + 7) / 8;
  if (byteSize > SIZE_MAX)
    return fail("shape too large");

  if (haveRaw) {
    if (rawSize != byteSize)
      return fail("raw_data is " + std::to_string(rawSize) + " bytes; shape " +
                  shapeText(out.shape) + " of " + catfish_dtype_name(out.dtype) + " needs " +
                  std::to_string(byteSize));
    out.data.assign(raw, raw + rawSize);
    return true;
  }

  // Typed fields: which one holds the values, and how many there must be.
  const std::vector<uint64_t> *values = &int32s;
  const char *field = "int32_data";
  uint64_t expected = count;
  switch (out.dtype) {
  case CATFISH_DTYPE_F32: values = &floats; field = "float_data"; break;
  case CATFISH_DTYPE_F64: values = &doubles; field = "double_data"; break;
  case CATFISH_DTYPE_I64: values = &int64s; field = "int64_data"; break;
  case CATFISH_DTYPE_U32:
  case CATFISH_DTYPE_U64: values = &uint64s; field = "uint64_data"; break;
  case CATFISH_DTYPE_I4:
  case CATFISH_DTYPE_U4:
  case CATFISH_DTYPE_F4E2M1: expected = byteSize; break; // One packed byte per int32.
  default: break;
  }
  if (values->size() != expected)
    return fail(std::string(field) + " has " + std::to_string(values->size()) + " values; shape " +
                shapeText(out.shape) + " needs " + std::to_string(expected));
  out.data.assign(static_cast<size_t>(byteSize), 0);
  size_t width = bits == 4 ? 1 : bits / 8;
  for (size_t i = 0; i < values->size(); ++i) {
    uint64_t value = (*values)[i]; // Little-endian host: the low bytes are the element.
    std::memcpy(out.data.data() + i * width, &value, width);
  }
  return true;
}

} // namespace catfish::tools
