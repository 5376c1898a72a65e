//===- NN.cpp - ONNX matmul, convolution, pooling, normalization ---------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static LogicalResult convertMatMul(NodeContext &node) {
  return setResult(node, node.create<MatMulOp>({node.input(0), node.input(1)}));
}

/// Gemm = alpha * op(A) . op(B) + beta * C.
static LogicalResult convertGemm(NodeContext &node) {
  OpBuilder &b = node.builder();
  auto transpose = [&](Value v) {
    return node.create<TransposeOp>({v}, {node.named("perm", b.getDenseI64ArrayAttr({1, 0}))});
  };
  FailureOr<Value> a = node.requiredInput(0), bm = node.requiredInput(1);
  if (failed(a) || failed(bm))
    return failure();
  if (typeOf(*a).getRank() != 2 || typeOf(*bm).getRank() != 2)
    return node.fail("Gemm operands must be 2-D");
  if (node.attrInt("transA", 0))
    a = transpose(*a);
  if (succeeded(a) && node.attrInt("transB", 0))
    bm = transpose(*bm);
  if (failed(a) || failed(bm))
    return failure();
  FailureOr<Value> y = node.create<MatMulOp>({*a, *bm});
  Type et = getElementTypeOrSelf(*a);
  float alpha = node.attrFloat("alpha", 1.0f), beta = node.attrFloat("beta", 1.0f);
  if (succeeded(y) && alpha != 1.0f)
    y = node.create<MulOp>({*y, node.constScalar(et, alpha)});
  if (Value c = node.input(2); succeeded(y) && c) {
    FailureOr<Value> scaled = c;
    if (beta != 1.0f)
      scaled = node.create<MulOp>({c, node.constScalar(et, beta)});
    y = succeeded(scaled) ? node.create<AddOp>({*y, *scaled}) : FailureOr<Value>(failure());
  }
  return setResult(node, y);
}

/// Window attributes the pad arithmetic below can trust: one entry per spatial dim, strides and dilations of at least 1, and every value (the input's static spatial
/// dims too) at most 2^30 in magnitude, so that no sum of products overflows int64.
static LogicalResult checkWindow(NodeContext &node, RankedTensorType input,
                                 ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations) {
  constexpr int64_t kMax = int64_t(1) << 30;
  size_t spatial = kernel.size();
  if (static_cast<size_t>(input.getRank()) != spatial + 2)
    return node.fail("the input has rank " + Twine(input.getRank()) + " but the kernel has " +
                     Twine(spatial) + " spatial dims");
  if (strides.size() != spatial || dilations.size() != spatial)
    return node.fail("strides and dilations need " + Twine(spatial) + " entries each, one per "
                     "spatial dim");
  for (size_t i = 0; i < spatial; ++i) {
    if (!ShapedType::isDynamic(kernel[i]) && (kernel[i] < 1 || kernel[i] > kMax))
      return node.fail("kernel dim " + Twine(i) + " must be in [1, 2^30]");
    if (strides[i] < 1 || strides[i] > kMax || dilations[i] < 1 || dilations[i] > kMax)
      return node.fail("strides and dilations must be in [1, 2^30]");
    int64_t in = input.getDimSize(i + 2);
    if (!ShapedType::isDynamic(in) && in > kMax)
      return node.fail("spatial dim " + Twine(i) + " of the input is larger than 2^30");
  }
  for (int64_t pad : node.attrInts("pads"))
    if (pad < -kMax || pad > kMax)
      return node.fail("pads must be in [-2^30, 2^30]");
  return success();
}

/// Explicit pads for a conv/pool node: `pads` or the resolved `auto_pad`.
static FailureOr<SmallVector<int64_t>> resolvePads(NodeContext &node, RankedTensorType input,
                                                   ArrayRef<int64_t> kernel,
                                                   ArrayRef<int64_t> strides,
                                                   ArrayRef<int64_t> dilations) {
  if (failed(checkWindow(node, input, kernel, strides, dilations)))
    return failure();
  size_t spatial = kernel.size();
  std::string autoPad = node.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    SmallVector<int64_t> pads = node.attrInts("pads");
    if (pads.empty())
      pads.assign(2 * spatial, 0);
    return pads;
  }
  SmallVector<int64_t> pads(2 * spatial, 0);
  if (autoPad == "VALID")
    return pads;
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return node.fail("unsupported auto_pad '" + autoPad + "'");
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel[i]))
      return node.fail("auto_pad " + autoPad + " needs static spatial dims and kernel");
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t total =
        std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[i + spatial] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

static SmallVector<int64_t> intsOr(NodeContext &node, StringRef name, size_t n, int64_t value) {
  SmallVector<int64_t> v = node.attrInts(name);
  if (v.empty())
    v.assign(n, value);
  return v;
}

/// Explicit pads for a ConvTranspose node: `pads`, or those that give `output_shape` (or the
/// input size times the stride for SAME_* auto_pad); negative pads widen the output.
static FailureOr<SmallVector<int64_t>>
resolveTransposedPads(NodeContext &node, RankedTensorType input, ArrayRef<int64_t> kernel,
                      ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                      ArrayRef<int64_t> outPad) {
  if (failed(checkWindow(node, input, kernel, strides, dilations)))
    return failure();
  size_t spatial = kernel.size();
  constexpr int64_t kMax = int64_t(1) << 30;
  if (outPad.size() != spatial || llvm::any_of(outPad, [](int64_t p) { return p < 0 || p > kMax; }))
    return node.fail("output_padding needs " + Twine(spatial) + " entries in [0, 2^30]");
  std::string autoPad = node.attrString("auto_pad", "NOTSET");
  SmallVector<int64_t> outShape = node.attrInts("output_shape");
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (outShape.empty() && !same) {
    if (autoPad != "NOTSET" && autoPad != "VALID")
      return node.fail("unsupported auto_pad '" + autoPad + "'");
    SmallVector<int64_t> pads = autoPad == "VALID" ? SmallVector<int64_t>()
                                                   : node.attrInts("pads");
    if (pads.empty())
      pads.assign(2 * spatial, 0);
    return pads;
  }
  if (outShape.size() == spatial + 2)
    outShape.erase(outShape.begin(), outShape.begin() + 2);
  if (!outShape.empty() && outShape.size() != spatial)
    return node.fail("output_shape has " + Twine(outShape.size()) + " entries, expected " +
                     Twine(spatial));
  if (llvm::any_of(outShape, [](int64_t d) { return d < 0 || d > kMax; }))
    return node.fail("output_shape entries must be in [0, 2^30]");
  SmallVector<int64_t> pads(2 * spatial, 0);
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel[i]))
      return node.fail("ConvTranspose with output_shape or auto_pad needs static spatial dims "
                       "and kernel");
    int64_t out = outShape.empty() ? in * strides[i] : outShape[i];
    int64_t total = strides[i] * (in - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - out;
    int64_t half = llvm::divideFloorSigned(total, 2);
    bool upper = autoPad == "SAME_UPPER";
    pads[i] = upper ? half : total - half;
    pads[i + spatial] = upper ? total - half : half;
  }
  return pads;
}

/// A Conv (or ConvTranspose) of `x` and `w` with the node's attributes; the quantized
/// convolutions reuse it on their widened or dequantized operands.
FailureOr<Value> mlir::catfish::onnx_import::buildConv(NodeContext &node, Value x, Value w,
                                                       Value bias, bool transposed) {
  RankedTensorType wt = typeOf(w), xt = typeOf(x);
  if (wt.getRank() < 3 || xt.getRank() != wt.getRank())
    return node.fail("Conv input and weight must be [N, C, spatial...] of one rank");
  size_t spatial = wt.getRank() - 2;
  SmallVector<int64_t> kernel = node.attrInts("kernel_shape");
  if (kernel.empty())
    for (int64_t d : wt.getShape().drop_front(2))
      kernel.push_back(d);
  SmallVector<int64_t> strides = intsOr(node, "strides", spatial, 1);
  SmallVector<int64_t> dilations = intsOr(node, "dilations", spatial, 1);
  SmallVector<int64_t> outPad = intsOr(node, "output_padding", spatial, 0);
  auto pads = transposed ? resolveTransposedPads(node, xt, kernel, strides, dilations, outPad)
                         : resolvePads(node, xt, kernel, strides, dilations);
  if (failed(pads))
    return failure();
  OpBuilder &b = node.builder();
  SmallVector<Value> operands = {x, w};
  if (bias)
    operands.push_back(bias);
  SmallVector<NamedAttribute> attrs = {
      node.named("strides", b.getDenseI64ArrayAttr(strides)),
      node.named("pads", b.getDenseI64ArrayAttr(*pads)),
      node.named("dilations", b.getDenseI64ArrayAttr(dilations)),
      node.named("groups", b.getI64IntegerAttr(node.attrInt("group", 1)))};
  if (!transposed)
    return node.create<ConvOp>(operands, attrs);
  attrs.push_back(node.named("output_padding", b.getDenseI64ArrayAttr(outPad)));
  return node.create<ConvTransposeOp>(operands, attrs);
}

static LogicalResult convertConv(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), w = node.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  return setResult(node, buildConv(node, *x, *w, node.input(2),
                                   node.node().op_type() == "ConvTranspose"));
}

/// MaxPool's second output: per window, the flat index into the input (row-major; with
/// storage_order = 1 the spatial dims column-major) of its first maximum in window order.
/// Each kernel offset's strided slice of the input padded with -inf is compared with the
/// pooled maximum; walking the offsets from the last to the first, a match takes that
/// offset's index. The indices are a constant per offset: the window origin's spatial index
/// (one [O...] constant), the offset's, and the batch and channel's (one [N, C] constant).
static Value maxPoolIndices(NodeContext &node, Value x, Value pooled, ArrayRef<int64_t> kernel,
                            ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                            ArrayRef<int64_t> dilations) {
  RankedTensorType in = typeOf(x), out = typeOf(pooled);
  if (!in.hasStaticShape() || !out.hasStaticShape() || !isa<FloatType>(in.getElementType())) {
    (void)node.fail("MaxPool indices need static shapes and a floating-point input");
    return {};
  }
  int64_t rank = in.getRank(), spatial = rank - 2;
  ArrayRef<int64_t> dims = in.getShape(), outDims = out.getShape();
  bool columnMajor = node.attrInt("storage_order", 0) != 0;
  // Strides of the spatial dims in the flat index.
  SmallVector<int64_t> flat(spatial, 1);
  for (int64_t i = 0; i < spatial; ++i)
    for (int64_t j = 0; j < spatial; ++j)
      if (columnMajor ? j < i : j > i)
        flat[i] *= dims[2 + j];
  int64_t image = 1;
  for (int64_t i = 0; i < spatial; ++i)
    image *= dims[2 + i];
  // The input padded so that every window lies inside, with the lowest value.
  SmallVector<int64_t> padAll(2 * rank, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t need = (outDims[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
    padAll[2 + i] = pads[i];
    padAll[rank + 2 + i] = std::max(pads[spatial + i], need - dims[2 + i] - pads[i]);
  }
  Type et = in.getElementType();
  Value lowest = node.constScalar(et, -INFINITY);
  Value padded = node.make<PadOp>({x, node.constI64(padAll), lowest},
                                  {node.named("mode", PadModeAttr::get(node.ctx(), PadMode::constant))});
  // Window origins' spatial flat index, and each batch and channel's offset.
  SmallVector<int64_t> originDims(outDims.drop_front(2));
  SmallVector<int64_t> origins;
  int64_t windows = ShapedType::getNumElements(originDims);
  for (int64_t w = 0; w < windows; ++w) {
    int64_t rest = w, index = 0;
    for (int64_t i = spatial - 1; i >= 0; --i) {
      index += (rest % originDims[i] * strides[i] - pads[i]) * flat[i];
      rest /= originDims[i];
    }
    origins.push_back(index);
  }
  SmallVector<int64_t> planes;
  for (int64_t p = 0; p < dims[0] * dims[1]; ++p)
    planes.push_back(p * image);
  auto i64 = node.builder().getI64Type();
  SmallVector<int64_t> originShape = {1, 1};
  originShape.append(originDims);
  auto constant = [&](ArrayRef<int64_t> shape, ArrayRef<int64_t> values) -> Value {
    return ConstantOp::create(node.builder(), node.loc(),
                              DenseIntElementsAttr::get(RankedTensorType::get(shape, i64), values));
  };
  SmallVector<int64_t> planeShape(rank, 1);
  planeShape[0] = dims[0];
  planeShape[1] = dims[1];
  Value base = node.make<AddOp>({constant(originShape, origins), constant(planeShape, planes)});
  int64_t offsets = 1;
  for (int64_t k : kernel)
    offsets *= k;
  SmallVector<int64_t> axes, steps;
  for (int64_t i = 0; i < spatial; ++i) {
    axes.push_back(2 + i);
    steps.push_back(strides[i]);
  }
  Value indices;
  for (int64_t o = offsets - 1; o >= 0; --o) {
    SmallVector<int64_t> starts, ends;
    int64_t rest = o, delta = 0;
    SmallVector<int64_t> offset(spatial);
    for (int64_t i = spatial - 1; i >= 0; --i) {
      offset[i] = rest % kernel[i];
      rest /= kernel[i];
    }
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t start = offset[i] * dilations[i];
      starts.push_back(start);
      ends.push_back(start + (outDims[2 + i] - 1) * strides[i] + 1);
      delta += start * flat[i];
    }
    Value window = node.make<SliceOp>(
        {padded, node.constI64(starts), node.constI64(ends), node.constI64(axes),
         node.constI64(steps)},
        {node.named("operandSegmentSizes", node.builder().getDenseI32ArrayAttr({1, 1, 1, 1, 1}))});
    Value candidate = node.make<AddOp>({base, node.constI64({delta}, true)});
    indices = indices ? node.make<SelectOp>(
                            {node.make<EqualOp>({window, pooled}), candidate, indices})
                      : candidate;
  }
  return indices;
}

static LogicalResult convertPool(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  StringRef type = node.node().op_type();
  SmallVector<int64_t> kernel = node.attrInts("kernel_shape");
  if (kernel.empty())
    return node.fail("required attribute 'kernel_shape' is missing");
  size_t spatial = kernel.size();
  SmallVector<int64_t> strides = intsOr(node, "strides", spatial, 1);
  SmallVector<int64_t> dilations = intsOr(node, "dilations", spatial, 1);
  auto pads = resolvePads(node, typeOf(*x), kernel, strides, dilations);
  if (failed(pads))
    return failure();
  OpBuilder &b = node.builder();
  SmallVector<NamedAttribute> attrs = {
      node.named("kernel", b.getDenseI64ArrayAttr(kernel)),
      node.named("strides", b.getDenseI64ArrayAttr(strides)),
      node.named("pads", b.getDenseI64ArrayAttr(*pads)),
      node.named("dilations", b.getDenseI64ArrayAttr(dilations)),
      node.named("ceil_mode", b.getBoolAttr(node.attrInt("ceil_mode", 0)))};
  if (type == "MaxPool") {
    FailureOr<Value> pooled = node.create<MaxPoolOp>({*x}, attrs);
    if (failed(pooled) || failed(node.setOutput(0, *pooled)))
      return failure();
    if (!node.hasOutput(1))
      return success();
    Value indices = maxPoolIndices(node, *x, *pooled, kernel, strides, *pads, dilations);
    return indices ? node.setOutput(1, indices) : failure();
  }
  if (type == "LpPool") {
    // Before opset 2, p is a float.
    const onnx::AttributeProto *p = node.attr("p");
    int64_t power = !p ? 2 : p->type() == onnx::AttributeProto::FLOAT ? std::lround(p->f()) : p->i();
    attrs.push_back(node.named("p", b.getI64IntegerAttr(power)));
    return setResult(node, node.create<LpPoolOp>({*x}, attrs));
  }
  attrs.push_back(
      node.named("count_include_pad", b.getBoolAttr(node.attrInt("count_include_pad", 0))));
  return setResult(node, node.create<AvgPoolOp>({*x}, attrs));
}

/// MaxUnpool: zeros of the unpooled shape (output_shape, else (O - 1) * stride - pads +
/// kernel) with each input value written at its flat index.
static LogicalResult convertMaxUnpool(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), indices = node.requiredInput(1);
  if (failed(x) || failed(indices))
    return failure();
  RankedTensorType type = typeOf(*x);
  SmallVector<int64_t> kernel = node.attrInts("kernel_shape");
  int64_t spatial = type.getRank() - 2;
  if (spatial < 1 || static_cast<int64_t>(kernel.size()) != spatial || !type.hasStaticShape())
    return node.fail("MaxUnpool needs a static [N, C, spatial...] input and one kernel dim per "
                     "spatial dim");
  SmallVector<int64_t> strides = intsOr(node, "strides", spatial, 1);
  SmallVector<int64_t> pads = intsOr(node, "pads", 2 * spatial, 0);
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return node.fail("strides and pads need one and two entries per spatial dim");
  SmallVector<int64_t> dims(type.getShape().take_front(2));
  for (int64_t i = 0; i < spatial; ++i)
    dims.push_back((type.getDimSize(2 + i) - 1) * strides[i] - pads[i] - pads[spatial + i] +
                   kernel[i]);
  if (Value shape = node.input(2)) {
    std::optional<SmallVector<int64_t>> given = getConstantIntValues(shape);
    if (!given || given->size() != dims.size())
      return node.fail("output_shape must be a constant with one entry per dim");
    dims = *given;
  }
  int64_t total = 1;
  for (int64_t d : dims)
    if (d < 0 || llvm::MulOverflow(total, d, total) || total > kMaxImportedElements)
      return node.fail("the unpooled shape has a negative dim or more than 2^40 elements");
  OpBuilder &b = node.builder();
  Value zeros = node.make<FillOp>({node.constI64({total})},
                                  {node.named("value", b.getZeroAttr(type.getElementType()))});
  Value scattered = node.make<ScatterElementsOp>(
      {zeros, node.reshapeTo(node.castElements(*indices, b.getI64Type()), {node.constI64({-1})}),
       node.reshapeTo(*x, {node.constI64({-1})})},
      {node.named("axis", b.getI64IntegerAttr(0)),
       node.named("reduction", ScatterReductionAttr::get(node.ctx(), ScatterReduction::none))});
  Value y = node.reshapeTo(scattered, {node.constI64(dims)});
  return y ? node.setOutput(0, y) : failure();
}

/// GlobalAveragePool / GlobalMaxPool: a keepdims reduction over the spatial dims.
static LogicalResult convertGlobalPool(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  if (rank < 3)
    return node.fail("global pooling needs an [N, C, spatial...] input");
  ReduceKind kind =
      node.node().op_type() == "GlobalMaxPool" ? ReduceKind::max : ReduceKind::mean;
  OpBuilder &b = node.builder();
  return setResult(node, node.create<ReduceOp>(
                             {*x}, {node.named("kind", ReduceKindAttr::get(node.ctx(), kind)),
                                    node.named("axes", b.getDenseI64ArrayAttr(llvm::to_vector(
                                                           llvm::seq<int64_t>(2, rank)))),
                                    node.named("keepdims", b.getBoolAttr(true))}));
}

/// Attribute `axis` (default `defaultAxis`) normalized into [0, rank).
static FailureOr<int64_t> axisAttr(NodeContext &node, int64_t defaultAxis, int64_t rank) {
  int64_t axis = node.attrInt("axis", defaultAxis);
  if (axis < -rank || axis >= rank)
    return node.fail("axis " + Twine(axis) + " is out of range for a " + Twine(rank) + "-D input");
  return axis < 0 ? axis + rank : axis;
}

/// Softmax-like ops; before opset 13 they flatten to 2-D at `axis` (default 1).
static LogicalResult convertSoftmax(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  StringRef op = node.node().op_type() == "LogSoftmax" ? LogSoftmaxOp::getOperationName()
                                                       : SoftmaxOp::getOperationName();
  OpBuilder &b = node.builder();
  RankedTensorType type = typeOf(*x);
  int64_t axis = node.attrInt("axis", node.opset() < 13 ? 1 : -1);
  if (node.opset() >= 13 || axis == type.getRank() - 1 || axis == -1) {
    auto r = node.create(op, {*x}, {node.named("axis", b.getI64IntegerAttr(axis))});
    return failed(r) ? failure() : node.setOutput(0, r->front());
  }
  if (!type.hasStaticShape())
    return node.fail("opset < 13 softmax over several dims needs a static shape");
  int64_t a = axis < 0 ? axis + type.getRank() : axis;
  int64_t outer = 1;
  for (int64_t d : type.getShape().take_front(a))
    outer *= d;
  auto flat = node.create<ReshapeOp>({*x, node.constI64({outer, -1})});
  if (failed(flat))
    return failure();
  auto r = node.create(op, {*flat}, {node.named("axis", b.getI64IntegerAttr(1))});
  if (failed(r))
    return failure();
  return setResult(node, node.create<ReshapeOp>(
                             {r->front(), node.constI64(llvm::to_vector(type.getShape()))}));
}

/// Hardmax: 1 at the first maximum along `axis`, 0 elsewhere. Before opset 13 the input is
/// seen as 2-D [outer, inner] split at `axis`, which only matches along the last axis.
static LogicalResult convertHardmax(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = axisAttr(node, node.opset() < 13 ? 1 : -1, rank);
  if (failed(axis))
    return failure();
  if (node.opset() < 13 && *axis != rank - 1)
    return node.fail("Hardmax before opset 13 is supported along the last axis only");
  int64_t classes = type.getDimSize(*axis);
  if (ShapedType::isDynamic(classes))
    return node.fail("Hardmax needs a static size along its axis");
  OpBuilder &b = node.builder();
  Value argmax = node.make<ArgMaxOp>({*x}, {node.named("axis", b.getI64IntegerAttr(*axis)),
                                            node.named("keepdims", b.getBoolAttr(true)),
                                            node.named("select_last_index", b.getBoolAttr(false))});
  SmallVector<int64_t> positionShape(rank, 1);
  positionShape[*axis] = classes;
  Value positions = node.reshapeTo(node.constI64(llvm::to_vector(llvm::seq<int64_t>(0, classes))),
                                   {node.constI64(positionShape)});
  Value y = node.castElements(node.make<EqualOp>({positions, argmax}), type.getElementType());
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertDet(NodeContext &node) {
  return setResult(node, node.create<DetOp>({node.input(0)}));
}

/// BatchNormalization with training_mode = 1 (opset 14 on): Y from the batch's statistics
/// (population variance over every dim but the channels), and the running statistics updated
/// with `momentum`, as the ONNX reference computes them.
static LogicalResult convertTrainingBatchNorm(NodeContext &node) {
  FailureOr<SmallVector<Value>> inputs = node.requiredInputs(0, 5);
  if (failed(inputs))
    return failure();
  ArrayRef<Value> in = *inputs;
  Value x = in[0];
  int64_t rank = typeOf(x).getRank();
  if (rank < 2)
    return node.fail("the input must have a channel dim (rank 2 or more)");
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  Type et = getElementTypeOrSelf(x);
  // The per-channel parameters as [C, 1, ...] so they broadcast against x's [N, C, ...].
  SmallVector<Value> channelShape = {node.shapeOf(in[1], 0, 1)};
  if (rank > 2)
    channelShape.push_back(node.constI64(SmallVector<int64_t>(rank - 2, 1)));
  auto perChannel = [&](Value v) { return node.reshapeTo(v, channelShape); };
  Value mean = node.reduce(x, ReduceKind::mean, axes, /*keepdims=*/true);
  Value centered = node.make<SubOp>({x, mean});
  Value var = node.reduce(node.make<MulOp>({centered, centered}), ReduceKind::mean, axes, true);
  Value epsilon = node.constScalar(et, node.attrFloat("epsilon", 1e-5f));
  Value y = node.make<AddOp>(
      {node.make<MulOp>({node.make<DivOp>({centered, node.make<SqrtOp>({node.make<AddOp>({var, epsilon})})}),
                         perChannel(in[1])}),
       perChannel(in[2])});
  if (!y || failed(node.setOutput(0, y)))
    return failure();
  float momentum = node.attrFloat("momentum", 0.9f);
  Value keep = node.constScalar(et, momentum), take = node.constScalar(et, 1.0 - momentum);
  Value flat = node.shapeOf(in[1], 0, 1);
  for (auto [output, running, batch] : {std::tuple{1, in[3], mean}, std::tuple{2, in[4], var}}) {
    if (!node.hasOutput(output))
      continue;
    Value updated = node.make<AddOp>({node.make<MulOp>({running, keep}),
                                      node.make<MulOp>({node.reshapeTo(batch, {flat}), take})});
    if (!updated || failed(node.setOutput(output, updated)))
      return failure();
  }
  return success();
}

static LogicalResult convertBatchNorm(NodeContext &node) {
  if (node.opset() >= 14 && node.attrInt("training_mode", 0))
    return convertTrainingBatchNorm(node);
  if (failed(node.rejectOutputsFrom(1, "training-mode statistics")))
    return failure();
  if (node.attrInt("training_mode", 0))
    return node.fail("training_mode is not supported");
  if (node.opset() < 7 && !node.attrInt("is_test", 0))
    return node.fail("BatchNormalization with is_test = 0 runs in training mode (batch "
                     "statistics), which is not supported; inference models set is_test = 1");
  // Before opset 9, spatial = 0 normalizes each element with its own statistics: the
  // parameters have the input's dims after the batch, and broadcast against it as they are.
  if (node.opset() < 9 && !node.attrInt("spatial", 1)) {
    FailureOr<SmallVector<Value>> inputs = node.requiredInputs(0, 5);
    if (failed(inputs))
      return failure();
    ArrayRef<Value> in = *inputs;
    Type et = getElementTypeOrSelf(in[0]);
    Value var = node.make<AddOp>({in[4], node.constScalar(et, node.attrFloat("epsilon", 1e-5f))});
    Value normalized =
        node.make<DivOp>({node.make<SubOp>({in[0], in[3]}), node.make<SqrtOp>({var})});
    Value y = node.make<AddOp>({node.make<MulOp>({normalized, in[1]}), in[2]});
    return y ? node.setOutput(0, y) : failure();
  }
  return setResult(node, node.create<BatchNormOp>(
                             {node.input(0), node.input(1), node.input(2), node.input(3),
                              node.input(4)},
                             {node.named("epsilon", node.builder().getF32FloatAttr(
                                                        node.attrFloat("epsilon", 1e-5f)))}));
}

/// LayerNormalization. When its Mean or InvStdDev output is requested it is composed from
/// reductions in the stash type (f32 by default), so those statistics exist as values.
static LogicalResult convertLayerNorm(NodeContext &node) {
  FailureOr<Value> input = node.requiredInput(0), scale = node.requiredInput(1);
  if (failed(input) || failed(scale))
    return failure();
  OpBuilder &b = node.builder();
  float epsilon = node.attrFloat("epsilon", 1e-5f);
  Value bias = node.input(2);
  if (!node.hasOutput(1) && !node.hasOutput(2)) {
    SmallVector<Value> operands = {*input, *scale};
    if (bias)
      operands.push_back(bias);
    return setResult(
        node, node.create<LayerNormOp>(
                  operands, {node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", -1))),
                             node.named("epsilon", b.getF32FloatAttr(epsilon))}));
  }
  int64_t rank = typeOf(*input).getRank();
  FailureOr<int64_t> axis = axisAttr(node, -1, rank);
  if (failed(axis))
    return failure();
  Type stash = onnxElementType(node.ctx(), node.attrInt("stash_type", 1));
  if (!isa_and_present<FloatType>(stash))
    return node.fail("stash_type must be a floating-point type");
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(*axis, rank));
  Value x = node.castElements(*input, stash);
  Value mean = node.reduce(x, ReduceKind::mean, axes, true);
  Value deviation = node.make<SubOp>({x, mean});
  Value variance =
      node.reduce(node.make<MulOp>({deviation, deviation}), ReduceKind::mean, axes, true);
  Value stdDev =
      node.make<SqrtOp>({node.make<AddOp>({variance, node.constScalar(stash, epsilon)})});
  Value y = node.make<MulOp>(
      {node.castElements(node.make<DivOp>({deviation, stdDev}), getElementTypeOrSelf(*input)),
       *scale});
  if (bias)
    y = node.make<AddOp>({y, bias});
  Value invStdDev = node.make<ReciprocalOp>({stdDev});
  if (!y || !invStdDev)
    return failure();
  (void)node.setOutput(1, mean);
  (void)node.setOutput(2, invStdDev);
  return node.setOutput(0, y);
}

static LogicalResult convertRmsNorm(NodeContext &node) {
  OpBuilder &b = node.builder();
  return setResult(node, node.create<RmsNormOp>(
                             {node.input(0), node.input(1)},
                             {node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", -1))),
                              node.named("epsilon",
                                         b.getF32FloatAttr(node.attrFloat("epsilon", 1e-5f)))}));
}

static LogicalResult convertGroupNorm(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  OpBuilder &b = node.builder();
  bool instance = node.node().op_type() == "InstanceNormalization";
  int64_t channels = typeOf(*x).getRank() >= 2 ? typeOf(*x).getDimSize(1) : -1;
  int64_t groups = instance ? channels : node.attrInt("num_groups", 0);
  if (instance && ShapedType::isDynamic(channels))
    return node.fail("InstanceNormalization needs a static channel dim");
  if (!instance && node.opset() < 21)
    return node.fail("GroupNormalization before opset 21 (per-group scale) is not supported");
  return setResult(node, node.create<GroupNormOp>(
                             {*x, node.input(1), node.input(2)},
                             {node.named("num_groups", b.getI64IntegerAttr(groups)),
                              node.named("epsilon",
                                         b.getF32FloatAttr(node.attrFloat("epsilon", 1e-5f)))}));
}

static LogicalResult convertLrn(NodeContext &node) {
  OpBuilder &b = node.builder();
  FailureOr<int64_t> size = node.requiredAttrInt("size");
  if (failed(size))
    return failure();
  return setResult(node, node.create<LrnOp>(
                             {node.input(0)},
                             {node.named("alpha", b.getF32FloatAttr(node.attrFloat("alpha", 1e-4f))),
                              node.named("beta", b.getF32FloatAttr(node.attrFloat("beta", 0.75f))),
                              node.named("bias", b.getF32FloatAttr(node.attrFloat("bias", 1.0f))),
                              node.named("size", b.getI64IntegerAttr(*size))}));
}

static LogicalResult convertEinsum(NodeContext &node) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < node.numInputs(); ++i)
    inputs.push_back(node.input(i));
  return setResult(node, node.create<EinsumOp>(
                             inputs, {node.named("equation", node.builder().getStringAttr(
                                                                 node.attrString("equation", "")))}));
}

/// [batch, seq, heads * dim] -> [batch, heads, seq, dim], reshaped directly (no transpose) as
/// the Attention function body of ONNX 1.18 does.
static Value splitHeads(NodeContext &node, Value x, int64_t heads) {
  return node.reshapeTo(x, {node.shapeOf(x, 0, 1), node.constI64({heads}), node.shapeOf(x, 1, 2),
                            node.constI64({-1})});
}

/// ONNX Attention (opset 23), following the function body of ONNX 1.18:
/// - 3-D [batch, seq, hidden] inputs are split into q_num_heads / kv_num_heads heads by a plain
///   reshape, and the output is transposed back to [batch, seq, heads * v_head_dim];
/// - past_key / past_value are concatenated before K / V along the sequence; the results are
///   the present_key / present_value outputs;
/// - grouped-query attention tiles K / V: query head h reads key/value head h % kv_heads;
/// - the optional qk_matmul_output is the scores after stage qk_matmul_output_mode (0: Q.K^T
///   scaled, 1: plus the mask, 2: after softcap, 3: after softmax).
static LogicalResult convertAttention(NodeContext &node) {
  FailureOr<Value> query = node.requiredInput(0), key = node.requiredInput(1),
                   value = node.requiredInput(2);
  if (failed(query) || failed(key) || failed(value))
    return failure();
  Value q = *query, k = *key, v = *value;
  int64_t rank = typeOf(q).getRank();
  if (rank != 3 && rank != 4)
    return node.fail("Attention inputs must be 3-D or 4-D, got " + Twine(rank) + "-D");
  if (typeOf(k).getRank() != rank || typeOf(v).getRank() != rank)
    return node.fail("Q, K and V must have one rank");
  if (rank == 3) {
    int64_t qHeads = node.attrInt("q_num_heads", 0), kvHeads = node.attrInt("kv_num_heads", 0);
    if (qHeads <= 0 || kvHeads <= 0)
      return node.fail("3-D Attention needs attributes q_num_heads and kv_num_heads");
    q = splitHeads(node, q, qHeads);
    k = splitHeads(node, k, kvHeads);
    v = splitHeads(node, v, kvHeads);
  }
  OpBuilder &b = node.builder();
  auto axis = [&](int64_t a) { return node.named("axis", b.getI64IntegerAttr(a)); };
  if (Value pastKey = node.input(4))
    k = node.make<ConcatOp>({pastKey, k}, {axis(2)});
  if (Value pastValue = node.input(5))
    v = node.make<ConcatOp>({pastValue, v}, {axis(2)});
  if (!q || !k || !v)
    return failure();
  (void)node.setOutput(1, k);
  (void)node.setOutput(2, v);

  int64_t qHeads = typeOf(q).getDimSize(1), kvHeads = typeOf(k).getDimSize(1);
  if (qHeads != kvHeads) {
    if (ShapedType::isDynamic(qHeads) || ShapedType::isDynamic(kvHeads) || kvHeads == 0 ||
        qHeads % kvHeads != 0)
      return node.fail("query heads (" + Twine(qHeads) +
                       ") must be a static multiple of key heads (" + Twine(kvHeads) + ")");
    Value repeats = node.constI64({1, qHeads / kvHeads, 1, 1});
    k = node.make<TileOp>({k, repeats});
    v = node.make<TileOp>({v, repeats});
  }
  int64_t headDim = typeOf(q).getDimSize(3);
  if (!node.attr("scale") && ShapedType::isDynamic(headDim))
    return node.fail("Attention without scale needs a static head dim");
  float scale = node.attr("scale") ? node.attrFloat("scale", 1.0f)
                                   : 1.0f / std::sqrt(static_cast<float>(headDim));
  Type et = getElementTypeOrSelf(q);
  if (node.attr("softmax_precision") &&
      onnxElementType(node.ctx(), node.attrInt("softmax_precision", 1)) != et)
    return node.fail("softmax_precision other than the input type is not supported");
  SmallVector<Value> operands = {q, k, v};
  if (Value mask = node.input(3))
    operands.push_back(mask);
  Value y = node.make<AttentionOp>(
      operands, {node.named("scale", b.getF32FloatAttr(scale)),
                 node.named("is_causal", b.getBoolAttr(node.attrInt("is_causal", 0))),
                 node.named("softcap", b.getF32FloatAttr(node.attrFloat("softcap", 0)))});
  if (!y)
    return failure();
  if (node.hasOutput(3)) {
    auto parts = expandAttention(b, y.getDefiningOp<AttentionOp>());
    if (failed(parts))
      return node.fail("cannot compute qk_matmul_output");
    int64_t mode = node.attrInt("qk_matmul_output_mode", 0);
    if (mode < 0 || mode > 3)
      return node.fail("qk_matmul_output_mode must be 0 to 3, got " + Twine(mode));
    Value stages[] = {parts->scores, parts->biased, parts->capped, parts->probabilities};
    (void)node.setOutput(3, stages[mode]);
  }
  if (rank == 3)
    y = node.reshapeTo(
        node.make<TransposeOp>({y}, {node.named("perm", b.getDenseI64ArrayAttr({0, 2, 1, 3}))}),
        {node.constI64({0, 0, -1})});
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertRotaryEmbedding(NodeContext &node) {
  OpBuilder &b = node.builder();
  SmallVector<Value> operands = {node.input(0), node.input(1), node.input(2)};
  if (Value positions = node.input(3))
    operands.push_back(positions);
  return setResult(node, node.create<RotaryEmbeddingOp>(
                             operands,
                             {node.named("interleaved", b.getBoolAttr(node.attrInt("interleaved", 0))),
                              node.named("rotary_dim",
                                         b.getI64IntegerAttr(node.attrInt("rotary_embedding_dim", 0))),
                              node.named("num_heads", b.getI64IntegerAttr(node.attrInt("num_heads", 0)))}));
}

/// GridSample; opset 16 calls the modes bilinear and bicubic, opset 20 linear and cubic.
static LogicalResult convertGridSample(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), grid = node.requiredInput(1);
  if (failed(x) || failed(grid))
    return failure();
  std::string mode = node.attrString("mode", node.opset() >= 20 ? "linear" : "bilinear");
  if (mode == "bilinear")
    mode = "linear";
  else if (mode == "bicubic")
    mode = "cubic";
  OpBuilder &b = node.builder();
  return setResult(
      node, node.create<GridSampleOp>(
                {*x, *grid},
                {node.named("mode", b.getStringAttr(mode)),
                 node.named("padding_mode",
                            b.getStringAttr(node.attrString("padding_mode", "zeros"))),
                 node.named("align_corners", b.getBoolAttr(node.attrInt("align_corners", 0)))}));
}

/// AffineGrid: the normalized base grid, a constant as `size` is, times theta transposed.
static LogicalResult convertAffineGrid(NodeContext &node) {
  FailureOr<Value> theta = node.requiredInput(0);
  if (failed(theta))
    return failure();
  std::optional<SmallVector<int64_t>> size = getConstantIntValues(node.input(1));
  if (!size || (size->size() != 4 && size->size() != 5))
    return node.fail("AffineGrid needs a constant size [N, C, H, W] or [N, C, D, H, W]");
  int64_t spatial = static_cast<int64_t>(size->size()) - 2;
  RankedTensorType thetaType = typeOf(*theta);
  if (thetaType.getRank() != 3 || thetaType.getDimSize(1) != spatial ||
      thetaType.getDimSize(2) != spatial + 1)
    return node.fail("AffineGrid theta must be [N, " + Twine(spatial) + ", " +
                     Twine(spatial + 1) + "]");
  bool align = node.attrInt("align_corners", 0);
  ArrayRef<int64_t> dims = ArrayRef<int64_t>(*size).drop_front(2);
  int64_t points = 1;
  for (int64_t d : dims)
    points *= d;
  // Row p of the base grid: the coordinates of point p, x (the innermost dim) first, and 1.
  SmallVector<double> base;
  for (int64_t p = 0; p < points; ++p) {
    int64_t rest = p;
    SmallVector<double> row;
    for (int64_t d = spatial - 1; d >= 0; --d) {
      int64_t i = rest % dims[d], n = dims[d];
      rest /= n;
      row.push_back(align ? (n == 1 ? -1.0 : -1.0 + 2.0 * i / (n - 1)) : (2.0 * i + 1) / n - 1);
    }
    llvm::append_range(base, row);
    base.push_back(1.0);
  }
  OpBuilder &b = node.builder();
  Value grid = node.constFloats(thetaType.getElementType(), {points, spatial + 1}, base);
  Value thetaT = node.make<TransposeOp>(
      {*theta}, {node.named("perm", b.getDenseI64ArrayAttr({0, 2, 1}))});
  SmallVector<int64_t> shape = {(*size)[0]};
  llvm::append_range(shape, dims);
  shape.push_back(spatial);
  Value out = node.make<ReshapeOp>({node.make<MatMulOp>({grid, thetaT}), node.constI64(shape)});
  return out ? node.setOutput(0, out) : failure();
}

void mlir::catfish::onnx_import::registerNNConverters(ConverterMap &map) {
  map["GridSample"] = convertGridSample;
  map["AffineGrid"] = convertAffineGrid;
  map["MatMul"] = convertMatMul;
  map["Gemm"] = convertGemm;
  map["Conv"] = convertConv;
  map["ConvTranspose"] = convertConv;
  map["MaxUnpool"] = convertMaxUnpool;
  for (StringRef name : {"MaxPool", "AveragePool", "LpPool"})
    map[name] = convertPool;
  map["GlobalAveragePool"] = convertGlobalPool;
  map["GlobalMaxPool"] = convertGlobalPool;
  map["Softmax"] = convertSoftmax;
  map["LogSoftmax"] = convertSoftmax;
  map["Hardmax"] = convertHardmax;
  map["BatchNormalization"] = convertBatchNorm;
  map["LayerNormalization"] = convertLayerNorm;
  map["RMSNormalization"] = convertRmsNorm;
  map["GroupNormalization"] = convertGroupNorm;
  map["InstanceNormalization"] = convertGroupNorm;
  map["LRN"] = convertLrn;
  map["Einsum"] = convertEinsum;
  map["Det"] = convertDet;
  map["Attention"] = convertAttention;
  map["RotaryEmbedding"] = convertRotaryEmbedding;
}
