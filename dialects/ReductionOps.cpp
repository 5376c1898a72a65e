//===- ReductionOps.cpp - reductions, arg reductions, top-k --------------===//
#include "catfish/Dialect/Catfish.h"

using namespace mlir;
using namespace mlir::catfish;

/// The shape after reducing `axes` (all dims when empty) of `shape`.
static FailureOr<SmallVector<int64_t>> reducedShape(std::optional<Location> loc,
                                                    ArrayRef<int64_t> shape,
                                                    ArrayRef<int64_t> axes, bool keepdims) {
  int64_t rank = shape.size();
  SmallVector<bool> reduced(rank, axes.empty());
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(loc, axis, rank, "reduction axis");
    if (failed(a))
      return failure();
    if (reduced[*a])
      return emitOptionalError(loc, "reduction axis ", axis, " is repeated");
    reduced[*a] = true;
  }
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      dims.push_back(shape[i]);
    else if (keepdims)
      dims.push_back(1);
  }
  return dims;
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<SmallVector<int64_t>> dims =
      reducedShape(loc, input.getShape(), adaptor.getAxes(), adaptor.getKeepdims());
  if (failed(dims))
    return failure();
  inferred.push_back(RankedTensorType::get(*dims, input.getElementType()));
  return success();
}

/// Sum, product, max or min of integer constants (shape arithmetic: ReduceProd of a shape).
static Attribute foldIntReduce(DenseIntElementsAttr input, RankedTensorType type, ReduceKind kind,
                               ArrayRef<int64_t> axes) {
  if (kind == ReduceKind::mean || !type.hasStaticShape() ||
      input.getNumElements() > kMaxFoldElements)
    return {};
  ArrayRef<int64_t> shape = input.getType().getShape();
  // With keepdims the reduced shape broadcasts back over the input: the output element of
  // input element i is its broadcast source (the order is the same without keepdims).
  FailureOr<SmallVector<int64_t>> kept = reducedShape(std::nullopt, shape, axes, true);
  if (failed(kept))
    return {};
  // Booleans compare unsigned (true > false), as the kernels do.
  Type et = input.getElementType();
  bool isUnsigned = et.isUnsignedInteger() || et.isInteger(1);
  unsigned width = input.getElementType().getIntOrFloatBitWidth();
  std::optional<APInt> start;
  if (kind == ReduceKind::sum || kind == ReduceKind::prod)
    start = APInt(width, kind == ReduceKind::prod ? 1 : 0);
  SmallVector<std::optional<APInt>> acc(type.getNumElements(), start);
  auto values = input.getValues<APInt>();
  for (int64_t i = 0, e = input.getNumElements(); i < e; ++i) {
    const APInt &v = values[i];
    std::optional<APInt> &a = acc[broadcastSourceIndex(shape, *kept, i)];
    if (!a)
      a = v;
    else if (kind == ReduceKind::sum)
      *a += v;
    else if (kind == ReduceKind::prod)
      *a *= v;
    else if (kind == ReduceKind::max)
      a = isUnsigned ? llvm::APIntOps::umax(*a, v) : llvm::APIntOps::smax(*a, v);
    else
      a = isUnsigned ? llvm::APIntOps::umin(*a, v) : llvm::APIntOps::smin(*a, v);
  }
  SmallVector<APInt> results;
  for (const std::optional<APInt> &a : acc) {
    if (!a)
      return {}; // max or min over an empty dim
    results.push_back(*a);
  }
  return DenseElementsAttr::get(type, results);
}

OpFoldResult ReduceOp::fold(FoldAdaptor adaptor) {
  if (auto ints = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput()))
    if (Attribute folded = foldIntReduce(ints, getType(), getKind(), getAxes()))
      return folded;
  // Reducing only size-1 dims with keepdims changes nothing for sum/mean/max/min/prod.
  RankedTensorType input = getInput().getType();
  if (input != getType() || !input.hasStaticShape())
    return {};
  for (int64_t axis : getAxes())
    if (input.getDimSize(axis < 0 ? axis + input.getRank() : axis) != 1)
      return {};
  if (getAxes().empty() && input.getNumElements() != 1)
    return {};
  return getInput();
}

static LogicalResult inferArgReduce(std::optional<Location> loc, Value input, int64_t axis,
                                    bool keepdims, SmallVectorImpl<Type> &inferred) {
  auto type = cast<RankedTensorType>(input.getType());
  FailureOr<SmallVector<int64_t>> dims =
      reducedShape(loc, type.getShape(), {axis}, keepdims);
  if (failed(dims))
    return failure();
  inferred.push_back(RankedTensorType::get(*dims, IntegerType::get(input.getContext(), 64)));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferArgReduce(loc, adaptor.getInput(), adaptor.getAxis(), adaptor.getKeepdims(),
                        inferred);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  return inferArgReduce(loc, adaptor.getInput(), adaptor.getAxis(), adaptor.getKeepdims(),
                        inferred);
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  int64_t k = adaptor.getK();
  if (k < 0 || (!input.isDynamicDim(*axis) && k > input.getDimSize(*axis)))
    return emitOptionalError(loc, "topk k = ", k, " is out of range for dim ", *axis, " of ",
                             input);
  SmallVector<int64_t> dims(input.getShape());
  dims[*axis] = k;
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  inferred.push_back(RankedTensorType::get(dims, IntegerType::get(ctx, 64)));
  return success();
}
