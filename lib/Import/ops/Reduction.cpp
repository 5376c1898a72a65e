//===- Reduction.cpp - ONNX reductions, ArgMax/ArgMin, TopK --------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static FailureOr<Value> reduce(NodeContext &node, Value x, ReduceKind kind,
                               ArrayRef<int64_t> axes, bool keepdims) {
  OpBuilder &b = node.builder();
  return node.create<ReduceOp>({x}, {node.named("kind", ReduceKindAttr::get(node.ctx(), kind)),
                                     node.named("axes", b.getDenseI64ArrayAttr(axes)),
                                     node.named("keepdims", b.getBoolAttr(keepdims))});
}

static FailureOr<Value> unary(NodeContext &node, StringRef op, Value x) {
  auto r = node.create(op, {x});
  if (failed(r))
    return failure();
  return r->front();
}

/// Every ONNX Reduce*: sum, mean, max, min and prod map directly; the others are composed
/// (L1 = sum|x|, L2 = sqrt(sum x^2), LogSum = log(sum x), LogSumExp = m + log(sum e^(x - m)),
/// SumSquare = sum x^2).
static LogicalResult convertReduce(NodeContext &node) {
  FailureOr<Value> input = node.requiredInput(0);
  if (failed(input))
    return failure();
  Value x = *input;
  SmallVector<int64_t> axes = node.attrInts("axes");
  if (Value axesValue = node.input(1)) {
    auto values = getConstantIntValues(axesValue);
    if (!values)
      return node.fail("axes must be a constant");
    axes = *values;
  }
  bool keepdims = node.attrInt("keepdims", 1) != 0;
  if (axes.empty() && node.attrInt("noop_with_empty_axes", 0))
    return node.setOutput(0, x);
  StringRef type = node.node().op_type();
  ReduceKind kind = llvm::StringSwitch<ReduceKind>(type)
                        .Case("ReduceMean", ReduceKind::mean)
                        .Case("ReduceMax", ReduceKind::max)
                        .Case("ReduceMin", ReduceKind::min)
                        .Case("ReduceProd", ReduceKind::prod)
                        .Default(ReduceKind::sum);
  FailureOr<Value> pre = x;
  if (type == "ReduceL1")
    pre = unary(node, AbsOp::getOperationName(), x);
  else if (type == "ReduceL2" || type == "ReduceSumSquare")
    pre = node.create<MulOp>({x, x});
  if (type == "ReduceLogSumExp") {
    auto m = reduce(node, x, ReduceKind::max, axes, true);
    if (failed(m))
      return failure();
    auto shifted = node.create<SubOp>({x, *m});
    auto e = succeeded(shifted) ? unary(node, ExpOp::getOperationName(), *shifted) : FailureOr<Value>(failure());
    auto s = succeeded(e) ? reduce(node, *e, ReduceKind::sum, axes, true) : FailureOr<Value>(failure());
    auto l = succeeded(s) ? unary(node, LogOp::getOperationName(), *s) : FailureOr<Value>(failure());
    auto sum = succeeded(l) ? node.create<AddOp>({*l, *m}) : FailureOr<Value>(failure());
    if (failed(sum))
      return failure();
    if (keepdims)
      return node.setOutput(0, *sum);
    auto squeezed = reduce(node, *sum, ReduceKind::sum, axes, false);
    return failed(squeezed) ? failure() : node.setOutput(0, *squeezed);
  }
  if (failed(pre))
    return failure();
  FailureOr<Value> r = reduce(node, *pre, kind, axes, keepdims);
  if (succeeded(r) && type == "ReduceL2")
    r = unary(node, SqrtOp::getOperationName(), *r);
  else if (succeeded(r) && type == "ReduceLogSum")
    r = unary(node, LogOp::getOperationName(), *r);
  return failed(r) ? failure() : node.setOutput(0, *r);
}

static LogicalResult convertArgReduce(NodeContext &node) {
  OpBuilder &b = node.builder();
  SmallVector<NamedAttribute> attrs = {
      node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", 0))),
      node.named("keepdims", b.getBoolAttr(node.attrInt("keepdims", 1))),
      node.named("select_last_index", b.getBoolAttr(node.attrInt("select_last_index", 0)))};
  auto r = node.create(node.node().op_type() == "ArgMax" ? ArgMaxOp::getOperationName()
                                                         : ArgMinOp::getOperationName(),
                       {node.input(0)}, attrs);
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

/// TopK. A run-time k (opset 10 on) sorts the whole axis and gives the outputs a bounded dim:
/// their first k entries along the axis are the result.
static LogicalResult convertTopK(NodeContext &node) {
  int64_t k = node.attrInt("k", -1);
  Value runtimeK;
  RankedTensorType type = typeOf(node.input(0));
  int64_t axis = node.attrInt("axis", -1);
  axis = axis < 0 ? axis + type.getRank() : axis;
  if (node.opset() >= 10) {
    FailureOr<Value> kInput = node.requiredInput(1);
    if (failed(kInput))
      return failure();
    if (auto values = getConstantIntValues(*kInput)) {
      if (values->size() != 1)
        return node.fail("TopK k must hold one value");
      k = values->front();
    } else {
      if (axis < 0 || axis >= type.getRank() || type.isDynamicDim(axis))
        return node.fail("TopK with a run-time k needs a static size along its axis");
      if (!typeOf(*kInput).hasStaticShape() || typeOf(*kInput).getNumElements() != 1)
        return node.fail("TopK k must hold one value");
      k = type.getDimSize(axis);
      // The run-time count: k clamped to [0, the axis size].
      Value scalarK = node.reshapeTo(*kInput, {node.constI64({})});
      runtimeK = node.make<MinOp>({node.make<MaxOp>({scalarK, node.constI64({0}, true)}),
                                   node.constI64({k}, true)});
      if (!runtimeK)
        return failure();
    }
  }
  OpBuilder &b = node.builder();
  auto r = node.create(TopKOp::getOperationName(), {node.input(0)},
                       {node.named("k", b.getI64IntegerAttr(k)),
                        node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", -1))),
                        node.named("largest", b.getBoolAttr(node.attrInt("largest", 1))),
                        node.named("sorted", b.getBoolAttr(node.attrInt("sorted", 1)))});
  if (failed(r))
    return failure();
  if (runtimeK) {
    markBounded(node, (*r)[0], axis, runtimeK);
    markBounded(node, (*r)[1], axis, runtimeK);
  }
  (void)node.setOutput(0, (*r)[0]);
  return node.setOutput(1, (*r)[1]);
}

void mlir::catfish::onnx_import::registerReductionConverters(ConverterMap &map) {
  for (StringRef name : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                         "ReduceSumSquare"})
    map[name] = convertReduce;
  map["ArgMax"] = convertArgReduce;
  map["ArgMin"] = convertArgReduce;
  map["TopK"] = convertTopK;
}
