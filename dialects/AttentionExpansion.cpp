//===- AttentionExpansion.cpp - catfish.attention from primitive ops ------===//
//
// One definition of what catfish.attention computes, used by the importer (for ONNX's
// qk_matmul_output) and by targets without an attention kernel.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"

#include <cmath>

using namespace mlir;
using namespace mlir::catfish;

static Value floatScalar(ImplicitLocOpBuilder &b, Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  return ConstantOp::create(
      b, cast<ElementsAttr>(DenseElementsAttr::get(type, b.getFloatAttr(elementType, value))));
}

/// [batch, kv_heads, seq, dim] -> [batch, kv_heads * repeats, seq, dim], head h reading kv
/// head h / repeats.
static Value repeatHeads(ImplicitLocOpBuilder &b, Value kv, int64_t repeats) {
  int64_t heads = cast<RankedTensorType>(kv.getType()).getDimSize(1);
  SmallVector<int64_t> source;
  for (int64_t h = 0; h < heads * repeats; ++h)
    source.push_back(h / repeats);
  auto type = RankedTensorType::get({heads * repeats}, b.getI64Type());
  Value indices =
      ConstantOp::create(b, cast<ElementsAttr>(DenseIntElementsAttr::get(type, source)));
  return GatherOp::create(b, kv, indices, uint64_t{1});
}

FailureOr<AttentionExpansion> mlir::catfish::expandAttention(OpBuilder &builder, AttentionOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  auto qt = cast<RankedTensorType>(q.getType()), kt = cast<RankedTensorType>(k.getType());
  Type et = qt.getElementType();
  int64_t qHeads = qt.getDimSize(1), kvHeads = kt.getDimSize(1);
  if (qHeads != kvHeads) {
    if (ShapedType::isDynamic(qHeads) || ShapedType::isDynamic(kvHeads))
      return op.emitOpError("grouped-query attention needs static head counts");
    k = repeatHeads(b, k, qHeads / kvHeads);
    v = repeatHeads(b, v, qHeads / kvHeads);
  }

  AttentionExpansion parts;
  Value scaled = MulOp::create(b, q, floatScalar(b, et, op.getScale().convertToDouble()));
  parts.scores =
      MatMulOp::create(b, scaled, TransposeOp::create(b, k, ArrayRef<int64_t>{0, 1, 3, 2}));
  parts.biased = parts.scores;
  Value minusInf = floatScalar(b, et, -INFINITY);
  if (Value mask = op.getMask()) {
    parts.biased = getElementTypeOrSelf(mask).isInteger(1)
                       ? Value(SelectOp::create(b, mask, parts.scores, minusInf))
                       : Value(AddOp::create(b, parts.scores, mask));
  }
  if (op.getIsCausal()) {
    // Query i sees keys 0..i: the upper-left triangle, as ONNX defines it.
    auto scoreType = cast<RankedTensorType>(parts.scores.getType());
    int64_t queries = scoreType.getDimSize(2), keys = scoreType.getDimSize(3);
    if (ShapedType::isDynamic(queries) || ShapedType::isDynamic(keys))
      return op.emitOpError("causal attention needs static sequence lengths");
    SmallVector<bool> visible;
    for (int64_t i = 0; i < queries; ++i)
      for (int64_t j = 0; j < keys; ++j)
        visible.push_back(j <= i);
    auto maskType = RankedTensorType::get({queries, keys}, b.getI1Type());
    Value causal =
        ConstantOp::create(b, cast<ElementsAttr>(DenseElementsAttr::get(maskType, visible)));
    parts.biased = SelectOp::create(b, causal, parts.biased, minusInf);
  }
  parts.capped = parts.biased;
  if (double cap = op.getSoftcap().convertToDouble(); cap > 0) {
    Value c = floatScalar(b, et, cap);
    parts.capped = MulOp::create(b, TanhOp::create(b, DivOp::create(b, parts.biased, c)), c);
  }
  parts.probabilities = SoftmaxOp::create(b, parts.capped, uint64_t{3});
  parts.output = MatMulOp::create(b, parts.probabilities, v);
  return parts;
}
