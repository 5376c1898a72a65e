//===- FuseLinalgElementwise.cpp - the catfish-fuse-linalg-elementwise pass ===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHFUSELINALGELEMENTWISE
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

/// Whether `value` is the grid of a packed contraction, or of an epilogue computed on it.
bool isPanelGrid(Value value) {
  auto op = value.getDefiningOp<linalg::LinalgOp>();
  if (!op)
    return false;
  if (linalg::isaContractionOpInterface(op))
    return true;
  return llvm::any_of(op.getDpsInputs(), [](Value input) {
    auto producer = input.getDefiningOp<linalg::LinalgOp>();
    return producer && linalg::isaContractionOpInterface(producer);
  });
}

struct FuseLinalgElementwise final
    : catfish::impl::CatfishFuseLinalgElementwiseBase<FuseLinalgElementwise> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *use) {
      auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
      return !consumer || !linalg::isaContractionOpInterface(consumer);
    });
    // A contraction computed on a grid of column panels (catfish.packed_matmul) is collapsed
    // to its result's shape; its epilogue moves onto the grid, so the kernel's root op is
    // computed where the contraction is and the two split into the same parts.
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, [](OpOperand *use) {
      auto collapse = use->get().getDefiningOp<tensor::CollapseShapeOp>();
      auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
      return collapse && consumer && !linalg::isaContractionOpInterface(consumer) &&
             isPanelGrid(collapse.getSrc());
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
