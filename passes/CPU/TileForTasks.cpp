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
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <numeric>

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

/// A parallel loop worth splitting, and whether its parts may differ in size (the last one
/// shorter): true for the loops of a contraction that its register block does not tile (all
/// but the last m and the last n), whose extents may then be dynamic in a part.
struct Candidate {
  unsigned dim;
  bool ragged;
};

/// The input of `op` that `dims` index, if it has a static shape.
std::optional<TypedValue<RankedTensorType>> operandWith(linalg::LinalgOp op,
                                                        ArrayRef<unsigned> dims) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    auto value = dyn_cast<TypedValue<RankedTensorType>>(input->get());
    if (value && value.getType().hasStaticShape() && llvm::all_of(dims, [&](unsigned d) {
          return map.getResultPosition(getAffineDimExpr(d, op.getContext())).has_value();
        }))
      return value;
  }
  return std::nullopt;
}

/// Whether the parts of contraction `op` split along its rows (m) before its columns: where
/// the right operand is the smaller one and an input of the kernel (a convolution's packed
/// weights next to its input or im2col copy, which then splits with the rows), which every
/// part then reads whole. A right operand that the kernel computes (an unpacked
/// convolution's im2col copy) would then be computed whole.
bool rowsFirst(linalg::LinalgOp op, const linalg::ContractionDimensions &dims) {
  std::optional<TypedValue<RankedTensorType>> left = operandWith(op, dims.m);
  std::optional<TypedValue<RankedTensorType>> right = operandWith(op, dims.n);
  return left && right && !right->getDefiningOp<linalg::LinalgOp>() &&
         right->getType().getNumElements() < left->getType().getNumElements();
}

/// The parallel loops of `op` worth splitting, best first. A contraction splits along batch
/// dimensions, then along n (each part reads only its columns of the right operand and all of
/// the left one, which stays in cache), then along m; or along m first where rowsFirst says
/// (an early convolution's weights next to its im2col copy, which each part then copies only
/// its rows of). An op fed by a contraction (bias,
/// activation) splits the way that contraction would, so the fused contraction and its own
/// producers (im2col) are cut the same way and no part recomputes another's work. Other ops
/// split along their first parallel loops.
SmallVector<Candidate> candidateDims(linalg::LinalgOp op) {
  SmallVector<Candidate> order;
  if (linalg::isaContractionOpInterface(op)) {
    FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
    if (succeeded(dims)) {
      for (unsigned d : dims->batch)
        order.push_back({d, true});
      SmallVector<ArrayRef<unsigned>> groups = {dims->n, dims->m};
      if (rowsFirst(op, *dims))
        std::swap(groups[0], groups[1]);
      for (ArrayRef<unsigned> group : groups)
        for (unsigned d : group)
          order.push_back({d, d != group.back()});
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
    for (Candidate candidate : candidateDims(producer)) {
      std::optional<unsigned> position = produced.getResultPosition(getAffineDimExpr(
          candidate.dim, op.getContext()));
      if (!position)
        continue;
      // A packed convolution's result reads its grid's panel and column as `f floordiv P`
      // and `f mod P`: both split along f (in whole panels: tileMultiples).
      AffineExpr read = consumed.getResult(*position);
      if (auto binary = dyn_cast<AffineBinaryOpExpr>(read);
          binary && (binary.getKind() == AffineExprKind::FloorDiv ||
                     binary.getKind() == AffineExprKind::Mod))
        read = binary.getLHS();
      if (auto dim = dyn_cast<AffineDimExpr>(read))
        order.push_back({dim.getPosition(), candidate.ragged});
    }
    return order;
  }
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    if (iterator == utils::IteratorType::parallel)
      order.push_back({static_cast<unsigned>(d), false});
  return order;
}

/// Raises `multiples[d]` to the least common multiple of itself and each divisor that a
/// `floordiv`, `ceildiv` or `mod` of `map` applies to an expression of loop `d`.
void collectDivisors(AffineMap map, MutableArrayRef<int64_t> multiples) {
  for (AffineExpr result : map.getResults()) {
    result.walk([&](AffineExpr expr) {
      auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
      if (!binary || binary.getKind() == AffineExprKind::Add ||
          binary.getKind() == AffineExprKind::Mul)
        return;
      auto divisor = dyn_cast<AffineConstantExpr>(binary.getRHS());
      if (!divisor || divisor.getValue() <= 0)
        return;
      binary.getLHS().walk([&](AffineExpr inner) {
        if (auto dim = dyn_cast<AffineDimExpr>(inner))
          multiples[dim.getPosition()] =
              std::lcm(multiples[dim.getPosition()], divisor.getValue());
      });
    });
  }
}

/// Per loop of `op`, the number its tiles must be a multiple of. Tiling keeps a map such as
/// `d0 floordiv 32` (a block-wise quantization scale) on the part's own indices and offsets
/// the slice by `offset floordiv 32`, which is right only when every part starts on a multiple
/// of 32. The producers that tiling fuses into the parts bring their maps along: their loops
/// are linked to `op`'s through the dims of the tensor between them. `known` holds the ops
/// already computed (a producer may feed several ops).
SmallVector<int64_t> tileMultiples(linalg::LinalgOp op,
                                   DenseMap<Operation *, SmallVector<int64_t>> &known) {
  if (auto it = known.find(op); it != known.end())
    return it->second;
  SmallVector<int64_t> multiples(op.getNumLoops(), 1);
  for (AffineMap map : op.getIndexingMapsArray())
    collectDivisors(map, multiples);
  for (OpOperand *operand : op.getDpsInputOperands()) {
    auto producer = operand->get().getDefiningOp<linalg::LinalgOp>();
    if (!producer)
      continue;
    SmallVector<int64_t> inner = tileMultiples(producer, known);
    AffineMap produced = producer.getIndexingMapMatchingResult(cast<OpResult>(operand->get()));
    AffineMap consumed = op.getMatchingIndexingMap(operand);
    for (auto [producedExpr, consumedExpr] :
         llvm::zip(produced.getResults(), consumed.getResults())) {
      auto from = dyn_cast<AffineDimExpr>(producedExpr);
      auto to = dyn_cast<AffineDimExpr>(consumedExpr);
      if (from && to)
        multiples[to.getPosition()] =
            std::lcm(multiples[to.getPosition()], inner[from.getPosition()]);
    }
  }
  known[op] = multiples;
  return multiples;
}

/// The smallest tile that divides `extent`, is a multiple of `minTile` and makes at most
/// `budget` (and at least two) parts; none if there is no such tile. Tiles that divide the
/// extent keep every part's shapes static, which the vectorizer needs. Where `ragged` allows
/// and no tile divides (1571 column panels), the extent is cut into `budget` parts as equal
/// as multiples of `minTile` allow, the last one shorter.
std::optional<int64_t> chooseTile(int64_t extent, int64_t minTile, int64_t budget,
                                  bool ragged) {
  int64_t parts = std::min(extent / minTile, budget);
  if (parts < 2)
    return std::nullopt;
  for (int64_t tile = llvm::divideCeil(extent, parts); tile <= extent / 2; ++tile)
    if (extent % tile == 0 && tile % minTile == 0)
      return tile;
  int64_t tile = llvm::alignTo(llvm::divideCeil(extent, parts), minTile);
  if (ragged && tile < extent)
    return tile;
  return std::nullopt;
}

/// Whether `slice` starts at 0 with unit strides (it keeps a leading box of its source).
bool isZeroOffsetUnitStrideSlice(tensor::ExtractSliceOp slice) {
  return llvm::all_of(slice.getStaticOffsets(), [](int64_t o) { return o == 0; }) &&
         llvm::all_of(slice.getStaticStrides(), [](int64_t s) { return s == 1; }) &&
         slice.getType().hasStaticShape();
}

/// Whether `slice` takes all of its static source.
bool isWholeSlice(tensor::ExtractSliceOp slice) {
  return isZeroOffsetUnitStrideSlice(slice) && slice.getSourceType().hasStaticShape() &&
         slice.getType().getShape() == slice.getSourceType().getShape();
}

/// Whether loop `d` of `root` indexes a result dim that `cut` shortens.
bool isCutDim(linalg::LinalgOp root, tensor::ExtractSliceOp cut, unsigned d) {
  AffineMap map = root.getIndexingMapMatchingResult(root->getResult(0));
  for (auto [i, expr] : llvm::enumerate(map.getResults()))
    if (auto dim = dyn_cast<AffineDimExpr>(expr);
        dim && dim.getPosition() == d &&
        cut.getType().getDimSize(i) != cut.getSourceType().getDimSize(i))
      return true;
  return false;
}

/// `cut` keeps a leading box of a forall's result, whose parts cover the cut dims whole (see
/// isCutDim): each part now cuts its own slice and the forall yields the cut result, so no
/// copy is left after the loop (every task writes its part straight into the output). The
/// parts compute their widened slice in a destination of their own.
void moveCutIntoParts(IRRewriter &rewriter, tensor::ExtractSliceOp cut) {
  auto forall = cut.getSource().getDefiningOp<scf::ForallOp>();
  if (!forall || forall->getNumResults() != 1)
    return;
  auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(
      &*forall.getTerminator().getYieldingOps().begin());
  if (!insert)
    return;
  auto wideType = cast<RankedTensorType>(forall->getResult(0).getType());
  RankedTensorType exactType = cut.getType();
  BlockArgument shared = forall.getRegionIterArgs()[0];
  rewriter.setInsertionPoint(forall);
  Value wideDest = tensor::EmptyOp::create(rewriter, forall.getLoc(), wideType.getShape(),
                                           wideType.getElementType());
  Value exactDest = tensor::EmptyOp::create(rewriter, forall.getLoc(), exactType.getShape(),
                                            exactType.getElementType());
  shared.replaceUsesWithIf(wideDest, [&](OpOperand &use) {
    return use.getOwner() != insert.getOperation();
  });
  // The part's slice of the cut result: the same offsets, the sizes clipped to the cut.
  SmallVector<int64_t> sizes(insert.getStaticSizes());
  for (auto [i, size] : llvm::enumerate(sizes))
    if (!ShapedType::isDynamic(size))
      size = std::min(size, exactType.getDimSize(i));
  rewriter.setInsertionPoint(forall.getTerminator());
  Value part = tensor::ExtractSliceOp::create(
      rewriter, insert.getLoc(), RankedTensorType::get(sizes, exactType.getElementType()),
      insert.getSource(), ValueRange{}, insert.getSizes(), ValueRange{},
      rewriter.getDenseI64ArrayAttr(SmallVector<int64_t>(sizes.size(), 0)),
      rewriter.getDenseI64ArrayAttr(sizes),
      rewriter.getDenseI64ArrayAttr(SmallVector<int64_t>(sizes.size(), 1)));
  rewriter.modifyOpInPlace(insert, [&] {
    insert.getSourceMutable().assign(part);
    insert.setStaticSizes(sizes);
  });
  rewriter.modifyOpInPlace(forall, [&] {
    forall.getOutputsMutable()[0].assign(exactDest);
    shared.setType(exactType);
    forall->getResult(0).setType(exactType);
  });
  rewriter.replaceOp(cut, forall->getResults());
}

/// A store of a collapsed value (the column-panel grid of a packed contraction, collapsed to
/// the kernel's output shape) becomes a store of the grid into an expanded view of the
/// output, so the root computes the stored value and its parts write straight into it.
void storeUncollapsed(IRRewriter &rewriter, bufferization::MaterializeInDestinationOp store) {
  auto collapse = store.getSource().getDefiningOp<tensor::CollapseShapeOp>();
  auto output = dyn_cast<TypedValue<MemRefType>>(store.getDest());
  if (!collapse || !output || !collapse.getSrcType().hasStaticShape() ||
      !output.getType().getLayout().isIdentity())
    return;
  rewriter.setInsertionPoint(store);
  Value view =
      memref::ExpandShapeOp::create(rewriter, store.getLoc(), collapse.getSrcType().getShape(),
                                    output, collapse.getReassociationIndices());
  rewriter.modifyOpInPlace(store, [&] {
    store.getSourceMutable().assign(collapse.getSrc());
    store.getDestMutable().assign(view);
  });
  if (collapse->use_empty())
    rewriter.eraseOp(collapse);
}

/// Whether `expand` only inserts unit dims: each reassociation group of its result has at most
/// one dim that is not 1.
bool insertsUnitDimsOnly(tensor::ExpandShapeOp expand) {
  ArrayRef<int64_t> shape = expand.getResultType().getShape();
  return expand.getResultType().hasStaticShape() &&
         llvm::all_of(expand.getReassociationIndices(), [&](ReassociationIndicesRef group) {
           return llvm::count_if(group, [&](int64_t d) { return shape[d] != 1; }) <= 1;
         });
}

/// A generic op that reads an input through a tensor.expand_shape adding unit dims (a
/// reduction kept as [.., rows, 1] for broadcasting, as softmax and norms do) reads the
/// source instead, its indexing map dropping the unit dims. Tiling then fuses the producer of
/// the source into each part (it cannot fuse through the reshape), so every part reduces its
/// own rows instead of every task reducing all of them before the parallel loop.
void readThroughUnitExpands(IRRewriter &rewriter, func::FuncOp func) {
  func.walk([&](linalg::GenericOp op) {
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto expand = input->get().getDefiningOp<tensor::ExpandShapeOp>();
      if (!expand || !insertsUnitDimsOnly(expand))
        continue;
      ArrayRef<int64_t> shape = expand.getResultType().getShape();
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<AffineExpr> results;
      for (ReassociationIndicesRef group : expand.getReassociationIndices()) {
        const int64_t *kept =
            llvm::find_if(group, [&](int64_t d) { return shape[d] != 1; });
        results.push_back(map.getResult(kept == group.end() ? group.front() : *kept));
      }
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[input->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), map.getNumSymbols(), results, op.getContext());
      // A loop that only the dropped unit dims indexed would have no extent left.
      if (!inversePermutation(concatAffineMaps(maps, op.getContext())))
        continue;
      rewriter.modifyOpInPlace(op, [&] {
        input->set(expand.getSrc());
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
    }
  });
}

struct TileForTasks final : catfish::impl::CatfishTileForTasksBase<TileForTasks> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<bufferization::MaterializeInDestinationOp> stores;
    func.walk([&](bufferization::MaterializeInDestinationOp op) { stores.push_back(op); });
    if (stores.size() != 1)
      return;
    IRRewriter rewriter(&getContext());
    storeUncollapsed(rewriter, stores.front());
    readThroughUnitExpands(rewriter, func);
    // The root computes the stored value, or a widened version of it that a slice cuts (a
    // convolution computed on a grid of whole vectors).
    Value stored = stores.front().getSource();
    auto cut = stored.getDefiningOp<tensor::ExtractSliceOp>();
    if (cut && !isZeroOffsetUnitStrideSlice(cut))
      return;
    auto root = (cut ? cut.getSource() : stored).getDefiningOp<linalg::LinalgOp>();
    if (!root || root->getNumResults() != 1 || !root.hasPureTensorSemantics())
      return;

    SmallVector<int64_t> ranges = root.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return;
    // The parts share the root's work and its contraction's (an epilogue's root has far fewer
    // iterations than the matmul fused into it, which would otherwise get too few parts).
    int64_t work = iterationCount(ranges);
    for (Value input : root.getDpsInputs()) {
      auto producer = input.getDefiningOp<linalg::LinalgOp>();
      // (A depthwise convolution's loops are not a function of its shapes: no ranges.)
      if (!producer || !linalg::isaContractionOpInterface(producer) ||
          !producer.getShapesToLoopsMap())
        continue;
      SmallVector<int64_t> producerRanges = producer.getStaticLoopRanges();
      if (llvm::none_of(producerRanges, ShapedType::isDynamic))
        work = std::max(work, iterationCount(producerRanges));
    }
    int64_t budget = std::min<int64_t>(maxParts, work / std::max<int64_t>(minWork, 1));
    AffineMap resultMap = root.getIndexingMapMatchingResult(root->getResult(0));
    auto innermost = resultMap.getNumResults() == 0
                         ? nullptr
                         : dyn_cast<AffineDimExpr>(resultMap.getResults().back());
    DenseMap<Operation *, SmallVector<int64_t>> known;
    SmallVector<int64_t> multiples = tileMultiples(root, known);
    std::optional<std::pair<unsigned, int64_t>> choice;
    for (auto [d, ragged] : candidateDims(root)) {
      if (cut && isCutDim(root, cut, d))
        continue;
      // Parts along the result's contiguous dimension keep whole vectors and cache lines.
      int64_t minTile = innermost && innermost.getPosition() == d ? kMinContiguousTile : 1;
      minTile = std::lcm(minTile, multiples[d]);
      if (std::optional<int64_t> tile = chooseTile(ranges[d], minTile, budget, ragged)) {
        choice = {d, *tile};
        break;
      }
    }
    if (!choice)
      return;
    auto [dim, tile] = *choice;

    SmallVector<OpFoldResult> tileSizes(ranges.size(), rewriter.getIndexAttr(0));
    tileSizes[dim] = rewriter.getIndexAttr(tile);
    scf::SCFTilingOptions tiling;
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp).setTileSizes(tileSizes);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    // A producer without reductions whose whole result every part reads (a convolution's
    // im2col when the parts split its output channels) stays before the loop: each task
    // computes it once (PartitionTasks.cpp) instead of each part again. A reduction read
    // whole is still fused: before the loop it would make the kernel one task.
    options.setFusionControlFn(
        [](tensor::ExtractSliceOp slice, OpResult producer,
           bool) -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          auto structured = dyn_cast<linalg::LinalgOp>(producer.getOwner());
          if (isWholeSlice(slice) && (!structured || structured.getNumReductionLoops() == 0))
            return std::nullopt;
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        });
    rewriter.setInsertionPoint(root);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(root.getOperation()), options);
    if (failed(tiled)) {
      root.emitError("cannot split the kernel's work into parts");
      return signalPassFailure();
    }
    Value result = root->getResult(0);
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
    if (cut)
      moveCutIntoParts(rewriter, cut);
  }
};

} // namespace
