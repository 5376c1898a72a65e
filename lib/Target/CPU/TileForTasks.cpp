//===- TileForTasks.cpp - the catfish-tile-for-tasks pass -----------------===//
//
// Splits a kernel's root linalg op into an scf.forall whose iterations the runtime's
// threads share (see PartitionTasks.cpp). Producers are fused into the loop body, so each
// iteration computes its slice of the result from the kernel inputs and nothing else.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHTILEFORTASKS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Fewest elements a part covers along the result's innermost dimension.
constexpr int64_t kMinContiguousTile = 64;

/// The iteration-space size of `op`, saturating at INT64_MAX.
int64_t iterationCount(ArrayRef<int64_t> ranges) {
  int64_t count = 1;
  for (int64_t range : ranges)
    if (llvm::MulOverflow(count, range, count))
      return std::numeric_limits<int64_t>::max();
  return count;
}

struct TileForTasks final : catfish::impl::CatfishTileForTasksBase<TileForTasks> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<bufferization::MaterializeInDestinationOp> stores;
    func.walk([&](bufferization::MaterializeInDestinationOp op) { stores.push_back(op); });
    if (stores.size() != 1)
      return;
    auto root = stores.front().getSource().getDefiningOp<linalg::LinalgOp>();
    if (!root || root->getNumResults() != 1 || !root.hasPureTensorSemantics())
      return;

    SmallVector<int64_t> ranges = root.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return;
    int64_t work = iterationCount(ranges);
    if (work < minWork)
      return;
    auto iterators = root.getIteratorTypesArray();
    auto dim = llvm::find_if(llvm::seq<unsigned>(0, ranges.size()), [&](unsigned d) {
      return iterators[d] == utils::IteratorType::parallel && ranges[d] > 1;
    });
    if (dim == llvm::seq<unsigned>(0, ranges.size()).end())
      return;
    // Parts along the result's contiguous dimension keep whole vectors and cache lines.
    AffineMap resultMap = root.getIndexingMapMatchingResult(root->getResult(0));
    auto innermost = resultMap.getNumResults() == 0
                         ? nullptr
                         : dyn_cast<AffineDimExpr>(resultMap.getResults().back());
    int64_t minTile = innermost && innermost.getPosition() == *dim ? kMinContiguousTile : 1;
    int64_t extent = ranges[*dim];
    int64_t parts = std::min({int64_t(llvm::divideCeil(extent, minTile)), int64_t(maxParts),
                              std::max<int64_t>(1, work / minWork)});
    if (parts < 2)
      return;
    int64_t tile = llvm::divideCeil(extent, parts);

    IRRewriter rewriter(&getContext());
    SmallVector<OpFoldResult> tileSizes(ranges.size(), rewriter.getIndexAttr(0));
    tileSizes[*dim] = rewriter.getIndexAttr(tile);
    scf::SCFTilingOptions tiling;
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp).setTileSizes(tileSizes);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    rewriter.setInsertionPoint(root);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(root.getOperation()), options);
    if (failed(tiled)) {
      root.emitError("cannot split the kernel's work into parts");
      return signalPassFailure();
    }
    Value result = root->getResult(0);
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
  }
};

} // namespace
