//===- Utils.cpp - helpers shared by the catfish -> linalg patterns ------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::catfish;

namespace mlir::catfish::lowering {

AffineMap broadcastMap(ShapedType operand, ArrayRef<int64_t> resultShape) {
  MLIRContext *context = operand.getContext();
  int64_t rank = resultShape.size();
  int64_t offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (auto [i, dim] : llvm::enumerate(operand.getShape())) {
    int64_t resultDim = offset + i;
    if (dim == 1 && resultShape[resultDim] != 1)
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(resultDim, context));
  }
  return AffineMap::get(rank, 0, exprs, context);
}

Value buildParallelGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                           ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                           ScalarBuilder body) {
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, inputs, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value buildBroadcastGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                            ValueRange inputs, ScalarBuilder body) {
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(cast<ShapedType>(input.getType()), resultType.getShape()));
  return buildParallelGeneric(b, loc, resultType, inputs, maps, body);
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(floatType, value));
  return arith::ConstantOp::create(b, loc,
                                   b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value buildFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value value) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, value.getType());
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

Value buildReduction(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                     Value init, ScalarBuilder combine,
                     function_ref<Value(OpBuilder &, Location, Value)> map) {
  auto inputType = cast<RankedTensorType>(input.getType());
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> outputExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < inputType.getRank(); ++i) {
    if (llvm::is_contained(axes, i)) {
      iterators.push_back(utils::IteratorType::reduction);
      continue;
    }
    iterators.push_back(utils::IteratorType::parallel);
    shape.push_back(inputType.getDimSize(i));
    outputExprs.push_back(getAffineDimExpr(i, context));
  }
  Value filled = buildFilled(b, loc, shape, init);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(inputType.getRank()),
      AffineMap::get(inputType.getRank(), 0, outputExprs, context)};
  auto generic = linalg::GenericOp::create(
      b, loc, filled.getType(), input, filled, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value element = map ? map(nested, nestedLoc, args[0]) : args[0];
        linalg::YieldOp::create(nested, nestedLoc,
                                combine(nested, nestedLoc, {args[1], element}));
      });
  return generic.getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value value, RankedTensorType type) {
  auto sourceType = cast<RankedTensorType>(value.getType());
  if (sourceType.getShape() == type.getShape())
    return value;
  auto flatType = RankedTensorType::get({sourceType.getNumElements()},
                                        sourceType.getElementType());
  Value flat = value;
  if (sourceType.getRank() == 0) {
    flat = tensor::ExpandShapeOp::create(b, loc, flatType, value,
                                         ArrayRef<ReassociationIndices>{});
  } else if (sourceType.getRank() > 1) {
    SmallVector<ReassociationIndices> all = {
        llvm::to_vector(llvm::seq<int64_t>(0, sourceType.getRank()))};
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, value, all);
  }
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                           ArrayRef<ReassociationIndices>{});
  SmallVector<ReassociationIndices> all = {
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))};
  return tensor::ExpandShapeOp::create(b, loc, type, flat, all);
}

Value extractSlice(OpBuilder &b, Location loc, RankedTensorType type, Value source,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> strides) {
  if (type.getNumElements() == 0)
    return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, type, source, ValueRange(), ValueRange(),
                                        ValueRange(), offsets, type.getShape(), strides);
}

Value scalarOf(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> at(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, at);
}

/// Row-major coordinates of the linear index `linear` in `shape`.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> shape) {
  SmallVector<Value> coords(shape.size());
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    Value size = arith::ConstantIndexOp::create(b, loc, shape[i]);
    coords[i] = arith::RemUIOp::create(b, loc, linear, size);
    linear = arith::DivUIOp::create(b, loc, linear, size);
  }
  return coords;
}

SmallVector<Value>
buildLoop(OpBuilder &b, Location loc, Value lower, Value upper, ValueRange init,
          function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)> body) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, lower, upper, one, init,
      [&](OpBuilder &nested, Location nestedLoc, Value iv, ValueRange carried) {
        scf::YieldOp::create(nested, nestedLoc, body(nested, nestedLoc, iv, carried));
      });
  return loop.getResults();
}

void markSequential(Operation *op) {
  if (auto func = op->getParentOfType<func::FuncOp>())
    func->setAttr(kSequentialKernel, UnitAttr::get(op->getContext()));
}

int64_t positiveAxis(int64_t axis, int64_t rank) {
  // The op's verifier already checked the range.
  return *normalizeAxis(std::nullopt, axis, rank);
}

/// -inf / +inf for floats, the minimum / maximum for integers (false / true for i1).
static Value extremeValue(OpBuilder &b, Location loc, Type type, bool highest, bool isUnsigned) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(floatType,
                       APFloat::getInf(floatType.getFloatSemantics(), /*Negative=*/!highest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt value = width == 1 || isUnsigned
                    ? (highest ? APInt::getMaxValue(width) : APInt::getMinValue(width))
                    : (highest ? APInt::getSignedMaxValue(width)
                               : APInt::getSignedMinValue(width));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  return extremeValue(b, loc, type, /*highest=*/false, isUnsigned);
}

Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  return extremeValue(b, loc, type, /*highest=*/true, isUnsigned);
}

Value addScalar(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, loc, x, y);
  return arith::AddIOp::create(b, loc, x, y);
}

Value mulScalar(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MulFOp::create(b, loc, x, y);
  return arith::MulIOp::create(b, loc, x, y);
}

Value maxScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return arith::MaximumFOp::create(b, loc, x, y);
  // Booleans order false < true, which signed i1 (true = -1) would invert.
  if (isUnsigned || x.getType().isInteger(1))
    return arith::MaxUIOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value minScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return arith::MinimumFOp::create(b, loc, x, y);
  if (isUnsigned || x.getType().isInteger(1))
    return arith::MinUIOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

bool hasUnsignedOperands(Operation *op) { return op->hasAttr(kUnsignedOperands); }
bool hasUnsignedResults(Operation *op) { return op->hasAttr(kUnsignedResults); }

LogicalResult checkSupportedTypes(Operation *op, PatternRewriter &rewriter) {
  auto supported = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return false;
    Type element = tensor.getElementType();
    if (auto integer = dyn_cast<IntegerType>(element))
      return integer.isSignless() && integer.getWidth() >= 1;
    return element.isF16() || element.isBF16() || element.isF32() || element.isF64() ||
           isSmallFloat(element);
  };
  for (Type type : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (!supported(type))
      return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
        diag << "unsupported tensor type " << type;
      });
  return success();
}

} // namespace mlir::catfish::lowering
