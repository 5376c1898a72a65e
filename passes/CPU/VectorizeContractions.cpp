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

/// The tile sizes of the register block for `op` with vectors of `vectorBits`, or failure
/// when `op` is not an f32 contraction with static extents whose result's innermost dimension
/// is its last n dimension. The last m dimension gets MR rows and the last n dimension NR
/// columns; every other dimension, reductions included, is tiled by 1. MR x NR is 4 x 16 with
/// 256-bit vectors (8 of the 16 ymm registers accumulate) and 8 x 32 with 512-bit ones (16 of
/// the 32 zmm registers), or the largest divisors below: NR whole vectors where they divide
/// the columns, else the widest divisor from 4 to 15 (or all of them up to 16).
FailureOr<SmallVector<int64_t>> registerBlock(linalg::LinalgOp op, int64_t vectorBits) {
  if (!linalg::isaContractionOpInterface(op) || !op.hasPureTensorSemantics())
    return failure();
  for (OpOperand &operand : op->getOpOperands())
    if (!getElementTypeOrSelf(operand.get().getType()).isF32())
      return failure();
  FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() || dims->k.empty())
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return failure();
  // The NR columns must be contiguous in the result.
  AffineMap resultMap = op.getIndexingMapMatchingResult(op->getResult(0));
  auto innermost = dyn_cast<AffineDimExpr>(resultMap.getResults().back());
  if (!innermost || innermost.getPosition() != dims->n.back())
    return failure();
  bool wide = vectorBits >= 512;
  int64_t columns = ranges[dims->n.back()];
  int64_t nr = pickBlock(columns, wide ? ArrayRef<int64_t>{32, 16, 8} : ArrayRef<int64_t>{16, 8});
  if (nr == 0)
    nr = pickBlock(columns, {15, 14, 13, 12, 11, 10, 9, 7, 6, 5, 4});
  if (nr == 0 && columns <= 16)
    nr = columns;
  int64_t mr =
      pickBlock(ranges[dims->m.back()], wide ? ArrayRef<int64_t>{8, 4, 2, 1} : ArrayRef<int64_t>{4, 2, 1});
  if (nr == 0)
    return failure();
  SmallVector<int64_t> tiles(ranges.size(), 1);
  tiles[dims->m.back()] = mr;
  tiles[dims->n.back()] = nr;
  return tiles;
}

struct VectorizeContractions final
    : catfish::impl::CatfishVectorizeContractionsBase<VectorizeContractions> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) { candidates.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      FailureOr<SmallVector<int64_t>> tiles = registerBlock(op, vectorBits);
      if (failed(tiles))
        continue;
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
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), *tiles))
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
