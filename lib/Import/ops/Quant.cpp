//===- Quant.cpp - ONNX quantization ops: Q/DQ, integer and QLinear matmul and conv -===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static SmallVector<NamedAttribute> quantAttrs(NodeContext &node, bool withSaturate) {
  OpBuilder &b = node.builder();
  SmallVector<NamedAttribute> attrs = {
      node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", 1))),
      node.named("block_size", b.getI64IntegerAttr(node.attrInt("block_size", 0)))};
  if (withSaturate)
    attrs.push_back(node.named("saturate", b.getBoolAttr(node.attrInt("saturate", 1))));
  return attrs;
}

static LogicalResult convertQuantize(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), scale = node.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  Value zeroPoint = node.input(2);
  Type et = zeroPoint ? getElementTypeOrSelf(zeroPoint)
                      : IntegerType::get(node.ctx(), 8, IntegerType::Unsigned);
  if (node.attr("output_dtype")) {
    et = onnxElementType(node.ctx(), node.attrInt("output_dtype", 0));
    if (!et)
      return node.fail("unsupported output_dtype");
  }
  SmallVector<Value> operands = {*x, *scale};
  if (zeroPoint)
    operands.push_back(zeroPoint);
  auto r = node.create(QuantizeOp::getOperationName(), operands, quantAttrs(node, true),
                       {typeOf(*x).clone(et)});
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

static LogicalResult convertDequantize(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), scale = node.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  SmallVector<Value> operands = {*x, *scale};
  if (Value zeroPoint = node.input(2))
    operands.push_back(zeroPoint);
  Type et = getElementTypeOrSelf(*scale);
  auto r = node.create(DequantizeOp::getOperationName(), operands, quantAttrs(node, false),
                       {typeOf(*x).clone(et)});
  return failed(r) ? failure() : node.setOutput(0, r->front());
}

/// Widens an integer operand to i32 and subtracts its zero point.
static FailureOr<Value> widenAndCenter(NodeContext &node, Value x, Value zeroPoint) {
  Type i32 = node.builder().getI32Type();
  auto widen = [&](Value v) -> FailureOr<Value> {
    auto r = node.create(CastOp::getOperationName(), {v}, {}, {typeOf(v).clone(i32)});
    if (failed(r))
      return failure();
    return r->front();
  };
  FailureOr<Value> wide = widen(x);
  if (failed(wide) || !zeroPoint)
    return wide;
  FailureOr<Value> zp = widen(zeroPoint);
  if (failed(zp))
    return failure();
  // A per-row zero point of A ([M]) applies along rows: make it [M, 1].
  if (typeOf(*zp).getRank() == 1 && typeOf(*wide).getRank() >= 2 && zeroPoint == node.input(2) &&
      typeOf(*zp).getDimSize(0) != 1) {
    zp = node.create<ReshapeOp>({*zp, node.constI64({-1, 1})});
    if (failed(zp))
      return failure();
  }
  return node.create<SubOp>({*wide, *zp});
}

/// MatMulInteger = matmul over i32 of the zero-point-centered operands.
static LogicalResult convertMatMulInteger(NodeContext &node) {
  FailureOr<Value> a = widenAndCenter(node, node.input(0), node.input(2));
  FailureOr<Value> b = succeeded(a) ? widenAndCenter(node, node.input(1), node.input(3))
                                    : FailureOr<Value>(failure());
  if (failed(b))
    return failure();
  auto r = node.create<MatMulOp>({*a, *b});
  return failed(r) ? failure() : node.setOutput(0, *r);
}

/// The node's first `count` inputs, each of them required.
static FailureOr<SmallVector<Value>> requiredInputs(NodeContext &node, size_t count) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < count; ++i) {
    FailureOr<Value> v = node.requiredInput(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  return inputs;
}

/// The axis a QLinearMatMul scale applies along: per tensor for one element, else the rows of
/// A (`rowwise`) or the columns of B and Y.
static NamedAttribute matmulQuantAxis(NodeContext &node, Value data, Value scale, bool rowwise) {
  int64_t rank = typeOf(data).getRank();
  int64_t axis = typeOf(scale).getNumElements() == 1 ? 1 : rowwise ? rank - 2 : rank - 1;
  return node.named("axis", node.builder().getI64IntegerAttr(std::max<int64_t>(axis, 0)));
}

/// QLinearMatMul = quantize(matmul(dequantize(A), dequantize(B))).
static LogicalResult convertQLinearMatMul(NodeContext &node) {
  FailureOr<SmallVector<Value>> inputs = requiredInputs(node, 8);
  if (failed(inputs))
    return failure();
  ArrayRef<Value> in = *inputs;
  // The product is in f32 whatever the scales' type, as the reference's int32 matmul is exact.
  auto dequantize = [&](Value x, Value scale, Value zp, bool rowwise) {
    return node.make<DequantizeOp>({x, scale, zp}, {matmulQuantAxis(node, x, scale, rowwise)},
                                   {typeOf(x).clone(node.builder().getF32Type())});
  };
  Value product = node.make<MatMulOp>(
      {dequantize(in[0], in[1], in[2], true), dequantize(in[3], in[4], in[5], false)});
  if (!product)
    return failure();
  Value y =
      node.make<QuantizeOp>({product, in[6], in[7]}, {matmulQuantAxis(node, product, in[6], false)},
                            {typeOf(product).clone(getElementTypeOrSelf(in[7]))});
  return y ? node.setOutput(0, y) : failure();
}

/// DynamicQuantizeLinear: uint8 with the scale and zero point that map [min(x, 0), max(x, 0)]
/// onto [0, 255], as the ONNX function body computes them.
static LogicalResult convertDynamicQuantize(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  Type f = getElementTypeOrSelf(*x);
  Type u8 = IntegerType::get(node.ctx(), 8, IntegerType::Unsigned);
  Value zero = node.constScalar(f, 0);
  Value lo = node.make<MinOp>({node.reduce(*x, ReduceKind::min, {}, false), zero});
  Value hi = node.make<MaxOp>({node.reduce(*x, ReduceKind::max, {}, false), zero});
  Value scale = node.make<DivOp>({node.make<SubOp>({hi, lo}), node.constScalar(f, 255)});
  Value zpFloat = node.make<RoundOp>({node.make<NegOp>({node.make<DivOp>({lo, scale})})});
  zpFloat = node.make<MinOp>({node.make<MaxOp>({zpFloat, zero}), node.constScalar(f, 255)});
  Value zp = node.castElements(zpFloat, u8);
  Value y = node.make<QuantizeOp>({*x, scale, zp}, {}, {typeOf(*x).clone(u8)});
  if (!y)
    return failure();
  if (failed(node.setOutput(0, y)) || failed(node.setOutput(1, scale)))
    return failure();
  return node.setOutput(2, zp);
}

/// `x` as i32 minus its zero point; a zero point per output channel of a convolution weight
/// ([M]) applies along dim 0.
static Value centerForConv(NodeContext &node, Value x, Value zeroPoint) {
  Value wide = node.castElements(x, node.builder().getI32Type());
  if (!zeroPoint || !wide)
    return wide;
  Value zp = node.castElements(zeroPoint, node.builder().getI32Type());
  if (zp && typeOf(zp).getRank() == 1 && typeOf(zp).getDimSize(0) != 1) {
    SmallVector<int64_t> shape(typeOf(wide).getRank(), 1);
    shape[0] = -1;
    zp = node.make<ReshapeOp>({zp, node.constI64(shape)});
  }
  return node.make<SubOp>({wide, zp});
}

/// ConvInteger: an i32 convolution of the zero-point-centered operands.
static LogicalResult convertConvInteger(NodeContext &node) {
  Value x = centerForConv(node, node.input(0), node.input(2));
  Value w = centerForConv(node, node.input(1), node.input(3));
  if (!x || !w)
    return failure();
  return setResult(node, buildConv(node, x, w, Value(), false));
}

/// QLinearConv = quantize(conv(dequantize(x), dequantize(w)) + bias * x_scale * w_scale).
static LogicalResult convertQLinearConv(NodeContext &node) {
  FailureOr<SmallVector<Value>> inputs = requiredInputs(node, 8);
  if (failed(inputs))
    return failure();
  ArrayRef<Value> in = *inputs;
  OpBuilder &b = node.builder();
  Type f32 = b.getF32Type();
  auto dequantize = [&](Value x, Value scale, Value zp, int64_t axis) {
    return node.make<DequantizeOp>({x, scale, zp}, {node.named("axis", b.getI64IntegerAttr(axis))},
                                   {typeOf(x).clone(f32)});
  };
  Value x = dequantize(in[0], in[1], in[2], 1);
  Value w = dequantize(in[3], in[4], in[5], 0);
  Value bias;
  if (Value rawBias = node.input(8)) {
    // The i32 bias is quantized with scale x_scale * w_scale (per output channel).
    Value scale = node.make<MulOp>({node.castElements(in[1], f32), node.castElements(in[4], f32)});
    bias = node.make<MulOp>({node.castElements(rawBias, f32), scale});
  }
  if (!x || !w || (node.input(8) && !bias))
    return failure();
  FailureOr<Value> y = buildConv(node, x, w, bias, false);
  if (failed(y))
    return failure();
  Value q = node.make<QuantizeOp>({*y, in[6], in[7]}, {node.named("axis", b.getI64IntegerAttr(1))},
                                  {typeOf(*y).clone(getElementTypeOrSelf(in[7]))});
  return q ? node.setOutput(0, q) : failure();
}

void mlir::catfish::onnx_import::registerQuantConverters(ConverterMap &map) {
  map["ConvInteger"] = convertConvInteger;
  map["QLinearConv"] = convertQLinearConv;
  map["QLinearMatMul"] = convertQLinearMatMul;
  map["DynamicQuantizeLinear"] = convertDynamicQuantize;
  map["QuantizeLinear"] = convertQuantize;
  map["DequantizeLinear"] = convertDequantize;
  map["MatMulInteger"] = convertMatMulInteger;
}
