//===- CatfishToLinalg.cpp - the catfish-convert-to-linalg pass ----------===//
#include "catfish/Conversion/CatfishToLinalg.h"

#include "Utils.h"

#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHCONVERTTOLINALG
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

void mlir::catfish::populateCatfishToLinalgConversion(RewritePatternSet &patterns,
                                                      ConversionTarget &target,
                                                      bool scatterAsSelections) {
  populateElementwiseToLinalgPatterns(patterns);
  populateDataMovementToLinalgPatterns(patterns, scatterAsSelections);
  populateReductionToLinalgPatterns(patterns);
  populateStructuredToLinalgPatterns(patterns);
  populateQuantizationToLinalgPatterns(patterns);
  populateResamplingToLinalgPatterns(patterns);
  populateSequentialToLinalgPatterns(patterns);
  target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect,
                         scf::SCFDialect, tensor::TensorDialect>();
  target.addIllegalDialect<CatfishDialect>();
}

/// The signless twin of `type` when it is an unsigned integer type or a tensor or memref of
/// one (kernel arguments are memrefs).
static Type signlessTwin(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  auto integer = dyn_cast<IntegerType>(shaped ? shaped.getElementType() : type);
  if (!integer || !integer.isUnsigned())
    return {};
  Type signless = IntegerType::get(type.getContext(), integer.getWidth());
  return shaped ? Type(shaped.clone(signless)) : signless;
}

/// Makes every unsigned integer type in `func` signless, in place, after marking the ops that
/// read or produce unsigned values (lowering::kUnsignedOperands / kUnsignedResults).
static void makeSignless(func::FuncOp func) {
  MLIRContext *context = func.getContext();
  auto isUnsigned = [](Type type) { return static_cast<bool>(signlessTwin(type)); };
  func.walk([&](Operation *op) {
    if (!isa<CatfishDialect>(op->getDialect()))
      return;
    if (llvm::any_of(op->getOperandTypes(), isUnsigned))
      op->setAttr(lowering::kUnsignedOperands, UnitAttr::get(context));
    if (llvm::any_of(op->getResultTypes(), isUnsigned))
      op->setAttr(lowering::kUnsignedResults, UnitAttr::get(context));
  });
  func.walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument argument : block.getArguments())
          if (Type twin = signlessTwin(argument.getType()))
            argument.setType(twin);
    for (OpResult result : op->getResults())
      if (Type twin = signlessTwin(result.getType()))
        result.setType(twin);
    auto constant = dyn_cast<ConstantOp>(op);
    if (!constant || constant.getValue().getType() == constant.getType())
      return;
    auto type = cast<ShapedType>(constant.getType());
    if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue()))
      constant.setValueAttr(dense.bitcast(type.getElementType()));
    else if (auto blob = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      constant.setValueAttr(DenseResourceElementsAttr::get(type, blob.getRawHandle()));
  });
  Block &entry = func.getBody().front();
  func.setFunctionType(FunctionType::get(context, entry.getArgumentTypes(),
                                         entry.getTerminator()->getOperandTypes()));
}

namespace {
struct ConvertToLinalg final
    : catfish::impl::CatfishConvertToLinalgBase<ConvertToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    makeSignless(getOperation());
    RewritePatternSet patterns(context);
    ConversionTarget target(*context);
    populateCatfishToLinalgConversion(patterns, target, scatterAsSelections);
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
