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

OpFoldResult ReduceOp::fold(FoldAdaptor) {
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
