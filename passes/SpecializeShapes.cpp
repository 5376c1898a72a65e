//===- SpecializeShapes.cpp - propagate static shapes and fold -----------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "catfish-specialize-shapes"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHSPECIALIZESHAPES
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The more static of two compatible types (same element type and rank), or null.
Type joinTypes(Type current, Type inferred) {
  auto a = dyn_cast<RankedTensorType>(current);
  auto b = dyn_cast<RankedTensorType>(inferred);
  if (!a || !b || a.getElementType() != b.getElementType() || a.getRank() != b.getRank())
    return nullptr;
  SmallVector<int64_t> dims;
  for (auto [x, y] : llvm::zip(a.getShape(), b.getShape())) {
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return nullptr;
    dims.push_back(ShapedType::isDynamic(x) ? y : x);
  }
  return RankedTensorType::get(dims, a.getElementType());
}

/// Refines the result types of `op` from its inference; returns whether anything changed.
bool refineResults(InferTypeOpInterface op) {
  SmallVector<Type> inferred;
  if (failed(op.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                 op->getAttrDictionary(), op->getPropertiesStorage(),
                                 op->getRegions(), inferred)))
    return false;
  bool changed = false;
  for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
    Type joined = joinTypes(result.getType(), type);
    if (joined && joined != result.getType()) {
      result.setType(joined);
      changed = true;
    }
  }
  return changed;
}

struct SpecializeShapes final
    : catfish::impl::CatfishSpecializeShapesBase<SpecializeShapes> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool changed = true;
    // Each round refines types in program order, then folds what became constant.
    for (int round = 0; changed && round < 16; ++round) {
      changed = false;
      module.walk([&](InferTypeOpInterface op) { changed |= refineResults(op); });
      bool folded = false;
      if (failed(applyPatternsGreedily(module, RewritePatternSet(&getContext()),
                                       GreedyRewriteConfig(), &folded)))
        return signalPassFailure();
      changed |= folded;
    }
    module.walk([](func::FuncOp func) {
      if (func.isExternal())
        return;
      auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
      func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                     ret.getOperandTypes()));
    });
  }
};

} // namespace
