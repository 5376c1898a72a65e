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

/// The axis a QLinearMatMul scale applies along: per tensor for one element, else the rows of
/// A (`rowwise`) or the columns of B and Y.
static NamedAttribute matmulQuantAxis(NodeContext &node, Value data, Value scale, bool rowwise) {
  int64_t rank = typeOf(data).getRank();
  int64_t axis = typeOf(scale).getNumElements() == 1 ? 1 : rowwise ? rank - 2 : rank - 1;
  return node.named("axis", node.builder().getI64IntegerAttr(std::max<int64_t>(axis, 0)));
}

/// QLinearMatMul = quantize(matmul(dequantize(A), dequantize(B))).
static LogicalResult convertQLinearMatMul(NodeContext &node) {
  FailureOr<SmallVector<Value>> inputs = node.requiredInputs(0, 8);
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
  FailureOr<SmallVector<Value>> inputs = node.requiredInputs(0, 8);
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

//===----------------------------------------------------------------------===//
// com.microsoft QOperator ops: dequantize, the float op, quantize
//===----------------------------------------------------------------------===//

/// `x` dequantized to f32 with a per-tensor scale, or per-axis along `axis`.
static Value dequantizeToF32(NodeContext &node, Value x, Value scale, Value zeroPoint,
                             int64_t axis = 1) {
  SmallVector<Value> operands = {x, scale};
  if (zeroPoint)
    operands.push_back(zeroPoint);
  return node.make<DequantizeOp>(operands,
                                 {node.named("axis", node.builder().getI64IntegerAttr(axis))},
                                 {typeOf(x).clone(node.builder().getF32Type())});
}

/// `y` quantized per tensor to the type of `zeroPoint`, else to `fallback`'s element type.
static Value quantizeTo(NodeContext &node, Value y, Value scale, Value zeroPoint, Type fallback) {
  if (!y || !scale)
    return {};
  SmallVector<Value> operands = {y, scale};
  if (zeroPoint)
    operands.push_back(zeroPoint);
  Type et = zeroPoint ? getElementTypeOrSelf(zeroPoint) : fallback;
  return node.make<QuantizeOp>(operands, {}, {typeOf(y).clone(et)});
}

/// Imports the default-domain `opType` on `inputs`, with the node's attributes but those in
/// `dropped`, plus `extra`: the float op inside a QOperator node. `opset` selects its
/// semantics.
static FailureOr<Value> importFloatOp(NodeContext &node, StringRef opType, ArrayRef<Value> inputs,
                                      ArrayRef<StringRef> dropped, int64_t opset,
                                      ArrayRef<onnx::AttributeProto> extra = {}) {
  if (llvm::any_of(inputs, [](Value v) { return !v; }))
    return failure();
  if (node.numOutputs() == 0)
    return node.fail("has no output");
  onnx::NodeProto inner;
  inner.set_op_type(opType.str());
  inner.set_name(node.node().name());
  std::string prefix = "catfish.qoperator." + node.node().output(0) + ".";
  for (auto [i, value] : llvm::enumerate(inputs)) {
    inner.add_input(prefix + std::to_string(i));
    node.graph.bind(inner.input(i), value);
  }
  inner.add_output(prefix + "result");
  for (const onnx::AttributeProto &attribute : node.node().attribute())
    if (!llvm::is_contained(dropped, attribute.name()))
      *inner.add_attribute() = attribute;
  for (const onnx::AttributeProto &attribute : extra)
    *inner.add_attribute() = attribute;
  NodeContext innerContext(node.graph, inner, node.loc());
  int64_t outerOpset = node.graph.opset;
  node.graph.opset = opset;
  LogicalResult converted = node.graph.converters.lookup(opType)(innerContext);
  node.graph.opset = outerOpset;
  if (failed(converted))
    return failure();
  return node.graph.lookup(inner.output(0));
}

static constexpr char kAdd[] = "Add", kMul[] = "Mul", kSigmoid[] = "Sigmoid",
                      kLeakyRelu[] = "LeakyRelu", kAveragePool[] = "AveragePool",
                      kGlobalAveragePool[] = "GlobalAveragePool";

/// A QOperator node whose inputs are (X, x_scale, x_zero_point) per quantized operand then
/// (y_scale, y_zero_point): dequantize, `floatOp`, quantize like the first operand.
template <unsigned NumOperands, const char *FloatOp>
static LogicalResult convertQLinear(NodeContext &node) {
  if (node.attrInt("channels_last", 0) != 0)
    return node.fail("channels_last=1 is not supported (the NHWC form onnxruntime makes "
                     "inside a session; exported QOperator models are NCHW)");
  SmallVector<Value> operands;
  for (unsigned i = 0; i < NumOperands; ++i) {
    FailureOr<Value> x = node.requiredInput(3 * i), scale = node.requiredInput(3 * i + 1);
    if (failed(x) || failed(scale))
      return failure();
    operands.push_back(dequantizeToF32(node, *x, *scale, node.input(3 * i + 2)));
  }
  FailureOr<Value> y = importFloatOp(node, FloatOp, operands, {"channels_last"}, node.opset());
  if (failed(y))
    return failure();
  FailureOr<Value> yScale = node.requiredInput(3 * NumOperands);
  if (failed(yScale))
    return failure();
  Value q = quantizeTo(node, *y, *yScale, node.input(3 * NumOperands + 1),
                      getElementTypeOrSelf(node.input(0)));
  return q ? node.setOutput(0, q) : failure();
}

/// QLinearSoftmax: its `opset` attribute says which Softmax (coerced to 2-D before 13).
static LogicalResult convertQLinearSoftmax(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), scale = node.requiredInput(1),
                   yScale = node.requiredInput(3);
  if (failed(x) || failed(scale) || failed(yScale))
    return failure();
  FailureOr<int64_t> opset = node.requiredAttrInt("opset");
  if (failed(opset))
    return failure();
  if (*opset < kMinOnnxOpset || *opset > kMaxOnnxOpset)
    return node.fail("opset " + Twine(*opset) + " is not an opset of the default domain the "
                     "importer takes (" + Twine(kMinOnnxOpset) + " to " + Twine(kMaxOnnxOpset) +
                     ")");
  FailureOr<Value> y =
      importFloatOp(node, "Softmax", {dequantizeToF32(node, *x, *scale, node.input(2))},
                    {"opset"}, *opset);
  if (failed(y))
    return failure();
  Value q = quantizeTo(node, *y, *yScale, node.input(4), getElementTypeOrSelf(*x));
  return q ? node.setOutput(0, q) : failure();
}

/// QLinearConcat(y_scale, y_zero_point, (X, x_scale, x_zero_point)...).
static LogicalResult convertQLinearConcat(NodeContext &node) {
  FailureOr<Value> yScale = node.requiredInput(0);
  if (failed(yScale))
    return failure();
  if (node.numInputs() < 5 || (node.numInputs() - 2) % 3 != 0)
    return node.fail("takes y_scale, y_zero_point and then (X, x_scale, x_zero_point) per "
                     "input, got " + Twine(node.numInputs()) + " inputs");
  SmallVector<Value> operands;
  for (size_t i = 2; i < node.numInputs(); i += 3) {
    FailureOr<Value> x = node.requiredInput(i), scale = node.requiredInput(i + 1);
    if (failed(x) || failed(scale))
      return failure();
    operands.push_back(dequantizeToF32(node, *x, *scale, node.input(i + 2)));
  }
  FailureOr<Value> y = importFloatOp(node, "Concat", operands, {}, node.opset());
  if (failed(y))
    return failure();
  Value q = quantizeTo(node, *y, *yScale, node.input(1), getElementTypeOrSelf(node.input(2)));
  return q ? node.setOutput(0, q) : failure();
}

/// QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): the i32 accumulator of A*B
/// plus the i32 C, times alpha * a_scale * b_scale; quantized when y_scale is given, else f32.
/// b_scale may be per output column.
static LogicalResult convertQGemm(NodeContext &node) {
  FailureOr<SmallVector<Value>> in = node.requiredInputs(0, 6);
  if (failed(in))
    return failure();
  Value a = (*in)[0], aScale = (*in)[1], b = (*in)[3], bScale = (*in)[4];
  bool transB = node.attrInt("transB", 0) != 0;
  Value bf = dequantizeToF32(node, b, bScale, (*in)[5], transB ? 0 : 1);
  SmallVector<Value> operands = {dequantizeToF32(node, a, aScale, (*in)[2]), bf};
  if (Value c = node.input(6)) {
    Type f32 = node.builder().getF32Type();
    Value scale = node.make<MulOp>({node.castElements(aScale, f32), node.castElements(bScale, f32)});
    operands.push_back(node.make<MulOp>({node.castElements(c, f32), scale}));
  }
  // Alpha scales C too: it is added to the accumulator before the requantization.
  onnx::AttributeProto beta;
  beta.set_name("beta");
  beta.set_type(onnx::AttributeProto::FLOAT);
  beta.set_f(node.attrFloat("alpha", 1.0f));
  FailureOr<Value> y = importFloatOp(node, "Gemm", operands, {"beta"}, node.opset(), {beta});
  if (failed(y))
    return failure();
  Value yScale = node.input(7);
  if (!yScale)
    return node.setOutput(0, *y);
  Value q = quantizeTo(node, *y, yScale, node.input(8), getElementTypeOrSelf(a));
  return q ? node.setOutput(0, q) : failure();
}

/// The `bits`-wide unsigned fields of `packed` (LSB first within each byte), `count` per row
/// of `rowBytes` bytes, as one byte each; `bits` divides 8.
static std::vector<char> unpackBits(ArrayRef<uint8_t> packed, int64_t rows, int64_t rowBytes,
                                    int64_t count, int64_t bits) {
  std::vector<char> out(rows * count);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < count; ++i) {
      int64_t bit = i * bits;
      unsigned byte = packed[r * rowBytes + bit / 8];
      out[r * count + i] = static_cast<char>((byte >> (bit % 8)) & ((1u << bits) - 1));
    }
  return out;
}

/// The bytes of the constant `value` of `expected` elements, else empty.
static ArrayRef<uint8_t> constantBytes(Value value, int64_t expected) {
  if (!value)
    return {};
  ArrayRef<char> raw = getConstantRawBytes(value);
  if (static_cast<int64_t>(raw.size()) != expected)
    return {};
  return ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(raw.data()), raw.size());
}

/// com.microsoft MatMulNBits: Y = A * dequantize(B)^T (+ bias), B being N rows of K weights of
/// `bits` bits packed in blocks of `block_size` ([N, blocks, block_size * bits / 8] uint8),
/// with a scale per row and block ([N * blocks] or [N, blocks]) and zero points packed the
/// same way (default 2^(bits - 1)). The weights and zero points are unpacked at compile time
/// to a byte each and dequantized block-wise in the kernel that uses them.
static LogicalResult convertMatMulNBits(NodeContext &node) {
  FailureOr<Value> a = node.requiredInput(0), b = node.requiredInput(1),
                   scales = node.requiredInput(2);
  FailureOr<int64_t> k = node.requiredAttrInt("K"), n = node.requiredAttrInt("N"),
                     blockSize = node.requiredAttrInt("block_size");
  if (failed(a) || failed(b) || failed(scales) || failed(k) || failed(n) || failed(blockSize))
    return failure();
  // 4 bits only: the one width onnxruntime's CPU kernel (our reference) computes.
  int64_t bits = node.attrInt("bits", 4);
  if (bits != 4)
    return node.fail("bits=" + Twine(bits) + " is not supported (only 4)");
  if (*k <= 0 || *n <= 0 || *k > (int64_t(1) << 30) || *n > (int64_t(1) << 30) ||
      *blockSize < 16 || *blockSize > (int64_t(1) << 20) || (*blockSize & (*blockSize - 1)))
    return node.fail("needs K and N in [1, 2^30] and block_size a power of two >= 16, got K=" +
                     Twine(*k) + " N=" + Twine(*n) + " block_size=" + Twine(*blockSize));
  if (node.input(4))
    return node.fail("g_idx (act-order group indices) is not supported");
  Type floatType = getElementTypeOrSelf(*a);
  if (!isa<FloatType>(floatType) || getElementTypeOrSelf(*scales) != floatType)
    return node.fail("A and scales must have one float type");
  int64_t blocks = llvm::divideCeil(*k, *blockSize), blobBytes = *blockSize * bits / 8;
  ArrayRef<uint8_t> packed = constantBytes(*b, *n * blocks * blobBytes);
  if (packed.empty() || getElementTypeOrSelf(*b) != node.builder().getIntegerType(8, false))
    return node.fail("B must be a constant uint8 tensor of N * ceil(K / block_size) * "
                     "block_size * bits / 8 = " + Twine(*n * blocks * blobBytes) + " bytes");
  if (!typeOf(*scales).hasStaticShape() || typeOf(*scales).getNumElements() != *n * blocks)
    return node.fail("scales must have N * ceil(K / block_size) = " + Twine(*n * blocks) +
                     " elements, got " + Twine(typeOf(*scales).getNumElements()));
  OpBuilder &builder = node.builder();
  Type u8 = builder.getIntegerType(8, false);
  auto weightsType = RankedTensorType::get({*n, blocks * *blockSize}, u8);
  auto weights = ConstantOp::create(
      builder, node.loc(),
      createWeightsAttr(weightsType,
                        unpackBits(packed, *n, blocks * blobBytes, blocks * *blockSize, bits),
                        node.node().input(1) + ".unpacked"));
  Value zeroPoints;
  if (Value zp = node.input(3)) {
    int64_t rowBytes = llvm::divideCeil(blocks * bits, 8);
    ArrayRef<uint8_t> packedZero = constantBytes(zp, *n * rowBytes);
    if (isa<FloatType>(getElementTypeOrSelf(zp)))
      return node.fail("float zero_points are not supported (only packed uint8 ones)");
    if (packedZero.empty() || getElementTypeOrSelf(zp) != u8)
      return node.fail("zero_points must be a constant uint8 tensor of N * ceil(blocks * bits "
                       "/ 8) = " + Twine(*n * rowBytes) + " bytes");
    std::vector<char> unpacked = unpackBits(packedZero, *n, rowBytes, blocks, bits);
    zeroPoints = ConstantOp::create(
        builder, node.loc(),
        cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(
            RankedTensorType::get({*n, blocks}, u8), unpacked)));
  } else {
    zeroPoints = ConstantOp::create(
        builder, node.loc(),
        cast<ElementsAttr>(DenseElementsAttr::get(
            RankedTensorType::get({*n, blocks}, u8),
            builder.getIntegerAttr(u8, APInt(8, uint64_t(1) << (bits - 1))))));
  }
  Value blockScales = node.make<ReshapeOp>({*scales, node.constI64({*n, blocks})});
  Value w = node.make<DequantizeOp>(
      {weights, blockScales, zeroPoints},
      {node.named("axis", builder.getI64IntegerAttr(1)),
       node.named("block_size", builder.getI64IntegerAttr(*blockSize))},
      {weightsType.clone(floatType)});
  if (w && blocks * *blockSize != *k)
    w = node.make<SliceOp>(
        {w, node.constI64({0}), node.constI64({*k}), node.constI64({1})},
        {node.named("operandSegmentSizes", builder.getDenseI32ArrayAttr({1, 1, 1, 1, 0}))});
  Value wt = node.make<TransposeOp>({w}, {node.named("perm", builder.getDenseI64ArrayAttr({1, 0}))});
  Value y = node.make<MatMulOp>({*a, wt});
  if (Value bias = node.input(5))
    y = node.make<AddOp>({y, bias});
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerQuantConverters(ConverterMap &map) {
  map["com.microsoft.MatMulNBits"] = convertMatMulNBits;
  map["com.microsoft.QLinearAdd"] = convertQLinear<2, kAdd>;
  map["com.microsoft.QLinearMul"] = convertQLinear<2, kMul>;
  map["com.microsoft.QLinearSigmoid"] = convertQLinear<1, kSigmoid>;
  map["com.microsoft.QLinearLeakyRelu"] = convertQLinear<1, kLeakyRelu>;
  map["com.microsoft.QLinearAveragePool"] = convertQLinear<1, kAveragePool>;
  map["com.microsoft.QLinearGlobalAveragePool"] = convertQLinear<1, kGlobalAveragePool>;
  map["com.microsoft.QLinearSoftmax"] = convertQLinearSoftmax;
  map["com.microsoft.QLinearConcat"] = convertQLinearConcat;
  map["com.microsoft.QGemm"] = convertQGemm;
  map["ConvInteger"] = convertConvInteger;
  map["QLinearConv"] = convertQLinearConv;
  map["QLinearMatMul"] = convertQLinearMatMul;
  map["DynamicQuantizeLinear"] = convertDynamicQuantize;
  map["QuantizeLinear"] = convertQuantize;
  map["DequantizeLinear"] = convertDequantize;
  map["MatMulInteger"] = convertMatMulInteger;
}
