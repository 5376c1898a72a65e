//===- ExpandGpuMath.cpp - the catfish-expand-gpu-math pass ---------------===//
//
// Math ops that convert-gpu-to-nvvm has no lowering for, rewritten with ops it has: math.trunc
// through floor and ceil, math.ipowi as square-and-multiply, math.absi as a select.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHEXPANDGPUMATH
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// trunc(x) = x < 0 ? ceil(x) : floor(x).
void expandTrunc(math::TruncOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = op.getOperand();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(x.getType()));
  Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero);
  Value up = math::CeilOp::create(b, loc, x);
  Value down = math::FloorOp::create(b, loc, x);
  Value result = arith::SelectOp::create(b, loc, negative, up, down);
  op.replaceAllUsesWith(result);
  op.erase();
}

/// |x| = x < 0 ? 0 - x : x (the most negative value stays itself, as llvm.abs without poison).
void expandAbsI(math::AbsIOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = op.getOperand();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(x.getType()));
  Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, zero);
  Value negated = arith::SubIOp::create(b, loc, zero, x);
  op.replaceAllUsesWith(arith::SelectOp::create(b, loc, negative, negated, x).getResult());
  op.erase();
}

/// base^exponent in the integer type: square-and-multiply over the exponent's bits; a negative
/// exponent gives 1 for base 1, +-1 for base -1 and 0 otherwise (as math-to-funcs does).
void expandIPowI(math::IPowIOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type type = op.getType();
  unsigned width = type.getIntOrFloatBitWidth();
  Value base = op.getLhs(), exponent = op.getRhs();
  auto constant = [&](int64_t value) {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
  };
  Value one = constant(1), zero = constant(0);
  Value lower = arith::ConstantIndexOp::create(b, loc, 0);
  Value upper = arith::ConstantIndexOp::create(b, loc, width);
  Value step = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, lower, upper, step, ValueRange{one, base, exponent});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value result = loop.getRegionIterArg(0), power = loop.getRegionIterArg(1),
          rest = loop.getRegionIterArg(2);
    Value odd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                      arith::AndIOp::create(b, loc, rest, one), zero);
    Value multiplied = arith::MulIOp::create(b, loc, result, power);
    scf::YieldOp::create(b, loc,
                         ValueRange{arith::SelectOp::create(b, loc, odd, multiplied, result),
                                    arith::MulIOp::create(b, loc, power, power),
                                    arith::ShRUIOp::create(b, loc, rest, one)});
  }
  Value minusOne = constant(-1);
  Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, exponent, zero);
  Value oddExponent = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                            arith::AndIOp::create(b, loc, exponent, one), zero);
  Value ofMinusOne = arith::SelectOp::create(b, loc, oddExponent, minusOne, one);
  Value reciprocal = arith::SelectOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, base, one), one,
      arith::SelectOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, base, minusOne),
          ofMinusOne, zero));
  op.replaceAllUsesWith(
      arith::SelectOp::create(b, loc, negative, reciprocal, loop.getResult(0)).getResult());
  op.erase();
}

struct ExpandGpuMath final : catfish::impl::CatfishExpandGpuMathBase<ExpandGpuMath> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto trunc = dyn_cast<math::TruncOp>(op); trunc && isa<FloatType>(trunc.getType()))
        expandTrunc(trunc);
      else if (auto power = dyn_cast<math::IPowIOp>(op); power && isa<IntegerType>(power.getType()))
        expandIPowI(power);
      else if (auto abs = dyn_cast<math::AbsIOp>(op); abs && isa<IntegerType>(abs.getType()))
        expandAbsI(abs);
    });
  }
};

} // namespace
