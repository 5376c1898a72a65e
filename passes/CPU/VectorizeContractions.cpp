//===- VectorizeContractions.cpp - the catfish-vectorize-contractions pass ===//
//
// Register tiling for f32 matmul-like contractions on tensors. Each contraction is tiled into
// MR x NR blocks of its result with the reduction loop innermost, and each block step
// (MR x 1 times 1 x NR) becomes one vector.contract. After loop-invariant-subset-hoisting
// the MR x NR accumulator is a loop-carried vector that stays in registers for the whole
// reduction, and the contraction lowers to NR-wide FMAs: the classic register-blocked
// micro-kernel, instead of loading and storing the result row on every reduction step.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHVECTORIZECONTRACTIONS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The first of `choices` that divides `extent`, or 0.
int64_t pickBlock(int64_t extent, ArrayRef<int64_t> choices) {
  for (int64_t choice : choices)
    if (extent % choice == 0)
      return choice;
  return 0;
}

/// The widest register blocks first: columns in whole vectors, rows by the accumulators left.
ArrayRef<int64_t> columnBlocks(bool wide) {
  static constexpr int64_t kWide[] = {32, 16, 8}, kNarrow[] = {16, 8};
  return wide ? ArrayRef<int64_t>(kWide) : ArrayRef<int64_t>(kNarrow);
}
ArrayRef<int64_t> rowBlocks(bool wide) {
  static constexpr int64_t kWide[] = {8, 4, 2, 1}, kNarrow[] = {4, 2, 1};
  return wide ? ArrayRef<int64_t>(kWide) : ArrayRef<int64_t>(kNarrow);
}

/// Where to cut `extent` so that its first part is whole blocks of the widest of `blocks` that
/// fits, the rest cut again later: 0 where that block divides `extent` or none fits.
int64_t splitPoint(int64_t extent, ArrayRef<int64_t> blocks) {
  for (int64_t block : blocks)
    if (block <= extent)
      return extent % block ? extent / block * block : 0;
  return 0;
}

/// The row (last m) and column (last n) dimensions of `op` and its loop ranges, or failure
/// when `op` is not an f32 contraction whose rows, columns and reductions have static extents
/// (other loops, tiled by 1, may be dynamic: a shorter last task) and whose result's innermost
/// dimension is its last n dimension.
struct BlockDims {
  unsigned rows, columns;
  SmallVector<int64_t> ranges;
};
FailureOr<BlockDims> blockDims(linalg::LinalgOp op) {
  if (!linalg::isaContractionOpInterface(op) || !op.hasPureTensorSemantics())
    return failure();
  for (OpOperand &operand : op->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return failure();
  FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() || dims->k.empty())
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges[dims->m.back()]) ||
      ShapedType::isDynamic(ranges[dims->n.back()]) ||
      llvm::any_of(dims->k, [&](unsigned d) { return ShapedType::isDynamic(ranges[d]); }))
    return failure();
  // The NR columns must be contiguous in the result.
  AffineMap resultMap = op.getIndexingMapMatchingResult(op->getResult(0));
  auto innermost = dyn_cast<AffineDimExpr>(resultMap.getResults().back());
  if (!innermost || innermost.getPosition() != dims->n.back())
    return failure();
  return BlockDims{dims->m.back(), dims->n.back(), std::move(ranges)};
}

/// The tile sizes of the register block: the rows get MR and the columns NR, every other
/// dimension, reductions included, 1. MR x NR is 4 x 16 with 256-bit vectors (8 of the 16 ymm
/// registers accumulate) and 8 x 32 with 512-bit ones (16 of the 32 zmm registers), or the
/// widest block that fits: extents were cut first (`cutRaggedExtent`) so that it divides them.
/// Fewer than 8 columns are one block.
SmallVector<int64_t> registerBlock(const BlockDims &dims, bool wide) {
  int64_t columns = dims.ranges[dims.columns];
  int64_t nr = pickBlock(columns, columnBlocks(wide));
  if (nr == 0)
    nr = columns;
  SmallVector<int64_t> tiles(dims.ranges.size(), 1);
  tiles[dims.rows] = pickBlock(dims.ranges[dims.rows], rowBlocks(wide));
  tiles[dims.columns] = nr;
  return tiles;
}

/// Cuts `op` along its columns, else its rows, where `splitPoint` says, and queues both parts;
/// false where neither needs a cut.
bool cutRaggedExtent(RewriterBase &rewriter, linalg::GenericOp op, const BlockDims &dims,
                     bool wide, SmallVectorImpl<linalg::GenericOp> &worklist) {
  for (auto [dim, blocks] : {std::pair(dims.columns, columnBlocks(wide)),
                             std::pair(dims.rows, rowBlocks(wide))}) {
    int64_t at = splitPoint(dims.ranges[dim], blocks);
    if (at == 0)
      continue;
    rewriter.setInsertionPoint(op);
    auto [first, second] = linalg::splitOp(rewriter, cast<TilingInterface>(op.getOperation()),
                                           dim, rewriter.getIndexAttr(at));
    worklist.push_back(cast<linalg::GenericOp>(first.getOperation()));
    worklist.push_back(cast<linalg::GenericOp>(second.getOperation()));
    return true;
  }
  return false;
}

struct VectorizeContractions final
    : catfish::impl::CatfishVectorizeContractionsBase<VectorizeContractions> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> worklist;
    getOperation().walk([&](linalg::GenericOp op) { worklist.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool wide = vectorBits >= 512;
    while (!worklist.empty()) {
      linalg::GenericOp op = worklist.pop_back_val();
      FailureOr<BlockDims> blocked = blockDims(op);
      if (failed(blocked))
        continue;
      // An extent that the widest fitting block does not divide is cut in two, whole blocks
      // and the rest, and each part comes back here: 50257 columns become 50240 in 32-wide
      // blocks, 16 and 1, rather than 50257 scalar columns.
      if (cutRaggedExtent(rewriter, op, *blocked, wide, worklist))
        continue;
      SmallVector<int64_t> tiles = registerBlock(*blocked, wide);
      // Loops: batch, then the columns (n), then the rows (m), the reductions innermost. With
      // the rows inside the columns, one NR-wide panel of the right operand (weights of a
      // matmul, im2col columns of a convolution) stays in cache while every row block of the
      // left operand passes over it, instead of streaming the whole right operand once per
      // MR rows.
      linalg::ContractionDimensions dims = *linalg::inferContractionDims(op);
      SmallVector<int64_t> order;
      for (ArrayRef<unsigned> group : {ArrayRef<unsigned>(dims.batch), ArrayRef<unsigned>(dims.n),
                                       ArrayRef<unsigned>(dims.m), ArrayRef<unsigned>(dims.k)})
        llvm::append_range(order, group);

      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tiles))
          .setInterchange(order);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled)) {
        op.emitError("cannot tile the contraction into register blocks");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, tiled->replacements);
      Operation *block = tiled->tiledOps.back();
      rewriter.setInsertionPoint(block);
      FailureOr<linalg::VectorizationResult> vectorized =
          linalg::vectorize(rewriter, block, /*inputVectorSizes=*/{},
                            /*inputScalableVecDims=*/{}, /*vectorizeNDExtract=*/false,
                            /*flatten1DDepthwiseConv=*/false,
                            /*assumeDynamicDimsMatchVecSizes=*/false,
                            /*createNamedContraction=*/true);
      if (failed(vectorized)) {
        block->emitError("cannot vectorize the contraction's register block");
        return signalPassFailure();
      }
      rewriter.replaceOp(block, vectorized->replacements);
    }
  }
};

} // namespace
