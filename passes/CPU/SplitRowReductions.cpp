//===- SplitRowReductions.cpp - the catfish-split-row-reductions pass -----===//
//
// A reduction along the contiguous end of its rows (softmax's max and sum, a norm's mean and
// variance) has one running value per row: its innermost loop is a chain of dependent adds
// that LLVM does not vectorize without reassociation, and catfish-contraction-loop-order
// would swap it outside the row loop, where each vector lane reads another row (a gather).
// Split into `lanes` partial results per row, the innermost loop updates one vector of them
// from contiguous elements; a second, small reduction adds the lanes.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHSPLITROWREDUCTIONS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Whether `op` reduces along its innermost loop alone, with a static extent that is a
/// multiple of `lanes` and at least two vectors long, and every input that the loop indexes
/// has it as its innermost dim (contiguous elements). Contractions are left to
/// catfish-vectorize-contractions and catfish-contraction-loop-order.
bool isRowReduction(linalg::GenericOp op, int64_t lanes) {
  if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 1 ||
      op.getNumDpsInits() != 1 || linalg::isaContractionOpInterface(op))
    return false;
  unsigned last = op.getNumLoops() - 1;
  if (op.getIteratorTypesArray()[last] != utils::IteratorType::reduction)
    return false;
  int64_t extent = op.getStaticLoopRanges()[last];
  if (ShapedType::isDynamic(extent) || extent % lanes != 0 || extent < 2 * lanes)
    return false;
  AffineExpr reduced = getAffineDimExpr(last, op.getContext());
  return llvm::all_of(op.getDpsInputOperands(), [&](OpOperand *input) {
    AffineMap map = op.getMatchingIndexingMap(input);
    return !map.isFunctionOfDim(last) ||
           (map.getNumResults() > 0 && map.getResults().back() == reduced);
  });
}

struct SplitRowReductions final
    : catfish::impl::CatfishSplitRowReductionsBase<SplitRowReductions> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    // Only ops whose steps vectorize (no broadcast by a constant index, such as a mask shared
    // by every head) are split: left to LLVM, the split loops cost more than they gain.
    getOperation().walk([&](linalg::GenericOp op) {
      if (isRowReduction(op, lanes) && succeeded(linalg::vectorizeOpPrecondition(op)) &&
          llvm::all_of(op.getIndexingMapsArray(),
                       [](AffineMap map) { return map.isProjectedPermutation(); }))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      rewriter.setInsertionPoint(op);
      // The reduced loop becomes extent / lanes reductions outside `lanes` parallel loops,
      // whose partial results are a new innermost dim of the intermediate result.
      unsigned partials = cast<ShapedType>(op.getDpsInitOperand(0)->get().getType()).getRank();
      auto control = [&](linalg::LinalgOp) {
        return linalg::SplitReductionOptions{lanes, partials, /*innerParallel=*/true};
      };
      FailureOr<linalg::SplitReductionResult> split =
          linalg::splitReduction(rewriter, op, control);
      // A body whose combiner has no neutral element is left as it is.
      if (failed(split))
        continue;
      if (failed(vectorizeSteps(rewriter, split->splitLinalgOp)) ||
          failed(vectorizeSteps(rewriter, split->resultCombiningLinalgOp)))
        return signalPassFailure();
    }
  }

  /// Tiles `op` into steps that cover its innermost loop (the lanes) entirely and every other
  /// loop by 1, the reductions innermost, and vectorizes each step. For the split op a step is
  /// one vector of lanes, which loop-invariant-subset-hoisting keeps in a register across the
  /// reduction; for the op adding the lanes, one row's vector reduced at once. No loop is left
  /// for LLVM's vectorizer to version or to read across rows.
  LogicalResult vectorizeSteps(RewriterBase &rewriter, linalg::LinalgOp op) {
    SmallVector<int64_t> tiles(op.getNumLoops(), 1);
    tiles.back() = op.getStaticLoopRanges().back();
    SmallVector<int64_t> order;
    for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator == utils::IteratorType::parallel)
        order.push_back(d);
    for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator == utils::IteratorType::reduction)
        order.push_back(d);
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(op.getContext(), tiles)).setInterchange(order);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("cannot tile a split reduction into vector steps");
    rewriter.replaceOp(op, tiled->replacements);
    Operation *step = tiled->tiledOps.back();
    rewriter.setInsertionPoint(step);
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(rewriter, step);
    if (failed(vectorized))
      return step->emitError("cannot vectorize a step of the split reduction");
    rewriter.replaceOp(step, vectorized->replacements);
    return success();
  }
};

} // namespace
