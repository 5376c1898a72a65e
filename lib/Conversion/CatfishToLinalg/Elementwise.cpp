//===- Elementwise.cpp - elementwise catfish ops -> linalg.generic -------===//
//
// Every op with the BroadcastElementwise trait becomes one parallel linalg.generic over the
// result shape whose body computes one element; broadcasting is in the indexing maps.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

using llvm::TypeSwitch;

Value cst(OpBuilder &b, Location loc, Type type, double value) {
  return scalarConstant(b, loc, type, value);
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, cst(b, loc, t, 1.0),
                               arith::AddFOp::create(b, loc, cst(b, loc, t, 1.0), e));
}

/// log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
Value softplus(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value negAbs = arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
  Value tail = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
  return arith::AddFOp::create(b, loc, arith::MaximumFOp::create(b, loc, x, cst(b, loc, t, 0)),
                               tail);
}

Value clamp01(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  return arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, x, cst(b, loc, t, 0)),
                                   cst(b, loc, t, 1));
}

/// A float or integer comparison; `ipred` is the signed predicate, used as its unsigned
/// counterpart when `isUnsigned`.
Value compare(OpBuilder &b, Location loc, arith::CmpFPredicate fpred, arith::CmpIPredicate ipred,
              Value x, Value y, bool isUnsigned = false) {
  if (isa<FloatType>(x.getType()))
    return arith::CmpFOp::create(b, loc, fpred, x, y);
  if (isUnsigned) {
    using P = arith::CmpIPredicate;
    ipred = ipred == P::slt   ? P::ult
            : ipred == P::sle ? P::ule
            : ipred == P::sgt ? P::ugt
            : ipred == P::sge ? P::uge
                              : ipred;
  }
  return arith::CmpIOp::create(b, loc, ipred, x, y);
}

Value isNegative(OpBuilder &b, Location loc, Value x) {
  return compare(b, loc, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, x,
                 cst(b, loc, x.getType(), 0));
}

/// The integer divisor `y` made safe for the hardware: 0 (undefined in ONNX) becomes 1, and for
/// signed types so does -1 (INT_MIN / -1 overflows), whose quotient the caller takes as -x and
/// whose remainder is 0 anyway. A division must never trap, whatever the data (padding past a
/// data-dependent size is zeros).
Value safeDivisor(OpBuilder &b, Location loc, Value y, bool isUnsigned) {
  Value one = cst(b, loc, y.getType(), 1);
  Value unsafe = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y,
                                       cst(b, loc, y.getType(), 0));
  if (!isUnsigned)
    unsafe = arith::OrIOp::create(
        b, loc, unsafe,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, cst(b, loc, y.getType(), -1)));
  return arith::SelectOp::create(b, loc, unsafe, one, y);
}

/// Signed x / y, truncating, with y == -1 as -x (wrapping) and y == 0 as x.
Value signedDivide(OpBuilder &b, Location loc, Value x, Value y) {
  Value quotient = arith::DivSIOp::create(b, loc, x, safeDivisor(b, loc, y, false));
  Value minusOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, cst(b, loc, y.getType(), -1));
  Value negated = arith::SubIOp::create(b, loc, cst(b, loc, x.getType(), 0), x);
  return arith::SelectOp::create(b, loc, minusOne, negated, quotient);
}

/// Python-style integer modulo (the result takes the divisor's sign).
Value integerMod(OpBuilder &b, Location loc, Value x, Value y) {
  Value zero = cst(b, loc, x.getType(), 0);
  Value rem = arith::RemSIOp::create(b, loc, x, y);
  Value nonZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, rem, zero);
  Value remNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rem, zero);
  Value divNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, y, zero);
  Value signsDiffer = arith::XOrIOp::create(b, loc, remNeg, divNeg);
  Value fix = arith::AndIOp::create(b, loc, nonZero, signsDiffer);
  return arith::SelectOp::create(b, loc, fix, arith::AddIOp::create(b, loc, rem, y), rem);
}

Value floatMod(OpBuilder &b, Location loc, Value x, Value y, bool fmod) {
  Value rem = arith::RemFOp::create(b, loc, x, y);
  if (fmod)
    return rem;
  Value zero = cst(b, loc, x.getType(), 0);
  Value nonZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, rem, zero);
  Value remNeg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, rem, zero);
  Value divNeg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, y, zero);
  Value fix = arith::AndIOp::create(b, loc, nonZero, arith::XOrIOp::create(b, loc, remNeg, divNeg));
  return arith::SelectOp::create(b, loc, fix, arith::AddFOp::create(b, loc, rem, y), rem);
}

Value power(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned) {
  Type t = x.getType();
  if (isa<FloatType>(t))
    return math::PowFOp::create(b, loc, x, convertScalar(b, loc, y, t, isUnsigned));
  if (isa<FloatType>(y.getType()))
    return convertScalar(b, loc,
                         math::PowFOp::create(b, loc, convertScalar(b, loc, x, b.getF64Type()),
                                              convertScalar(b, loc, y, b.getF64Type())),
                         t);
  return math::IPowIOp::create(b, loc, x, convertScalar(b, loc, y, t));
}

/// The scalar computation of one elementwise op.
Value buildScalar(Operation *op, OpBuilder &b, Location loc, ValueRange args, Type resultElement) {
  Value x = args[0];
  Type t = x.getType();
  bool isFloat = isa<FloatType>(t);
  bool isUnsigned = hasUnsignedOperands(op);
  auto un = [&](auto floatOp) -> Value {
    using OpTy = decltype(floatOp);
    return OpTy::create(b, loc, x);
  };
  return TypeSwitch<Operation *, Value>(op)
      .Case([&](AbsOp) -> Value {
        if (isUnsigned)
          return x;
        return isFloat ? Value(math::AbsFOp::create(b, loc, x))
                       : Value(math::AbsIOp::create(b, loc, x));
      })
      .Case([&](NegOp) -> Value {
        return isFloat ? Value(arith::NegFOp::create(b, loc, x))
                       : Value(arith::SubIOp::create(b, loc, cst(b, loc, t, 0), x));
      })
      .Case([&](SignOp) -> Value {
        // x > 0 ? 1 : (x < 0 ? -1 : x): zero and NaN stay as they are.
        Value pos = compare(b, loc, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt, x,
                            cst(b, loc, t, 0));
        Value rest = arith::SelectOp::create(b, loc, isNegative(b, loc, x), cst(b, loc, t, -1), x);
        return arith::SelectOp::create(b, loc, pos, cst(b, loc, t, 1), rest);
      })
      .Case([&](ReluOp) { return maxScalar(b, loc, x, cst(b, loc, t, 0)); })
      .Case([&](NotOp) -> Value { return arith::XOrIOp::create(b, loc, x, cst(b, loc, t, 1)); })
      .Case([&](BitwiseNotOp) -> Value {
        return arith::XOrIOp::create(b, loc, x, cst(b, loc, t, -1));
      })
      .Case([&](ExpOp) { return un(math::ExpOp()); })
      .Case([&](LogOp) { return un(math::LogOp()); })
      .Case([&](SqrtOp) { return un(math::SqrtOp()); })
      .Case([&](RsqrtOp) { return un(math::RsqrtOp()); })
      .Case([&](ReciprocalOp) -> Value {
        return arith::DivFOp::create(b, loc, cst(b, loc, t, 1), x);
      })
      .Case([&](SigmoidOp) { return sigmoid(b, loc, x); })
      .Case([&](TanhOp) { return un(math::TanhOp()); })
      .Case([&](ErfOp) { return un(math::ErfOp()); })
      .Case([&](SinOp) { return un(math::SinOp()); })
      .Case([&](CosOp) { return un(math::CosOp()); })
      .Case([&](TanOp) { return un(math::TanOp()); })
      .Case([&](AsinOp) { return un(math::AsinOp()); })
      .Case([&](AcosOp) { return un(math::AcosOp()); })
      .Case([&](AtanOp) { return un(math::AtanOp()); })
      .Case([&](SinhOp) { return un(math::SinhOp()); })
      .Case([&](CoshOp) { return un(math::CoshOp()); })
      .Case([&](AsinhOp) { return un(math::AsinhOp()); })
      .Case([&](AcoshOp) { return un(math::AcoshOp()); })
      .Case([&](AtanhOp) { return un(math::AtanhOp()); })
      .Case([&](FloorOp) { return un(math::FloorOp()); })
      .Case([&](CeilOp) { return un(math::CeilOp()); })
      .Case([&](RoundOp) { return un(math::RoundEvenOp()); })
      .Case([&](SoftplusOp) { return softplus(b, loc, x); })
      .Case([&](SoftsignOp) -> Value {
        Value denom =
            arith::AddFOp::create(b, loc, cst(b, loc, t, 1), math::AbsFOp::create(b, loc, x));
        return arith::DivFOp::create(b, loc, x, denom);
      })
      .Case([&](MishOp) -> Value {
        return arith::MulFOp::create(b, loc, x, math::TanhOp::create(b, loc, softplus(b, loc, x)));
      })
      .Case([&](HardSwishOp) -> Value {
        Value inner = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, x, cst(b, loc, t, 1.0 / 6.0)),
            cst(b, loc, t, 0.5));
        return arith::MulFOp::create(b, loc, x, clamp01(b, loc, inner));
      })
      .Case([&](SiluOp) -> Value { return arith::MulFOp::create(b, loc, x, sigmoid(b, loc, x)); })
      .Case([&](GeluOp gelu) -> Value {
        Value half = cst(b, loc, t, 0.5);
        Value inner;
        if (gelu.getTanhApproximation()) {
          Value cube = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
          Value poly = arith::AddFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, cube, cst(b, loc, t, 0.044715)));
          inner = math::TanhOp::create(
              b, loc, arith::MulFOp::create(b, loc, poly, cst(b, loc, t, 0.7978845608028654)));
        } else {
          inner = math::ErfOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, cst(b, loc, t, 0.7071067811865476)));
        }
        Value onePlus = arith::AddFOp::create(b, loc, cst(b, loc, t, 1), inner);
        return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, half), onePlus);
      })
      .Case([&](IsNanOp) -> Value {
        return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
      })
      .Case([&](IsInfOp isInf) -> Value {
        Value inf = highestValue(b, loc, t);
        Value negInf = lowestValue(b, loc, t);
        Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, inf);
        Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, negInf);
        Value none = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
        return arith::OrIOp::create(b, loc, isInf.getDetectPositive() ? pos : none,
                                    isInf.getDetectNegative() ? neg : none);
      })
      .Case([&](LeakyReluOp op) -> Value {
        Value scaled =
            arith::MulFOp::create(b, loc, x, cst(b, loc, t, op.getAlpha().convertToDouble()));
        return arith::SelectOp::create(b, loc, isNegative(b, loc, x), scaled, x);
      })
      .Case([&](EluOp op) -> Value {
        Value em1 = math::ExpM1Op::create(b, loc, x);
        Value neg =
            arith::MulFOp::create(b, loc, em1, cst(b, loc, t, op.getAlpha().convertToDouble()));
        return arith::SelectOp::create(b, loc, isNegative(b, loc, x), neg, x);
      })
      .Case([&](CeluOp op) -> Value {
        Value alpha = cst(b, loc, t, op.getAlpha().convertToDouble());
        Value em1 = math::ExpM1Op::create(b, loc, arith::DivFOp::create(b, loc, x, alpha));
        Value neg = arith::MinimumFOp::create(b, loc, cst(b, loc, t, 0),
                                              arith::MulFOp::create(b, loc, alpha, em1));
        return arith::AddFOp::create(b, loc,
                                     arith::MaximumFOp::create(b, loc, x, cst(b, loc, t, 0)), neg);
      })
      .Case([&](SeluOp op) -> Value {
        Value alpha = cst(b, loc, t, op.getAlpha().convertToDouble());
        Value gamma = cst(b, loc, t, op.getGamma().convertToDouble());
        Value neg = arith::MulFOp::create(b, loc, alpha, math::ExpM1Op::create(b, loc, x));
        Value pos = compare(b, loc, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt, x,
                            cst(b, loc, t, 0));
        return arith::MulFOp::create(b, loc, gamma, arith::SelectOp::create(b, loc, pos, x, neg));
      })
      .Case([&](HardSigmoidOp op) -> Value {
        Value lin = arith::AddFOp::create(
            b, loc,
            arith::MulFOp::create(b, loc, x, cst(b, loc, t, op.getAlpha().convertToDouble())),
            cst(b, loc, t, op.getBeta().convertToDouble()));
        return clamp01(b, loc, lin);
      })
      .Case([&](ThresholdedReluOp op) -> Value {
        Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                            cst(b, loc, t, op.getAlpha().convertToDouble()));
        return arith::SelectOp::create(b, loc, above, x, cst(b, loc, t, 0));
      })
      .Case([&](ShrinkOp op) -> Value {
        double lambd = op.getLambd().convertToDouble(), bias = op.getBias().convertToDouble();
        Value below =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, cst(b, loc, t, -lambd));
        Value above =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, cst(b, loc, t, lambd));
        Value up = arith::AddFOp::create(b, loc, x, cst(b, loc, t, bias));
        Value down = arith::SubFOp::create(b, loc, x, cst(b, loc, t, bias));
        return arith::SelectOp::create(
            b, loc, below, up, arith::SelectOp::create(b, loc, above, down, cst(b, loc, t, 0)));
      })
      .Case([&](AddOp) { return addScalar(b, loc, x, args[1]); })
      .Case([&](SubOp) -> Value {
        return isFloat ? Value(arith::SubFOp::create(b, loc, x, args[1]))
                       : Value(arith::SubIOp::create(b, loc, x, args[1]));
      })
      .Case([&](MulOp) { return mulScalar(b, loc, x, args[1]); })
      .Case([&](DivOp) -> Value {
        if (isFloat)
          return arith::DivFOp::create(b, loc, x, args[1]);
        return isUnsigned ? Value(arith::DivUIOp::create(b, loc, x,
                                                         safeDivisor(b, loc, args[1], true)))
                          : signedDivide(b, loc, x, args[1]);
      })
      .Case([&](PowOp) { return power(b, loc, x, args[1], isUnsigned); })
      .Case([&](MaxOp) { return maxScalar(b, loc, x, args[1], isUnsigned); })
      .Case([&](MinOp) { return minScalar(b, loc, x, args[1], isUnsigned); })
      .Case([&](ModOp op) -> Value {
        if (isFloat)
          return floatMod(b, loc, x, args[1], op.getFmod());
        Value divisor = safeDivisor(b, loc, args[1], isUnsigned);
        if (isUnsigned)
          return arith::RemUIOp::create(b, loc, x, divisor);
        return op.getFmod() ? Value(arith::RemSIOp::create(b, loc, x, divisor))
                            : integerMod(b, loc, x, divisor);
      })
      .Case([&](PReluOp) -> Value {
        return arith::SelectOp::create(b, loc, isNegative(b, loc, x), mulScalar(b, loc, x, args[1]),
                                       x);
      })
      .Case<AndOp, BitwiseAndOp>(
          [&](Operation *) -> Value { return arith::AndIOp::create(b, loc, x, args[1]); })
      .Case<OrOp, BitwiseOrOp>(
          [&](Operation *) -> Value { return arith::OrIOp::create(b, loc, x, args[1]); })
      .Case<XorOp, BitwiseXorOp>(
          [&](Operation *) -> Value { return arith::XOrIOp::create(b, loc, x, args[1]); })
      .Case([&](ShiftLeftOp) -> Value { return arith::ShLIOp::create(b, loc, x, args[1]); })
      .Case([&](ShiftRightOp) -> Value { return arith::ShRUIOp::create(b, loc, x, args[1]); })
      .Case([&](EqualOp) {
        return compare(b, loc, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq, x, args[1]);
      })
      .Case([&](LessOp) {
        return compare(b, loc, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, x, args[1],
                       isUnsigned);
      })
      .Case([&](LessEqualOp) {
        return compare(b, loc, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle, x, args[1],
                       isUnsigned);
      })
      .Case([&](GreaterOp) {
        return compare(b, loc, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt, x, args[1],
                       isUnsigned);
      })
      .Case([&](GreaterEqualOp) {
        return compare(b, loc, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge, x, args[1],
                       isUnsigned);
      })
      .Case([&](SelectOp) -> Value { return arith::SelectOp::create(b, loc, x, args[1], args[2]); })
      .Case([&](CastOp cast) {
        return convertScalar(b, loc, x, resultElement, isUnsigned, hasUnsignedResults(op),
                             cast.getSaturate());
      })
      .Default([](Operation *op) -> Value {
        llvm_unreachable("elementwise op without a scalar lowering");
      });
}

struct ElementwiseToGeneric final : RewritePattern {
  ElementwiseToGeneric(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!op->hasTrait<OpTrait::catfish::BroadcastElementwise>())
      return failure();
    if (failed(checkSupportedTypes(op, rewriter)))
      return failure();
    if (isa<ShrinkOp>(op) && !isa<FloatType>(getElementTypeOrSelf(op->getOperand(0))))
      return rewriter.notifyMatchFailure(op, "shrink on integers");
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Value result =
        buildBroadcastGeneric(rewriter, op->getLoc(), resultType, op->getOperands(),
                              [&](OpBuilder &b, Location loc, ValueRange args) {
                                return buildScalar(op, b, loc, args, resultType.getElementType());
                              });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

Value mlir::catfish::lowering::convertScalar(OpBuilder &b, Location loc, Value x, Type to,
                                             bool fromUnsigned, bool toUnsigned, bool saturate) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (isSmallFloat(from))
    return convertScalar(b, loc, extendSmallFloat(b, loc, x), to, false, toUnsigned, saturate);
  if (isSmallFloat(to))
    return truncateToSmallFloat(b, loc, convertScalar(b, loc, x, b.getF32Type(), fromUnsigned), to,
                                saturate);
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() < toFloat.getWidth())
      return arith::ExtFOp::create(b, loc, to, x);
    if (fromFloat.getWidth() > toFloat.getWidth())
      return arith::TruncFOp::create(b, loc, to, x);
    return arith::TruncFOp::create(b, loc, to, arith::ExtFOp::create(b, loc, b.getF32Type(), x));
  }
  if (to.isInteger(1))
    return compare(b, loc, arith::CmpFPredicate::UNE, arith::CmpIPredicate::ne, x,
                   cst(b, loc, from, 0));
  bool zeroExtend = fromUnsigned || from.isInteger(1);
  if (toFloat)
    return zeroExtend ? Value(arith::UIToFPOp::create(b, loc, to, x))
                      : Value(arith::SIToFPOp::create(b, loc, to, x));
  if (fromFloat) {
    unsigned width = to.getIntOrFloatBitWidth();
    if (width == 4) {
      // Casts to 4-bit integers saturate, as ONNX's reference does.
      double lo = toUnsigned ? 0 : -8, hi = toUnsigned ? 15 : 7;
      x = arith::MinimumFOp::create(b, loc,
                                    arith::MaximumFOp::create(b, loc, x, cst(b, loc, from, lo)),
                                    cst(b, loc, from, hi));
    }
    return toUnsigned ? Value(arith::FPToUIOp::create(b, loc, to, x))
                      : Value(arith::FPToSIOp::create(b, loc, to, x));
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth(), toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, to, x);
  return zeroExtend ? Value(arith::ExtUIOp::create(b, loc, to, x))
                    : Value(arith::ExtSIOp::create(b, loc, to, x));
}

void mlir::catfish::populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric>(patterns.getContext());
}
