//===- SinkReshapes.cpp - the catfish-sink-reshapes pass ------------------===//
//
// Exporters often give a product leading unit dims right after it (torch.onnx writes GPT-2's
// Conv1D as Reshape -> Gemm -> Reshape to [1, tokens, N]) and apply its bias, residual add
// and activation on the reshaped value. A reshape between a product and its elementwise
// consumers keeps them out of the product's fusion region (its epilogue must be elementwise),
// so each costs a kernel and a pass over memory. Elementwise ops commute with a reshape that
// only adds leading unit dims: they run on the unreshaped shape instead, reading their other
// operands through views, and the reshape moves after them, where it is a view or cancels
// with the next one.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHSINKRESHAPES
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

bool allOnes(ArrayRef<int64_t> dims) {
  return llvm::all_of(dims, [](int64_t d) { return d == 1; });
}

/// How many leading unit dims `reshape` adds to its static input and nothing else; 0 if it
/// does something else.
int64_t addedUnitDims(ReshapeOp reshape) {
  auto input = cast<RankedTensorType>(reshape.getInput().getType());
  auto output = cast<RankedTensorType>(reshape.getType());
  int64_t added = output.getRank() - input.getRank();
  if (!input.hasStaticShape() || !output.hasStaticShape() || added <= 0 ||
      !allOnes(output.getShape().take_front(added)) ||
      output.getShape().drop_front(added) != input.getShape())
    return 0;
  return added;
}

/// `value` reshaped to the static `dims`.
Value reshapeTo(PatternRewriter &rewriter, Location loc, Value value, ArrayRef<int64_t> dims) {
  auto shapeType =
      RankedTensorType::get({static_cast<int64_t>(dims.size())}, rewriter.getI64Type());
  Value shape = ConstantOp::create(rewriter, loc, DenseIntElementsAttr::get(shapeType, dims));
  auto type = RankedTensorType::get(dims, cast<RankedTensorType>(value.getType()).getElementType());
  return ReshapeOp::create(rewriter, loc, type, value, shape);
}

/// elementwise(..., reshape(t), ...) -> reshape(elementwise(..., t, ...)) where the reshape only
/// adds leading unit dims and the op's result has the reshaped shape.
struct SinkUnitReshape final : RewritePattern {
  explicit SinkUnitReshape(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!op->hasTrait<OpTrait::catfish::BroadcastElementwise>() || op->getNumResults() != 1)
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType || !resultType.hasStaticShape())
      return failure();
    auto reshaped = llvm::find_if(op->getOperands(), [&](Value operand) {
      auto reshape = operand.getDefiningOp<ReshapeOp>();
      return reshape && reshape.getType().getShape() == resultType.getShape() &&
             addedUnitDims(reshape);
    });
    if (reshaped == op->getOperands().end())
      return rewriter.notifyMatchFailure(op, "no operand gains only leading unit dims");
    int64_t added = addedUnitDims((*reshaped).getDefiningOp<ReshapeOp>());

    // Broadcasting aligns trailing dims, and the result's leading `added` dims are 1: an
    // operand of lower rank broadcasts alike against the narrower shape; one of the result's
    // rank loses those unit dims (the reshaped operand gives back its input). Every operand is
    // checked before anything is created.
    ArrayRef<int64_t> narrow = resultType.getShape().drop_front(added);
    auto extraDims = [&](Value operand) {
      return cast<RankedTensorType>(operand.getType()).getRank() -
             static_cast<int64_t>(narrow.size());
    };
    if (!llvm::all_of(op->getOperands(), [&](Value operand) {
          auto type = dyn_cast<RankedTensorType>(operand.getType());
          return type && type.hasStaticShape() &&
                 allOnes(type.getShape().take_front(std::max<int64_t>(extraDims(operand), 0)));
        }))
      return rewriter.notifyMatchFailure(op, "an operand is dynamic or wider than the result");
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      int64_t extra = extraDims(operand);
      auto reshape = operand.getDefiningOp<ReshapeOp>();
      ArrayRef<int64_t> shape = cast<RankedTensorType>(operand.getType()).getShape();
      if (extra <= 0)
        operands.push_back(operand);
      else if (reshape && addedUnitDims(reshape) == extra)
        operands.push_back(reshape.getInput());
      else
        operands.push_back(reshapeTo(rewriter, op->getLoc(), operand, shape.drop_front(extra)));
    }
    OperationState state(op->getLoc(), op->getName(), operands,
                         RankedTensorType::get(narrow, resultType.getElementType()),
                         op->getAttrs());
    Operation *narrowed = rewriter.create(state);
    rewriter.replaceOp(
        op, reshapeTo(rewriter, op->getLoc(), narrowed->getResult(0), resultType.getShape()));
    return success();
  }
};

struct SinkReshapes final : catfish::impl::CatfishSinkReshapesBase<SinkReshapes> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SinkUnitReshape>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
