//===- Quantization.cpp - catfish.quantize / dequantize -> linalg.generic -===//
//
// Both ops become one parallel generic over the data. The scale and zero point are read
// through an indexing map for their layout: every element for a per-tensor scale, the axis
// index for a per-axis scale, and the axis index divided by the block size for a block-wise
// one. Arithmetic is in f32 (f64 for f64 data), as ONNX's reference computes it.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

/// The map reading a scale (or zero point) of `paramType` for data of `rank`.
AffineMap paramMap(MLIRContext *ctx, ShapedType paramType, int64_t rank, int64_t axis,
                   int64_t blockSize) {
  SmallVector<AffineExpr> exprs;
  if (paramType.getNumElements() == 1 && blockSize == 0) {
    exprs.assign(paramType.getRank(), getAffineConstantExpr(0, ctx));
  } else if (blockSize == 0) {
    exprs.push_back(getAffineDimExpr(axis, ctx));
  } else {
    for (int64_t i = 0; i < rank; ++i)
      exprs.push_back(i == axis ? getAffineDimExpr(i, ctx).floorDiv(blockSize)
                                : getAffineDimExpr(i, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// The compute type: f64 when any float involved is f64, else f32.
Type computeType(OpBuilder &b, ArrayRef<Type> elements) {
  return llvm::any_of(elements, [](Type t) { return t.isF64(); }) ? Type(b.getF64Type())
                                                                  : Type(b.getF32Type());
}

template <typename OpTy> Value buildQuantGeneric(OpTy op, OpBuilder &b, ScalarBuilder body) {
  auto resultType = cast<RankedTensorType>(op.getOutput().getType());
  int64_t rank = resultType.getRank();
  int64_t axis = rank == 0 ? 0 : positiveAxis(op.getAxis(), rank);
  SmallVector<Value> inputs = {op.getInput(), op.getScale()};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  auto mapFor = [&](Value param) {
    return paramMap(b.getContext(), cast<ShapedType>(param.getType()), rank, axis,
                    op.getBlockSize());
  };
  maps.push_back(mapFor(op.getScale()));
  if (Value zeroPoint = op.getZeroPoint()) {
    inputs.push_back(zeroPoint);
    maps.push_back(mapFor(zeroPoint));
  }
  return buildParallelGeneric(b, op.getLoc(), resultType, inputs, maps, body);
}

struct QuantizeLowering final : LoweringPattern<QuantizeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(QuantizeOp op, PatternRewriter &rewriter) const override {
    Type out = getElementTypeOrSelf(op.getOutput());
    bool isUnsigned = hasUnsignedResults(op);
    bool saturate = op.getSaturate();
    Value result =
        buildQuantGeneric(op, rewriter, [&](OpBuilder &b, Location loc, ValueRange args) {
          Type f = computeType(b, {args[0].getType(), args[1].getType()});
          Value value = arith::DivFOp::create(b, loc, convertScalar(b, loc, args[0], f),
                                              convertScalar(b, loc, args[1], f));
          auto integer = dyn_cast<IntegerType>(out);
          if (integer)
            value = math::RoundEvenOp::create(b, loc, value);
          if (args.size() > 2)
            value =
                arith::AddFOp::create(b, loc, value, convertScalar(b, loc, args[2], f, isUnsigned));
          if (!integer)
            return convertScalar(b, loc, value, out, false, false, saturate);
          unsigned width = integer.getWidth();
          double lo = isUnsigned ? 0 : -std::ldexp(1.0, width - 1);
          double hi = isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
          value = arith::MinimumFOp::create(
              b, loc, arith::MaximumFOp::create(b, loc, value, scalarConstant(b, loc, f, lo)),
              scalarConstant(b, loc, f, hi));
          return convertScalar(b, loc, value, out, false, isUnsigned);
        });
    return SmallVector<Value>{result};
  }
};

struct DequantizeLowering final : LoweringPattern<DequantizeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(DequantizeOp op, PatternRewriter &rewriter) const override {
    Type out = getElementTypeOrSelf(op.getOutput());
    bool isUnsigned = hasUnsignedOperands(op);
    Value result =
        buildQuantGeneric(op, rewriter, [&](OpBuilder &b, Location loc, ValueRange args) {
          Type f = computeType(b, {args[1].getType(), out});
          Value value = convertScalar(b, loc, args[0], f, isUnsigned);
          if (args.size() > 2)
            value =
                arith::SubFOp::create(b, loc, value, convertScalar(b, loc, args[2], f, isUnsigned));
          value = arith::MulFOp::create(b, loc, value, convertScalar(b, loc, args[1], f));
          return convertScalar(b, loc, value, out);
        });
    return SmallVector<Value>{result};
  }
};

} // namespace

void mlir::catfish::populateQuantizationToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering>(patterns.getContext());
}
