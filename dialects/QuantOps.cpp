//===- QuantOps.cpp - explicit quantize / dequantize ---------------------===//
#include "catfish/Dialect/Catfish.h"

using namespace mlir;
using namespace mlir::catfish;

/// Checks that `scale` (and `zeroPoint`) fit `data` as per-tensor, per-axis or block-wise
/// parameters, as described on catfish.quantize.
static LogicalResult verifyQuantParams(Operation *op, RankedTensorType data, Value scale,
                                       Value zeroPoint, int64_t axis, int64_t blockSize) {
  auto scaleType = cast<RankedTensorType>(scale.getType());
  if (!isa<FloatType>(scaleType.getElementType()))
    return op->emitOpError("scale must be a float tensor, got ") << scaleType;
  // A single zero point may be [] or [1] whatever the single scale's shape.
  auto zeroType = zeroPoint ? cast<ShapedType>(zeroPoint.getType()) : ShapedType();
  bool bothSingle = zeroType && zeroType.hasStaticShape() && scaleType.hasStaticShape() &&
                    zeroType.getNumElements() == 1 && scaleType.getNumElements() == 1;
  if (zeroType && !bothSingle && zeroType.getShape() != scaleType.getShape())
    return op->emitOpError("zero_point shape differs from the scale shape");
  if (scaleType.getNumElements() == 1 && blockSize == 0)
    return success();
  FailureOr<int64_t> a = normalizeAxis(op->getLoc(), axis, data.getRank());
  if (failed(a))
    return failure();
  int64_t dim = data.getDimSize(*a);
  if (blockSize == 0) {
    if (scaleType.getRank() != 1 ||
        (!ShapedType::isDynamic(dim) && scaleType.getDimSize(0) != dim))
      return op->emitOpError("per-axis scale must be 1-D with ")
             << dim << " entries (dim " << *a << " of " << data << "), got " << scaleType;
    return success();
  }
  if (blockSize < 0)
    return op->emitOpError("block_size must be positive");
  if (scaleType.getRank() != data.getRank())
    return op->emitOpError("block-wise scale must have the data's rank ") << data.getRank();
  for (int64_t i = 0; i < data.getRank(); ++i) {
    int64_t expected = data.getDimSize(i);
    if (i == *a && !ShapedType::isDynamic(expected))
      expected = llvm::divideCeil(expected, blockSize);
    if (!ShapedType::isDynamic(expected) && scaleType.getDimSize(i) != expected)
      return op->emitOpError("block-wise scale dim ")
             << i << " is " << scaleType.getDimSize(i) << ", expected " << expected;
  }
  return success();
}

LogicalResult QuantizeOp::verify() {
  if (failed(verifyCompatibleShape(getInput().getType(), getOutput().getType())))
    return emitOpError("result shape differs from the input shape");
  Type out = getElementTypeOrSelf(getOutput());
  if (!isa<IntegerType, Float8E4M3FNType, Float8E5M2Type, Float8E4M3FNUZType,
           Float8E5M2FNUZType, Float4E2M1FNType>(out))
    return emitOpError("result element type must be an integer or float8/float4 type, got ")
           << out;
  if (getZeroPoint() && getElementTypeOrSelf(getZeroPoint()) != out)
    return emitOpError("zero_point element type must be the result's (") << out << ")";
  return verifyQuantParams(*this, cast<RankedTensorType>(getInput().getType()), getScale(),
                           getZeroPoint(), getAxis(), getBlockSize());
}

LogicalResult DequantizeOp::verify() {
  if (failed(verifyCompatibleShape(getInput().getType(), getOutput().getType())))
    return emitOpError("result shape differs from the input shape");
  if (!isa<FloatType>(getElementTypeOrSelf(getOutput())))
    return emitOpError("result must be a float tensor");
  if (getZeroPoint() &&
      getElementTypeOrSelf(getZeroPoint()) != getElementTypeOrSelf(getInput()))
    return emitOpError("zero_point element type must be the input's");
  return verifyQuantParams(*this, cast<RankedTensorType>(getInput().getType()), getScale(),
                           getZeroPoint(), getAxis(), getBlockSize());
}
