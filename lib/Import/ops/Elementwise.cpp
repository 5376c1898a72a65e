//===- Elementwise.cpp - ONNX elementwise ops ----------------------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// ONNX op type -> catfish op name, for ops that map one to one.
static const llvm::StringMap<StringRef> &directOps() {
  static const llvm::StringMap<StringRef> map = {
      {"Abs", "catfish.abs"},
      {"Neg", "catfish.neg"},
      {"Sign", "catfish.sign"},
      {"Relu", "catfish.relu"},
      {"Not", "catfish.not"},
      {"BitwiseNot", "catfish.bitwise_not"},
      {"Exp", "catfish.exp"},
      {"Log", "catfish.log"},
      {"Sqrt", "catfish.sqrt"},
      {"Reciprocal", "catfish.reciprocal"},
      {"Sigmoid", "catfish.sigmoid"},
      {"Tanh", "catfish.tanh"},
      {"Erf", "catfish.erf"},
      {"Sin", "catfish.sin"},
      {"Cos", "catfish.cos"},
      {"Tan", "catfish.tan"},
      {"Asin", "catfish.asin"},
      {"Acos", "catfish.acos"},
      {"Atan", "catfish.atan"},
      {"Sinh", "catfish.sinh"},
      {"Cosh", "catfish.cosh"},
      {"Asinh", "catfish.asinh"},
      {"Acosh", "catfish.acosh"},
      {"Atanh", "catfish.atanh"},
      {"Floor", "catfish.floor"},
      {"Ceil", "catfish.ceil"},
      {"Round", "catfish.round"},
      {"Softplus", "catfish.softplus"},
      {"Softsign", "catfish.softsign"},
      {"Mish", "catfish.mish"},
      {"HardSwish", "catfish.hard_swish"},
      {"IsNaN", "catfish.is_nan"},
      {"Add", "catfish.add"},
      {"Sub", "catfish.sub"},
      {"Mul", "catfish.mul"},
      {"Div", "catfish.div"},
      {"Pow", "catfish.pow"},
      {"And", "catfish.and"},
      {"Or", "catfish.or"},
      {"Xor", "catfish.xor"},
      {"Equal", "catfish.equal"},
      {"Less", "catfish.less"},
      {"LessOrEqual", "catfish.less_equal"},
      {"Greater", "catfish.greater"},
      {"GreaterOrEqual", "catfish.greater_equal"},
      {"BitwiseAnd", "catfish.bitwise_and"},
      {"BitwiseOr", "catfish.bitwise_or"},
      {"BitwiseXor", "catfish.bitwise_xor"},
      {"PRelu", "catfish.prelu"},
      {"Where", "catfish.select"},
  };
  return map;
}

/// Before opset 7, binary ops broadcast only with `broadcast` = 1, and then B's dims match A's
/// from `axis` on (suffix matching when `axis` is absent, which numpy broadcasting also does).
/// Before opset 7 too, PRelu's 1-D slope is per channel (dim 1), not per last dim.
static Value legacyBroadcast(NodeContext &node, Value a, Value b) {
  int64_t rankA = typeOf(a).getRank(), rankB = typeOf(b).getRank();
  int64_t axis = -1;
  if (node.node().op_type() == "PRelu") {
    if (rankB == 1 && rankA > 2 && typeOf(b).getDimSize(0) == typeOf(a).getDimSize(1) &&
        typeOf(b).getDimSize(0) != 1)
      axis = 1;
  } else if (node.attrInt("broadcast", 0) && node.attr("axis")) {
    axis = node.attrInt("axis", 0);
    if (axis < 0)
      axis += rankA;
  }
  if (axis < 0 || rankB == 0 || axis + rankB > rankA)
    return b;
  return node.reshapeTo(b, {node.constI64(SmallVector<int64_t>(axis, 1)),
                            node.shapeOf(b, 0, rankB),
                            node.constI64(SmallVector<int64_t>(rankA - axis - rankB, 1))});
}

static LogicalResult convertDirect(NodeContext &node) {
  StringRef opName = directOps().lookup(node.node().op_type());
  FailureOr<SmallVector<Value>> inputs = node.requiredInputs(0, node.numInputs());
  if (failed(inputs))
    return failure();
  SmallVector<Value> operands = std::move(*inputs);
  if (node.opset() < 7 && operands.size() == 2) {
    operands[1] = legacyBroadcast(node, operands[0], operands[1]);
    if (!operands[1])
      return failure();
  }
  auto results = node.create(opName, operands);
  if (failed(results))
    return failure();
  return node.setOutput(0, results->front());
}

static LogicalResult convertIdentity(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  if (node.node().op_type() != "Dropout")
    return node.setOutput(0, *x);
  // Inference: the identity, and a mask of all true. Training mode drops at random, which an
  // inference compiler does not do: refuse it rather than compute something else.
  if (node.opset() < 7 && !node.attrInt("is_test", 0))
    return node.fail("Dropout with is_test = 0 runs in training mode (random drops), which is "
                     "not supported; inference models set is_test = 1");
  if (Value training = node.input(2)) {
    std::optional<SmallVector<int64_t>> flag = getConstantIntValues(training);
    if (!flag || flag->size() != 1 || (*flag)[0] != 0)
      return node.fail("training-mode Dropout (training_mode not a constant false) is not "
                       "supported");
  }
  if (failed(node.setOutput(0, *x)))
    return failure();
  if (!node.hasOutput(1))
    return success();
  OpBuilder &b = node.builder();
  Value mask = node.make<FillOp>({node.shapeOf(*x, 0, typeOf(*x).getRank())},
                                 {node.named("value", b.getIntegerAttr(b.getI1Type(), 1))});
  return mask ? node.setOutput(1, mask) : failure();
}

/// Sum, Max, Min, Mean: a left fold of the binary op over all inputs.
static LogicalResult convertVariadic(NodeContext &node) {
  StringRef type = node.node().op_type();
  StringRef opName = type == "Max" ? "catfish.max" : type == "Min" ? "catfish.min" : "catfish.add";
  FailureOr<Value> acc = node.requiredInput(0);
  if (failed(acc))
    return failure();
  Value result = *acc;
  for (size_t i = 1; i < node.numInputs(); ++i) {
    auto next = node.create(opName, {result, node.input(i)});
    if (failed(next))
      return failure();
    result = next->front();
  }
  if (type == "Mean" && node.numInputs() > 1) {
    Value n = node.constScalar(getElementTypeOrSelf(result), node.numInputs());
    auto mean = node.create<DivOp>({result, n});
    if (failed(mean))
      return failure();
    result = *mean;
  }
  return node.setOutput(0, result);
}

static LogicalResult convertMod(NodeContext &node) {
  auto r = node.create<ModOp>(
      {node.input(0), node.input(1)},
      {node.named("fmod", node.builder().getBoolAttr(node.attrInt("fmod", 0) != 0))});
  return failed(r) ? failure() : node.setOutput(0, *r);
}

static LogicalResult convertBitShift(NodeContext &node) {
  std::string direction = node.attrString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return node.fail("attribute 'direction' must be LEFT or RIGHT, got '" + direction + "'");
  auto r = node.create(direction == "LEFT" ? "catfish.shift_left" : "catfish.shift_right",
                       {node.input(0), node.input(1)});
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

static LogicalResult castTo(NodeContext &node, Value x, Type elementType) {
  auto type = cast<RankedTensorType>(x.getType()).clone(elementType);
  auto r = node.create(
      CastOp::getOperationName(), {x},
      {node.named("saturate", node.builder().getBoolAttr(node.attrInt("saturate", 1)))}, {type});
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

static LogicalResult convertCast(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  // Before opset 6, `to` names the type as a string ("FLOAT").
  const onnx::AttributeProto *toAttr = node.attr("to");
  FailureOr<int64_t> to = failure();
  if (toAttr && toAttr->type() == onnx::AttributeProto::STRING) {
    onnx::TensorProto::DataType named;
    if (!onnx::TensorProto::DataType_Parse(toAttr->s(), &named))
      return node.fail("attribute 'to' names no ONNX type: '" + toAttr->s() + "'");
    to = named;
  } else {
    to = node.requiredAttrInt("to");
  }
  if (failed(to))
    return failure();
  Type et = onnxElementType(node.ctx(), *to);
  if (!et)
    return node.fail("cannot cast to " + onnxDataTypeName(*to));
  return castTo(node, *x, et);
}

static LogicalResult convertCastLike(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), like = node.requiredInput(1);
  if (failed(x) || failed(like))
    return failure();
  return castTo(node, *x, getElementTypeOrSelf(*like));
}

/// Clip(x, min, max) = min(max(x, lo), hi); bounds are inputs from opset 11, attributes before.
static LogicalResult convertClip(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  Type et = getElementTypeOrSelf(*x);
  Value lo = node.input(1), hi = node.input(2);
  if (node.opset() < 11) {
    if (node.attr("min"))
      lo = node.constScalar(et, node.attrFloat("min", 0));
    if (node.attr("max"))
      hi = node.constScalar(et, node.attrFloat("max", 0));
  }
  Value result = *x;
  if (lo) {
    auto r = node.create<MaxOp>({result, lo});
    if (failed(r))
      return failure();
    result = *r;
  }
  if (hi) {
    auto r = node.create<MinOp>({result, hi});
    if (failed(r))
      return failure();
    result = *r;
  }
  return node.setOutput(0, result);
}

/// Activations with float parameters: each entry lists (attribute, default) pairs.
static LogicalResult convertParamActivation(NodeContext &node) {
  struct Param {
    const char *name;
    float defaultValue;
  };
  struct Spec {
    StringRef op;
    SmallVector<Param, 2> params;
  };
  static const llvm::StringMap<Spec> specs = {
      {"LeakyRelu", {"catfish.leaky_relu", {{"alpha", 0.01f}}}},
      {"Elu", {"catfish.elu", {{"alpha", 1.0f}}}},
      {"Celu", {"catfish.celu", {{"alpha", 1.0f}}}},
      {"Selu",
       {"catfish.selu",
        {{"alpha", 1.67326319217681884765625f}, {"gamma", 1.05070102214813232421875f}}}},
      {"HardSigmoid", {"catfish.hard_sigmoid", {{"alpha", 0.2f}, {"beta", 0.5f}}}},
      {"ThresholdedRelu", {"catfish.thresholded_relu", {{"alpha", 1.0f}}}},
      {"Shrink", {"catfish.shrink", {{"bias", 0.0f}, {"lambd", 0.5f}}}},
  };
  const Spec &spec = specs.find(node.node().op_type())->second;
  SmallVector<NamedAttribute> attrs;
  for (const Param &p : spec.params)
    attrs.push_back(
        node.named(p.name, node.builder().getF32FloatAttr(node.attrFloat(p.name, p.defaultValue))));
  auto r = node.create(spec.op, {node.input(0)}, attrs);
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

static LogicalResult convertGelu(NodeContext &node) {
  std::string approximate = node.attrString("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return node.fail("attribute 'approximate' must be none or tanh, got '" + approximate + "'");
  auto r = node.create<GeluOp>(
      {node.input(0)},
      {node.named("tanh_approximation", node.builder().getBoolAttr(approximate == "tanh"))});
  return failed(r) ? failure() : node.setOutput(0, *r);
}

static LogicalResult convertIsInf(NodeContext &node) {
  OpBuilder &b = node.builder();
  auto r = node.create<IsInfOp>(
      {node.input(0)},
      {node.named("detect_positive", b.getBoolAttr(node.attrInt("detect_positive", 1))),
       node.named("detect_negative", b.getBoolAttr(node.attrInt("detect_negative", 1)))});
  return failed(r) ? failure() : node.setOutput(0, *r);
}

void mlir::catfish::onnx_import::registerElementwiseConverters(ConverterMap &map) {
  for (const auto &entry : directOps())
    map[entry.getKey()] = convertDirect;
  for (StringRef name : {"Identity", "Dropout"})
    map[name] = convertIdentity;
  for (StringRef name : {"Sum", "Max", "Min", "Mean"})
    map[name] = convertVariadic;
  for (StringRef name :
       {"LeakyRelu", "Elu", "Celu", "Selu", "HardSigmoid", "ThresholdedRelu", "Shrink"})
    map[name] = convertParamActivation;
  map["Mod"] = convertMod;
  map["BitShift"] = convertBitShift;
  map["Cast"] = convertCast;
  map["CastLike"] = convertCastLike;
  map["Clip"] = convertClip;
  map["Gelu"] = convertGelu;
  map["IsInf"] = convertIsInf;
}
