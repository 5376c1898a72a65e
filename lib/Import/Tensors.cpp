//===- Tensors.cpp - ONNX TensorProto -> ElementsAttr --------------------===//
#include "ImporterImpl.h"
#include "catfish/Import/OnnxModel.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::catfish::onnx_import;
using llvm::createStringError;

/// Tensors at least this large become resource blobs; smaller ones stay DenseElementsAttr so
/// that folders (shape arithmetic) can read them.
static constexpr size_t kResourceThresholdBytes = 1024;

Type mlir::catfish::onnx_import::onnxElementType(MLIRContext *ctx, int32_t dataType) {
  Builder b(ctx);
  auto si = [&](unsigned w) { return IntegerType::get(ctx, w); };
  auto ui = [&](unsigned w) { return IntegerType::get(ctx, w, IntegerType::Unsigned); };
  switch (dataType) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case 17: return b.getType<Float8E4M3FNType>();
  case 18: return b.getType<Float8E4M3FNUZType>();
  case 19: return b.getType<Float8E5M2Type>();
  case 20: return b.getType<Float8E5M2FNUZType>();
  case 23: return b.getType<Float4E2M1FNType>();
  case onnx::TensorProto::BOOL: return si(1);
  case onnx::TensorProto::INT8: return si(8);
  case onnx::TensorProto::INT16: return si(16);
  case onnx::TensorProto::INT32: return si(32);
  case onnx::TensorProto::INT64: return si(64);
  case onnx::TensorProto::UINT8: return ui(8);
  case onnx::TensorProto::UINT16: return ui(16);
  case onnx::TensorProto::UINT32: return ui(32);
  case onnx::TensorProto::UINT64: return ui(64);
  case 21: return ui(4);
  case 22: return si(4);
  default: return nullptr;
  }
}

StringRef mlir::catfish::onnx_import::onnxDataTypeName(int32_t dataType) {
  static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",       "INT8",       "UINT16",
                                "INT16",     "INT32",  "INT64",       "STRING",     "BOOL",
                                "FLOAT16",   "DOUBLE", "UINT32",      "UINT64",     "COMPLEX64",
                                "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
                                "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"};
  if (dataType < 0 || dataType >= static_cast<int32_t>(std::size(names)))
    return "UNKNOWN";
  return names[dataType];
}

/// Bytes per element as stored by MLIR (sub-byte types take one byte each), 0 for i1.
static unsigned storageBytes(Type type) {
  unsigned bits = type.getIntOrFloatBitWidth();
  return bits == 1 ? 0 : (bits + 7) / 8;
}

static bool isFourBit(Type type) { return type.getIntOrFloatBitWidth() == 4; }

/// Bytes that ONNX uses for `count` elements of `type` in raw_data / external data.
static uint64_t onnxByteSize(Type type, uint64_t count) {
  if (isFourBit(type))
    return (count + 1) / 2;
  unsigned bits = type.getIntOrFloatBitWidth();
  return count * (bits == 1 ? 1 : bits / 8);
}

/// Builds the attribute from ONNX-layout bytes. `owner` keeps `bytes` alive; when it is set and
/// the tensor is large, the blob refers to the bytes instead of copying them.
static ElementsAttr fromOnnxBytes(RankedTensorType type, StringRef name, ArrayRef<char> bytes,
                                  std::shared_ptr<void> owner) {
  Type et = type.getElementType();
  int64_t count = type.getNumElements();
  if (et.isInteger(1)) {
    SmallVector<bool> values(count);
    for (int64_t i = 0; i < count; ++i)
      values[i] = bytes[i] != 0;
    return DenseElementsAttr::get(type, values);
  }
  if (isFourBit(et)) {
    bool sign = et.isSignedInteger() || et.isSignlessInteger();
    std::vector<char> unpacked(count);
    for (int64_t i = 0; i < count; ++i) {
      uint8_t nibble = (static_cast<uint8_t>(bytes[i / 2]) >> (4 * (i % 2))) & 0xF;
      unpacked[i] = static_cast<char>(sign && (nibble & 0x8) && isa<IntegerType>(et)
                                          ? nibble | 0xF0
                                          : nibble);
    }
    return DenseElementsAttr::getFromRawBuffer(type, unpacked);
  }
  unsigned width = storageBytes(et);
  if (bytes.size() < kResourceThresholdBytes)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  std::string blobName;
  for (char c : name)
    blobName.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (blobName.empty() || !llvm::isAlpha(blobName.front()))
    blobName.insert(0, "w_");
  bool aligned = reinterpret_cast<uintptr_t>(bytes.data()) % width == 0;
  if (!owner || !aligned)
    return DenseResourceElementsAttr::get(
        type, blobName, HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, width));
  AsmResourceBlob blob(
      bytes, width, [owner = std::move(owner)](void *, size_t, size_t) mutable { owner.reset(); },
      /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(type, blobName, std::move(blob));
}

/// Re-encodes the typed repeated fields (float_data, int32_data, ...) as ONNX raw bytes.
static llvm::Expected<std::vector<char>> typedFieldBytes(const onnx::TensorProto &t, Type et,
                                                         uint64_t count) {
  std::vector<char> bytes;
  auto append = [&](const void *p, size_t n) {
    bytes.insert(bytes.end(), static_cast<const char *>(p), static_cast<const char *>(p) + n);
  };
  auto expect = [&](int have, uint64_t need) -> llvm::Error {
    if (static_cast<uint64_t>(have) != need)
      return createStringError("has " + Twine(have) + " values but its shape needs " +
                               Twine(need));
    return llvm::Error::success();
  };
  int32_t dt = t.data_type();
  if (dt == onnx::TensorProto::FLOAT) {
    if (auto err = expect(t.float_data_size(), count))
      return std::move(err);
    append(t.float_data().data(), count * 4);
  } else if (dt == onnx::TensorProto::DOUBLE) {
    if (auto err = expect(t.double_data_size(), count))
      return std::move(err);
    append(t.double_data().data(), count * 8);
  } else if (dt == onnx::TensorProto::INT64) {
    if (auto err = expect(t.int64_data_size(), count))
      return std::move(err);
    append(t.int64_data().data(), count * 8);
  } else if (dt == onnx::TensorProto::UINT32 || dt == onnx::TensorProto::UINT64) {
    if (auto err = expect(t.uint64_data_size(), count))
      return std::move(err);
    for (uint64_t v : t.uint64_data())
      append(&v, dt == onnx::TensorProto::UINT32 ? 4 : 8);
  } else {
    // int32_data carries every narrower type; 4-bit types hold one packed byte per entry.
    uint64_t need = isFourBit(et) ? (count + 1) / 2 : count;
    if (auto err = expect(t.int32_data_size(), need))
      return std::move(err);
    unsigned width = isFourBit(et) || et.isInteger(1) ? 1 : et.getIntOrFloatBitWidth() / 8;
    for (int32_t v : t.int32_data())
      append(&v, width);
  }
  return bytes;
}

/// The bytes of `tensor`'s external data (`need` of them unless its `length` says otherwise),
/// kept mapped while `keepAlive` lives.
static llvm::Expected<ArrayRef<char>> readExternal(const onnx::TensorProto &tensor,
                                                   ExternalData &external, uint64_t need,
                                                   std::shared_ptr<void> &keepAlive) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t v;
      if (StringRef(entry.value()).getAsInteger(10, v))
        return createStringError("malformed external data " + entry.key() + " '" +
                                 entry.value() + "'");
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  return external.read(location, offset, length < 0 ? static_cast<int64_t>(need) : length,
                       keepAlive);
}

llvm::Expected<ElementsAttr>
mlir::catfish::onnx_import::importTensor(MLIRContext *ctx, onnx::TensorProto &tensor,
                                         ExternalData &external) {
  const std::string &name = tensor.name();
  Type et = onnxElementType(ctx, tensor.data_type());
  if (!et)
    return createStringError("tensor '" + name + "' has unsupported element type " +
                             onnxDataTypeName(tensor.data_type()));
  SmallVector<int64_t> dims;
  uint64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return createStringError("tensor '" + name + "' has a negative dim " + Twine(d));
    if (d != 0 && count > (uint64_t(1) << 48) / static_cast<uint64_t>(d))
      return createStringError("tensor '" + name + "' is absurdly large");
    count *= d;
    dims.push_back(d);
  }
  auto type = RankedTensorType::get(dims, et);
  uint64_t need = onnxByteSize(et, count);
  auto shapeText = [&] {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << type;
    return s;
  };

  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::shared_ptr<void> keepAlive;
    auto bytes = readExternal(tensor, external, need, keepAlive);
    if (!bytes)
      return createStringError("tensor '" + name + "': " + llvm::toString(bytes.takeError()));
    if (bytes->size() != need)
      return createStringError("tensor '" + name + "' has " + Twine(bytes->size()) +
                               " bytes of external data but " + shapeText() + " needs " +
                               Twine(need));
    return fromOnnxBytes(type, name, *bytes, std::move(keepAlive));
  }

  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != need)
      return createStringError("tensor '" + name + "' has " + Twine(tensor.raw_data().size()) +
                               " bytes of data but " + shapeText() + " needs " + Twine(need));
    std::shared_ptr<std::string> owned(tensor.release_raw_data());
    ArrayRef<char> bytes(owned->data(), owned->size());
    return fromOnnxBytes(type, name, bytes, std::move(owned));
  }
  if (tensor.data_type() == onnx::TensorProto::STRING)
    return createStringError("tensor '" + name + "' holds strings, which are not supported");
  auto bytes = typedFieldBytes(tensor, et, count);
  if (!bytes)
    return createStringError("tensor '" + name + "' " + llvm::toString(bytes.takeError()));
  auto owned = std::make_shared<std::vector<char>>(std::move(*bytes));
  ArrayRef<char> view(owned->data(), owned->size());
  return fromOnnxBytes(type, name, view, std::move(owned));
}

llvm::Expected<std::vector<float>>
mlir::catfish::readFloatTensor(const onnx::TensorProto &tensor, StringRef modelDir) {
  const std::string &name = tensor.name();
  if (tensor.data_type() != onnx::TensorProto::FLOAT)
    return createStringError("tensor '" + name + "' is " + onnxDataTypeName(tensor.data_type()) +
                             ", not f32");
  // Read into a vector, not an attribute: the context would keep a blob of every weight.
  uint64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d != 0 && count > (uint64_t(1) << 48) / static_cast<uint64_t>(d)))
      return createStringError("tensor '" + name + "' has an invalid dim " + Twine(d));
    count *= d;
  }
  std::vector<float> values(count);
  uint64_t need = count * sizeof(float);
  auto copyBytes = [&](ArrayRef<char> bytes) -> llvm::Expected<std::vector<float>> {
    if (bytes.size() != need)
      return createStringError("tensor '" + name + "' has " + Twine(bytes.size()) +
                               " bytes of data but needs " + Twine(need));
    std::memcpy(values.data(), bytes.data(), need);
    return std::move(values);
  };
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    ExternalData external{modelDir.str()};
    std::shared_ptr<void> keepAlive;
    auto bytes = readExternal(tensor, external, need, keepAlive);
    if (!bytes)
      return createStringError("tensor '" + name + "': " + llvm::toString(bytes.takeError()));
    return copyBytes(*bytes);
  }
  if (tensor.has_raw_data())
    return copyBytes(ArrayRef(tensor.raw_data().data(), tensor.raw_data().size()));
  if (static_cast<uint64_t>(tensor.float_data_size()) != count)
    return createStringError("tensor '" + name + "' has " + Twine(tensor.float_data_size()) +
                             " values but needs " + Twine(count));
  llvm::copy(tensor.float_data(), values.begin());
  return values;
}
