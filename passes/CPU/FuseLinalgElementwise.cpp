//===- FuseLinalgElementwise.cpp - the catfish-fuse-linalg-elementwise pass ===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHFUSELINALGELEMENTWISE
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

struct FuseLinalgElementwise final
    : catfish::impl::CatfishFuseLinalgElementwiseBase<FuseLinalgElementwise> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *use) {
      auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
      return !consumer || !linalg::isaContractionOpInterface(consumer);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
