//===- Loss.cpp - ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss -===//
//
// Both losses are composed from primitive catfish ops, as their ONNX function bodies are.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// ONNX NegativeLogLikelihoodLoss of log-probabilities `x` [N, C, d...] and class indices
/// `target` [N, d...], with optional per-class `weight` [C]:
///   loss[n, d...] = -x[n, target[n, d...], d...] * weight[target[n, d...]],
/// and 0 where target == ignore_index. `reduction` "none" keeps that tensor, "sum" adds it up,
/// and "mean" divides the sum by the sum of the weights applied (by the count of targets not
/// ignored when there are no weights). Returns null after recording a failure.
static Value negativeLogLikelihood(NodeContext &node, Value x, Value target, Value weight) {
  RankedTensorType xt = typeOf(x), tt = typeOf(target);
  if (xt.getRank() < 2 || tt.getRank() != xt.getRank() - 1) {
    (void)node.fail("the input must be [N, C, d...] and the target [N, d...]; got " +
                    Twine(xt.getRank()) + "-D and " + Twine(tt.getRank()) + "-D");
    return {};
  }
  std::string reduction = node.attrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    (void)node.fail("attribute 'reduction' must be none, sum or mean, got '" + reduction + "'");
    return {};
  }
  OpBuilder &b = node.builder();
  Type et = xt.getElementType(), it = tt.getElementType();

  // Ignored targets gather class 0 (any valid index) and get weight 0.
  Value index = target, ignored;
  if (node.attr("ignore_index")) {
    ignored = node.make<EqualOp>(
        {target, node.constScalar(it, static_cast<double>(node.attrInt("ignore_index", 0)))});
    index = node.make<SelectOp>({ignored, node.constScalar(it, 0), target});
  }

  // x[n, index[n, d...], d...] through an index of shape [N, 1, d...].
  int64_t rank = tt.getRank();
  Value unsqueezed = node.reshapeTo(
      index, {node.shapeOf(index, 0, 1), node.constI64({1}), node.shapeOf(index, 1, rank)});
  Value picked =
      node.make<GatherElementsOp>({x, unsqueezed}, {node.named("axis", b.getI64IntegerAttr(1))});
  Value loss = node.make<NegOp>({node.reshapeTo(picked, {node.shapeOf(index, 0, rank)})});

  Value weights;
  if (weight) {
    weights = node.make<GatherOp>({weight, index}, {node.named("axis", b.getI64IntegerAttr(0))});
    if (!weights)
      return {};
  }
  if (ignored)
    weights = node.make<SelectOp>(
        {ignored, node.constScalar(et, 0), weights ? weights : node.constScalar(et, 1)});
  if (weights)
    loss = node.make<MulOp>({loss, weights});

  if (reduction == "none" || !loss)
    return loss;
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (reduction == "sum")
    return node.reduce(loss, ReduceKind::sum, all, false);
  if (!weights)
    return node.reduce(loss, ReduceKind::mean, all, false);
  return node.make<DivOp>({node.reduce(loss, ReduceKind::sum, all, false),
                           node.reduce(weights, ReduceKind::sum, all, false)});
}

static LogicalResult convertNegativeLogLikelihoodLoss(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), target = node.requiredInput(1);
  if (failed(x) || failed(target))
    return failure();
  Value loss = negativeLogLikelihood(node, *x, *target, node.input(2));
  return loss ? node.setOutput(0, loss) : failure();
}

/// SoftmaxCrossEntropyLoss = NegativeLogLikelihoodLoss(LogSoftmax(scores, axis 1), labels);
/// the optional second output is that log-probability.
static LogicalResult convertSoftmaxCrossEntropyLoss(NodeContext &node) {
  FailureOr<Value> scores = node.requiredInput(0), labels = node.requiredInput(1);
  if (failed(scores) || failed(labels))
    return failure();
  Value logProb =
      node.make<LogSoftmaxOp>({*scores}, {node.named("axis", node.builder().getI64IntegerAttr(1))});
  Value loss = logProb ? negativeLogLikelihood(node, logProb, *labels, node.input(2)) : Value();
  if (!loss)
    return failure();
  (void)node.setOutput(0, loss);
  return node.setOutput(1, logProb);
}

void mlir::catfish::onnx_import::registerLossConverters(ConverterMap &map) {
  map["NegativeLogLikelihoodLoss"] = convertNegativeLogLikelihoodLoss;
  map["SoftmaxCrossEntropyLoss"] = convertSoftmaxCrossEntropyLoss;
}
