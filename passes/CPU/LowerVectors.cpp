//===- LowerVectors.cpp - the catfish-lower-vectors pass ------------------===//
//
// Lowers the n-D vector ops of the contraction micro-kernels (VectorizeContractions.cpp), on
// memrefs, to 1-D loads, stores, broadcasts and FMAs: unit dims are dropped, transfers
// become loads/stores plus broadcasts, contractions become outer products of FMAs. What
// stays n-D is unrolled afterwards by convert-vector-to-scf.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHLOWERVECTORS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

struct LowerVectors final : catfish::impl::CatfishLowerVectorsBase<LowerVectors> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet unitDims(context);
    vector::populateCastAwayVectorLeadingOneDimPatterns(unitDims);
    vector::populateVectorTransferDropUnitDimsPatterns(unitDims);
    vector::populateDropUnitDimWithShapeCastPatterns(unitDims);
    vector::populateVectorReductionToContractPatterns(unitDims);
    if (failed(applyPatternsGreedily(getOperation(), std::move(unitDims))))
      return signalPassFailure();
    RewritePatternSet lowering(context);
    vector::populateVectorContractLoweringPatterns(lowering,
                                                   vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(lowering);
    vector::populateVectorMultiReductionLoweringPatterns(
        lowering, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
    vector::populateVectorTransferLoweringPatterns(lowering, /*maxTransferRank=*/1);
    vector::populateVectorBroadcastLoweringPatterns(lowering);
    vector::populateVectorShapeCastLoweringPatterns(lowering);
    vector::populateVectorTransposeLoweringPatterns(lowering,
                                                    vector::VectorTransposeLowering::EltWise);
    if (failed(applyPatternsGreedily(getOperation(), std::move(lowering))))
      signalPassFailure();
  }
};

} // namespace
