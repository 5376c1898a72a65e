//===- ApproximateMath.cpp - the catfish-approximate-math pass ------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHAPPROXIMATEMATH
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

struct ApproximateMath final : catfish::impl::CatfishApproximateMathBase<ApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // powf by a constant exponent first: x^2 and x^3 as products, x^0.5 as sqrt, ... (GELU's
    // tanh form cubes its input).
    populateMathAlgebraicSimplificationPatterns(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
