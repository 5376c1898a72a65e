//===- Quant.cpp - ONNX QuantizeLinear, DequantizeLinear, MatMulInteger --===//
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

void mlir::catfish::onnx_import::registerQuantConverters(ConverterMap &map) {
  map["QuantizeLinear"] = convertQuantize;
  map["DequantizeLinear"] = convertDequantize;
  map["MatMulInteger"] = convertMatMulInteger;
}
