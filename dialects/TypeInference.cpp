//===- TypeInference.cpp - shape helpers shared by the ops' inference ----===//
#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::catfish;

bool catfish::areCompatibleResultTypes(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [a, b] : llvm::zip(inferred, actual)) {
    auto ta = dyn_cast<ShapedType>(a);
    auto tb = dyn_cast<ShapedType>(b);
    if (!ta || !tb) {
      if (a != b)
        return false;
      continue;
    }
    if (ta.getElementType() != tb.getElementType() || failed(verifyCompatibleShape(ta, tb)))
      return false;
  }
  return true;
}

std::optional<SmallVector<int64_t>> catfish::getConstantIntValues(Value value) {
  DenseIntElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> values;
  values.reserve(attr.getNumElements());
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(isUnsigned ? static_cast<int64_t>(v.getZExtValue()) : v.getSExtValue());
  return values;
}

std::optional<double> catfish::getConstantFloatSplat(Value value) {
  DenseFPElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

std::optional<ArrayRef<float>> catfish::getConstantF32Values(Value value,
                                                             std::vector<float> &storage) {
  auto type = value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  ArrayRef<char> bytes = getConstantRawBytes(value);
  if (!bytes.empty())
    return ArrayRef<float>(reinterpret_cast<const float *>(bytes.data()), type.getNumElements());
  std::optional<double> splat = getConstantFloatSplat(value);
  if (!splat)
    return std::nullopt;
  storage.assign(type.getNumElements(), static_cast<float>(*splat));
  return ArrayRef<float>(storage);
}

ArrayRef<char> catfish::getConstantRawBytes(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : nullptr;
  auto type = constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
  if (!type || !type.getElementType().isIntOrFloat() ||
      type.getElementType().getIntOrFloatBitWidth() % 8 != 0)
    return {};
  size_t size = static_cast<size_t>(type.getNumElements()) *
                (type.getElementType().getIntOrFloatBitWidth() / 8);
  ArrayRef<char> bytes;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue())) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      bytes = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
    if (!dense.isSplat())
      bytes = dense.getRawData();
  }
  return bytes.size() == size ? bytes : ArrayRef<char>();
}

ElementsAttr catfish::createWeightsAttr(RankedTensorType type, ArrayRef<char> bytes,
                                        StringRef name) {
  // Below the importer's threshold for blobs (lib/Import/Tensors.cpp), dense.
  constexpr size_t kMaxDenseBytes = 1023;
  if (bytes.size() <= kMaxDenseBytes)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  size_t align = type.getElementType().getIntOrFloatBitWidth() / 8;
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, align));
}

Value catfish::createI64Constant(OpBuilder &builder, Location loc, int64_t value) {
  auto type = RankedTensorType::get({1}, builder.getI64Type());
  return ConstantOp::create(builder, loc,
                            cast<ElementsAttr>(DenseIntElementsAttr::get(type, {value})));
}

int64_t catfish::broadcastSourceIndex(ArrayRef<int64_t> resultShape,
                                      ArrayRef<int64_t> operandShape, int64_t flat) {
  int64_t offset = 0, stride = 1;
  size_t lead = resultShape.size() - operandShape.size();
  for (int64_t i = resultShape.size() - 1; i >= 0; --i) {
    int64_t coord = flat % resultShape[i];
    flat /= resultShape[i];
    if (i < static_cast<int64_t>(lead))
      continue;
    int64_t dim = operandShape[i - lead];
    offset += (dim == 1 ? 0 : coord) * stride;
    stride *= dim;
  }
  return offset;
}

/// "[?, 3, 4]": dynamic dims as '?'.
static std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    text += (i ? ", " : "") + (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return text + "]";
}

FailureOr<SmallVector<int64_t>> catfish::broadcastShapes(std::optional<Location> loc,
                                                         ArrayRef<int64_t> lhs,
                                                         ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l == 1) {
      result[i] = r;
    } else if (r == 1 || l == r) {
      result[i] = l;
    } else if (ShapedType::isDynamic(l) || ShapedType::isDynamic(r)) {
      result[i] = ShapedType::isDynamic(l) ? r : l;
    } else {
      return emitOptionalError(loc, "shapes ", shapeText(lhs), " and ", shapeText(rhs),
                               " are not broadcast-compatible (dim ", i, ": ", l, " vs ", r,
                               ")");
    }
  }
  return result;
}

FailureOr<int64_t> catfish::normalizeAxis(std::optional<Location> loc, int64_t axis,
                                          int64_t rank, StringRef what) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    return emitOptionalError(loc, what, " ", axis, " is out of range for rank ", rank);
  return normalized;
}

LogicalResult catfish::inferSameType(std::optional<Location>, Value input,
                                     SmallVectorImpl<Type> &inferred) {
  inferred.push_back(input.getType());
  return success();
}

LogicalResult catfish::inferPredicateType(std::optional<Location>, Value input,
                                          SmallVectorImpl<Type> &inferred) {
  auto type = cast<ShapedType>(input.getType());
  inferred.push_back(type.clone(IntegerType::get(input.getContext(), 1)));
  return success();
}

static LogicalResult inferBroadcast(std::optional<Location> loc, Value lhs, Value rhs,
                                    Type elementType, bool requireSameElement,
                                    SmallVectorImpl<Type> &inferred) {
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  if (requireSameElement && lt.getElementType() != rt.getElementType())
    return emitOptionalError(loc, "operand element types differ: ", lt.getElementType(),
                             " vs ", rt.getElementType());
  FailureOr<SmallVector<int64_t>> shape = broadcastShapes(loc, lt.getShape(), rt.getShape());
  if (failed(shape))
    return failure();
  inferred.push_back(RankedTensorType::get(*shape, elementType));
  return success();
}

LogicalResult catfish::inferBroadcastSameElement(std::optional<Location> loc, Value lhs,
                                                 Value rhs, SmallVectorImpl<Type> &inferred) {
  return inferBroadcast(loc, lhs, rhs, getElementTypeOrSelf(lhs), true, inferred);
}

LogicalResult catfish::inferBroadcastLhsElement(std::optional<Location> loc, Value lhs,
                                                Value rhs, SmallVectorImpl<Type> &inferred) {
  return inferBroadcast(loc, lhs, rhs, getElementTypeOrSelf(lhs), false, inferred);
}

LogicalResult catfish::inferBroadcastPredicate(std::optional<Location> loc, Value lhs,
                                               Value rhs, SmallVectorImpl<Type> &inferred) {
  return inferBroadcast(loc, lhs, rhs, IntegerType::get(lhs.getContext(), 1), true, inferred);
}

LogicalResult catfish::inferBroadcastLhsShape(std::optional<Location> loc, Value lhs, Value rhs,
                                              SmallVectorImpl<Type> &inferred) {
  SmallVector<Type> broadcast;
  if (failed(inferBroadcast(loc, lhs, rhs, getElementTypeOrSelf(lhs), true, broadcast)))
    return failure();
  auto lt = cast<RankedTensorType>(lhs.getType());
  if (failed(verifyCompatibleShape(lt, cast<ShapedType>(broadcast.front()))))
    return emitOptionalError(loc, "rhs of shape [",
                             cast<ShapedType>(rhs.getType()).getShape(),
                             "] must broadcast to the lhs shape [", lt.getShape(), "]");
  inferred.push_back(lt);
  return success();
}
