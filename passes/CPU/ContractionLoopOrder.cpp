//===- ContractionLoopOrder.cpp - the catfish-contraction-loop-order pass -===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHCONTRACTIONLOOPORDER
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

struct ContractionLoopOrder final
    : catfish::impl::CatfishContractionLoopOrderBase<ContractionLoopOrder> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation()->walk([&](linalg::GenericOp op) {
      auto iterators = op.getIteratorTypesArray();
      unsigned n = iterators.size();
      if (n >= 2 && op.getNumReductionLoops() == 1 &&
          iterators[n - 1] == utils::IteratorType::reduction &&
          iterators[n - 2] == utils::IteratorType::parallel)
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      unsigned n = op.getNumLoops();
      SmallVector<unsigned> perm = llvm::to_vector(llvm::seq<unsigned>(0, n));
      std::swap(perm[n - 1], perm[n - 2]);
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, perm)))
        return signalPassFailure();
    }
  }
};

} // namespace
