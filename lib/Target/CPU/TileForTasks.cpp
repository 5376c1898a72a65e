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

/// Fewest elements a part covers along the result's innermost dimension (a cache line of f32).
constexpr int64_t kMinContiguousTile = 16;

/// The number of points in an iteration space of `ranges`, saturating at INT64_MAX.
int64_t iterationCount(ArrayRef<int64_t> ranges) {
  int64_t count = 1;
  for (int64_t range : ranges)
    if (llvm::MulOverflow(count, range, count))
      return std::numeric_limits<int64_t>::max();
  return count;
}

/// The parallel loops of `op` worth splitting, best first. A contraction splits along batch
/// dimensions, then along n (each part reads only its columns of the right operand and all of
/// the left one, which stays in cache), then along m. An op fed by a contraction (bias,
/// activation) splits the way that contraction would, so the fused contraction and its own
/// producers (im2col) are cut the same way and no part recomputes another's work. Other ops
/// split along their first parallel loops.
SmallVector<unsigned> candidateDims(linalg::LinalgOp op) {
  SmallVector<unsigned> order;
  if (linalg::isaContractionOpInterface(op)) {
    FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
    if (succeeded(dims)) {
      order.append(dims->batch.begin(), dims->batch.end());
      llvm::append_range(order, dims->n);
      llvm::append_range(order, dims->m);
      return order;
    }
  }
  for (OpOperand *operand : op.getDpsInputOperands()) {
    auto producer = operand->get().getDefiningOp<linalg::LinalgOp>();
    if (!producer || !linalg::isaContractionOpInterface(producer))
      continue;
    AffineMap produced =
        producer.getIndexingMapMatchingResult(cast<OpResult>(operand->get()));
    AffineMap consumed = op.getMatchingIndexingMap(operand);
    for (unsigned d : candidateDims(producer)) {
      std::optional<unsigned> position = produced.getResultPosition(getAffineDimExpr(
          d, op.getContext()));
      if (!position)
        continue;
      if (auto dim = dyn_cast<AffineDimExpr>(consumed.getResult(*position)))
        order.push_back(dim.getPosition());
    }
    return order;
  }
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    if (iterator == utils::IteratorType::parallel)
      order.push_back(d);
  return order;
}

/// The smallest tile that divides `extent`, is a multiple of `minTile` and makes at most
/// `budget` (and at least two) parts; none if there is no such tile. Tiles that divide the
/// extent keep every part's shapes static, which the vectorizer needs.
std::optional<int64_t> chooseTile(int64_t extent, int64_t minTile, int64_t budget) {
  int64_t parts = std::min(extent / minTile, budget);
  if (parts < 2)
    return std::nullopt;
  for (int64_t tile = llvm::divideCeil(extent, parts); tile <= extent / 2; ++tile)
    if (extent % tile == 0 && tile % minTile == 0)
      return tile;
  return std::nullopt;
}

struct TileForTasks final : catfish::impl::CatfishTileForTasksBase<TileForTasks> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<bufferization::MaterializeInDestinationOp> stores;
    func.walk([&](bufferization::MaterializeInDestinationOp op) { stores.push_back(op); });
    if (stores.size() != 1)
      return;
    // The root computes the stored value, possibly through a reshape or a slice (a
    // convolution's matrix product, its columns padded, is cut and reshaped back).
    Value stored = stores.front().getSource();
    while (Operation *view = stored.getDefiningOp()) {
      if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::ExtractSliceOp>(view))
        break;
      stored = view->getOperand(0);
    }
    auto root = stored.getDefiningOp<linalg::LinalgOp>();
    if (!root || root->getNumResults() != 1 || !root.hasPureTensorSemantics())
      return;

    SmallVector<int64_t> ranges = root.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return;
    int64_t work = iterationCount(ranges);
    int64_t budget = std::min<int64_t>(maxParts, work / std::max<int64_t>(minWork, 1));
    AffineMap resultMap = root.getIndexingMapMatchingResult(root->getResult(0));
    auto innermost = resultMap.getNumResults() == 0
                         ? nullptr
                         : dyn_cast<AffineDimExpr>(resultMap.getResults().back());
    std::optional<std::pair<unsigned, int64_t>> choice;
    for (unsigned d : candidateDims(root)) {
      // Parts along the result's contiguous dimension keep whole vectors and cache lines.
      int64_t minTile = innermost && innermost.getPosition() == d ? kMinContiguousTile : 1;
      if (std::optional<int64_t> tile = chooseTile(ranges[d], minTile, budget)) {
        choice = {d, *tile};
        break;
      }
    }
    if (!choice)
      return;
    auto [dim, tile] = *choice;

    IRRewriter rewriter(&getContext());
    SmallVector<OpFoldResult> tileSizes(ranges.size(), rewriter.getIndexAttr(0));
    tileSizes[dim] = rewriter.getIndexAttr(tile);
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
