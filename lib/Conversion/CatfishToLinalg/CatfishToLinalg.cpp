//===- CatfishToLinalg.cpp - the catfish-convert-to-linalg pass ----------===//
#include "catfish/Conversion/CatfishToLinalg.h"

#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHCONVERTTOLINALG
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

void mlir::catfish::populateCatfishToLinalgConversion(RewritePatternSet &patterns,
                                                      ConversionTarget &target) {
  populateElementwiseToLinalgPatterns(patterns);
  populateDataMovementToLinalgPatterns(patterns);
  populateReductionToLinalgPatterns(patterns);
  populateStructuredToLinalgPatterns(patterns);
  target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect,
                         scf::SCFDialect, tensor::TensorDialect>();
  target.addIllegalDialect<CatfishDialect>();
}

namespace {
struct ConvertToLinalg final
    : catfish::impl::CatfishConvertToLinalgBase<ConvertToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    ConversionTarget target(*context);
    populateCatfishToLinalgConversion(patterns, target);
    // Report the first op left over, at its ONNX node, in words a user can act on.
    Operation *unsupported = nullptr;
    ConversionConfig config;
    if (succeeded(applyPartialConversion(getOperation(), target, std::move(patterns), config)))
      return;
    getOperation().walk([&](Operation *op) {
      if (!unsupported && isa<CatfishDialect>(op->getDialect()))
        unsupported = op;
    });
    if (unsupported)
      unsupported->emitError() << "the CPU code generator cannot lower '"
                               << unsupported->getName() << "' with operand types ("
                               << unsupported->getOperandTypes() << ") yet";
    signalPassFailure();
  }
};
} // namespace
