//===- Tensor.cpp - ONNX shape, indexing and data movement ops -----------===//
#include "../ImporterImpl.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// A shape-like operand as i64 (ONNX allows int32 in a few places).
static FailureOr<Value> asI64(NodeContext &node, Value v) {
  if (!v)
    return node.fail("a shape input is missing");
  if (getElementTypeOrSelf(v).isInteger(64))
    return v;
  auto r = node.create(CastOp::getOperationName(), {v}, {},
                       {typeOf(v).clone(node.builder().getI64Type())});
  if (failed(r))
    return failure();
  return r->front();
}

FailureOr<std::optional<SmallVector<int64_t>>>
mlir::catfish::onnx_import::axesOf(NodeContext &node, size_t inputIndex) {
  if (node.attr("axes"))
    return std::optional<SmallVector<int64_t>>(node.attrInts("axes"));
  Value axes = node.input(inputIndex);
  if (!axes)
    return std::optional<SmallVector<int64_t>>();
  auto values = getConstantIntValues(axes);
  if (!values)
    return node.fail("axes must be a constant");
  return std::optional<SmallVector<int64_t>>(*values);
}

static LogicalResult convertConstant(NodeContext &node) {
  const onnx::AttributeProto *attr = nullptr;
  for (const onnx::AttributeProto &a : node.node().attribute())
    attr = &a;
  if (!attr || node.node().attribute_size() != 1)
    return node.fail("Constant needs exactly one value attribute");
  OpBuilder &b = node.builder();
  RankedTensorType scalarF32 = RankedTensorType::get({}, b.getF32Type());
  ElementsAttr value;
  StringRef kind = attr->name();
  if (kind == "value") {
    onnx::TensorProto tensor = attr->t();
    auto imported = importTensor(node.ctx(), tensor, node.graph.external);
    if (!imported)
      return node.fail(llvm::toString(imported.takeError()));
    value = *imported;
  } else if (kind == "value_float") {
    value = DenseElementsAttr::get(scalarF32, attr->f());
  } else if (kind == "value_floats") {
    auto floats = node.attrFloats("value_floats");
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)floats.size()}, b.getF32Type()), ArrayRef<float>(floats));
  } else if (kind == "value_int") {
    return node.setOutput(0, node.constI64({attr->i()}, /*scalar=*/true));
  } else if (kind == "value_ints") {
    return node.setOutput(0, node.constI64(node.attrInts("value_ints")));
  } else {
    return node.fail("Constant attribute '" + kind + "' is not supported");
  }
  return node.setOutput(0, ConstantOp::create(b, node.loc(), value));
}

static LogicalResult convertShape(NodeContext &node) {
  OpBuilder &b = node.builder();
  SmallVector<NamedAttribute> attrs = {
      node.named("start", b.getI64IntegerAttr(node.attrInt("start", 0)))};
  if (node.attr("end"))
    attrs.push_back(node.named("end", b.getI64IntegerAttr(node.attrInt("end", 0))));
  return setResult(node, node.create<ShapeOp>({node.input(0)}, attrs));
}

static LogicalResult convertSize(NodeContext &node) {
  return setResult(node, node.create<SizeOp>({node.input(0)}));
}

static LogicalResult convertReshape(NodeContext &node) {
  // Before opset 5 the shape is an attribute.
  Value shape = node.opset() >= 5           ? node.input(1)
                : node.attr("shape") ? node.constI64(node.attrInts("shape"))
                                     : Value();
  if (!shape)
    return node.fail("Reshape needs a shape input");
  return setResult(node, node.create<ReshapeOp>(
                             {node.input(0), shape},
                             {node.named("allowzero", node.builder().getBoolAttr(
                                                          node.attrInt("allowzero", 0)))}));
}

static LogicalResult convertFlatten(NodeContext &node) {
  Value x = node.input(0);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = node.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return node.fail("axis " + Twine(node.attrInt("axis", 1)) + " is out of range for rank " +
                     Twine(rank));
  ArrayRef<int64_t> dims = typeOf(x).getShape();
  auto product = [](ArrayRef<int64_t> ds) -> std::optional<int64_t> {
    int64_t p = 1;
    for (int64_t d : ds) {
      if (ShapedType::isDynamic(d))
        return std::nullopt;
      p *= d;
    }
    return p;
  };
  auto outer = product(dims.take_front(axis)), inner = product(dims.drop_front(axis));
  if (!outer && !inner)
    return node.fail("Flatten needs static dims on one side of the axis");
  Value y = node.reshapeTo(x, {node.constI64({outer ? *outer : -1, inner ? *inner : -1})});
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertSqueeze(NodeContext &node) {
  Value x = node.input(0);
  RankedTensorType type = typeOf(x);
  auto axes = axesOf(node, 1);
  if (failed(axes))
    return failure();
  SmallVector<bool> drop(type.getRank(), false);
  if (*axes) {
    for (int64_t a : **axes) {
      int64_t n = a < 0 ? a + type.getRank() : a;
      if (n < 0 || n >= type.getRank())
        return node.fail("axis " + Twine(a) + " is out of range for " + Twine(type.getRank()) +
                         "-D input");
      if (!type.isDynamicDim(n) && type.getDimSize(n) != 1)
        return node.fail("cannot squeeze dim " + Twine(n) + " of size " +
                         Twine(type.getDimSize(n)));
      drop[n] = true;
    }
  } else {
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i))
        return node.fail("Squeeze without axes needs a static input shape");
      drop[i] = type.getDimSize(i) == 1;
    }
  }
  SmallVector<Value> pieces;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (drop[i])
      continue;
    pieces.push_back(node.shapeOf(x, i, i + 1));
  }
  if (pieces.empty())
    pieces.push_back(node.constI64({}));
  Value y = node.reshapeTo(x, pieces);
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertUnsqueeze(NodeContext &node) {
  Value x = node.input(0);
  int64_t rank = typeOf(x).getRank();
  auto axes = axesOf(node, 1);
  if (failed(axes))
    return failure();
  if (!*axes)
    return node.fail("Unsqueeze needs axes");
  int64_t outRank = rank + (*axes)->size();
  SmallVector<bool> inserted(outRank, false);
  for (int64_t a : **axes) {
    int64_t n = a < 0 ? a + outRank : a;
    if (n < 0 || n >= outRank || inserted[n])
      return node.fail("axis " + Twine(a) + " is out of range or repeated for output rank " +
                       Twine(outRank));
    inserted[n] = true;
  }
  SmallVector<Value> pieces;
  int64_t src = 0;
  for (int64_t i = 0; i < outRank; ++i) {
    if (inserted[i]) {
      pieces.push_back(node.constI64({1}));
      continue;
    }
    pieces.push_back(node.shapeOf(x, src, src + 1));
    ++src;
  }
  Value y = node.reshapeTo(x, pieces);
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertTranspose(NodeContext &node) {
  Value x = node.input(0);
  SmallVector<int64_t> perm = node.attrInts("perm");
  if (!node.attr("perm"))
    for (int64_t i = typeOf(x).getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  return setResult(node, node.create<TransposeOp>(
                             {x}, {node.named("perm", node.builder().getDenseI64ArrayAttr(perm))}));
}

static LogicalResult convertConcat(NodeContext &node) {
  // Before opset 4 the axis defaults to 1.
  FailureOr<int64_t> axis =
      node.opset() < 4 ? node.attrInt("axis", 1) : node.requiredAttrInt("axis");
  if (failed(axis))
    return failure();
  SmallVector<Value> inputs;
  for (size_t i = 0; i < node.numInputs(); ++i)
    if (Value v = node.input(i))
      inputs.push_back(v);
  return setResult(node, node.create<ConcatOp>(
                             inputs, {node.named("axis", node.builder().getI64IntegerAttr(*axis))}));
}

static LogicalResult convertSplit(NodeContext &node) {
  Value x = node.input(0);
  RankedTensorType type = typeOf(x);
  int64_t axis = node.attrInt("axis", 0);
  int64_t n = axis < 0 ? axis + type.getRank() : axis;
  if (n < 0 || n >= type.getRank())
    return node.fail("axis " + Twine(axis) + " is out of range");
  SmallVector<int64_t> sizes = node.attrInts("split");
  if (Value split = node.input(1)) {
    auto values = getConstantIntValues(split);
    if (!values)
      return node.fail("split sizes must be constant");
    sizes = *values;
  }
  if (sizes.empty()) {
    if (type.isDynamicDim(n))
      return node.fail("splitting a dynamic dim needs explicit split sizes");
    int64_t parts = node.attr("num_outputs") ? node.attrInt("num_outputs", 1) : node.numOutputs();
    if (parts != static_cast<int64_t>(node.numOutputs()))
      return node.fail("num_outputs is " + Twine(parts) + " but the node has " +
                       Twine(node.numOutputs()) + " outputs");
    if (parts < 1)
      return node.fail("Split needs at least one output");
    int64_t dim = type.getDimSize(n);
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if (sizes.size() != node.numOutputs())
    return node.fail("split produces " + Twine(sizes.size()) + " pieces but the node has " +
                     Twine(node.numOutputs()) + " outputs");
  OpBuilder &b = node.builder();
  auto r = node.create(SplitOp::getOperationName(), {x},
                       {node.named("axis", b.getI64IntegerAttr(n)),
                        node.named("sizes", b.getDenseI64ArrayAttr(sizes))});
  if (failed(r))
    return failure();
  for (auto [i, v] : llvm::enumerate(*r))
    (void)node.setOutput(i, v);
  return success();
}

static LogicalResult convertSlice(NodeContext &node) {
  Value x = node.input(0);
  SmallVector<Value> operands = {x};
  if (node.opset() < 10) {
    operands.push_back(node.constI64(node.attrInts("starts")));
    operands.push_back(node.constI64(node.attrInts("ends")));
    if (node.attr("axes"))
      operands.push_back(node.constI64(node.attrInts("axes")));
  } else {
    for (size_t i = 1; i < 5; ++i)
      operands.push_back(node.input(i));
  }
  while (operands.size() < 5)
    operands.push_back(Value());
  if (!operands[1] || !operands[2])
    return node.fail("Slice needs starts and ends");
  SmallVector<Value> present;
  SmallVector<int32_t> segments = {1, 1, 1, operands[3] ? 1 : 0, operands[4] ? 1 : 0};
  for (Value v : operands)
    if (v)
      present.push_back(v);
  return setResult(node, node.create<SliceOp>(
                             present, {node.named("operandSegmentSizes",
                                                  node.builder().getDenseI32ArrayAttr(segments))}));
}

static LogicalResult convertGatherLike(NodeContext &node) {
  StringRef type = node.node().op_type();
  OpBuilder &b = node.builder();
  if (type == "GatherND")
    return setResult(node, node.create<GatherNdOp>(
                               {node.input(0), node.input(1)},
                               {node.named("batch_dims",
                                           b.getI64IntegerAttr(node.attrInt("batch_dims", 0)))}));
  auto axis = node.named("axis", b.getI64IntegerAttr(node.attrInt("axis", 0)));
  if (type == "Gather")
    return setResult(node, node.create<GatherOp>({node.input(0), node.input(1)}, {axis}));
  return setResult(node,
                   node.create<GatherElementsOp>({node.input(0), node.input(1)}, {axis}));
}

static FailureOr<ScatterReduction> scatterReduction(NodeContext &node) {
  std::string reduction = node.attrString("reduction", "none");
  auto kind = symbolizeScatterReduction(reduction);
  if (!kind)
    return node.fail("unsupported reduction '" + reduction + "'");
  return *kind;
}

static LogicalResult convertScatter(NodeContext &node) {
  auto kind = scatterReduction(node);
  if (failed(kind))
    return failure();
  OpBuilder &b = node.builder();
  auto reduction = node.named("reduction", ScatterReductionAttr::get(node.ctx(), *kind));
  SmallVector<Value> operands = {node.input(0), node.input(1), node.input(2)};
  if (node.node().op_type() == "ScatterND")
    return setResult(node, node.create<ScatterNdOp>(operands, {reduction}));
  return setResult(node, node.create<ScatterElementsOp>(
                             operands, {node.named("axis", b.getI64IntegerAttr(
                                                               node.attrInt("axis", 0))),
                                        reduction}));
}

static LogicalResult convertExpand(NodeContext &node) {
  auto shape = asI64(node, node.input(1));
  if (failed(shape))
    return failure();
  return setResult(node, node.create<BroadcastOp>({node.input(0), *shape}));
}

static LogicalResult convertTile(NodeContext &node) {
  // Before opset 6, Tile repeats one axis: inputs (input, tiles, axis), both scalars.
  if (node.opset() < 6) {
    std::optional<SmallVector<int64_t>> tiles = getConstantIntValues(node.input(1));
    std::optional<SmallVector<int64_t>> axis = getConstantIntValues(node.input(2));
    if (!tiles || !axis || tiles->size() != 1 || axis->size() != 1)
      return node.fail("Tile (opset < 6) needs constant scalar tiles and axis");
    int64_t rank = typeOf(node.input(0)).getRank();
    int64_t a = axis->front() < 0 ? axis->front() + rank : axis->front();
    if (a < 0 || a >= rank)
      return node.fail("Tile axis " + Twine(axis->front()) + " is out of range");
    SmallVector<int64_t> repeats(rank, 1);
    repeats[a] = tiles->front();
    return setResult(node, node.create<TileOp>({node.input(0), node.constI64(repeats)}));
  }
  auto repeats = asI64(node, node.input(1));
  if (failed(repeats))
    return failure();
  return setResult(node, node.create<TileOp>({node.input(0), *repeats}));
}

static LogicalResult convertPad(NodeContext &node) {
  Value x = node.input(0);
  int64_t rank = typeOf(x).getRank();
  std::string modeName = node.attrString("mode", "constant");
  auto mode = symbolizePadMode(modeName);
  if (!mode)
    return node.fail("unsupported pad mode '" + modeName + "'");
  Value pads, value;
  if (node.opset() < 11) {
    pads = node.constI64(node.attrInts(node.opset() < 2 ? "paddings" : "pads"));
    value = node.constScalar(getElementTypeOrSelf(x), node.attrFloat("value", 0));
  } else {
    pads = node.input(1);
    value = node.input(2);
    if (Value axesValue = node.input(3)) {
      auto axes = getConstantIntValues(axesValue);
      auto given = getConstantIntValues(pads);
      if (!axes || !given)
        return node.fail("Pad with axes needs constant pads and axes");
      if (given->size() != 2 * axes->size())
        return node.fail("pads must have two entries per axis");
      SmallVector<int64_t> full(2 * rank, 0);
      for (auto [i, a] : llvm::enumerate(*axes)) {
        int64_t n = a < 0 ? a + rank : a;
        if (n < 0 || n >= rank)
          return node.fail("pad axis " + Twine(a) + " is out of range");
        full[n] = (*given)[i];
        full[n + rank] = (*given)[i + axes->size()];
      }
      pads = node.constI64(full);
    }
  }
  if (!pads)
    return node.fail("Pad needs pads");
  SmallVector<Value> operands = {x, pads};
  if (value)
    operands.push_back(value);
  return setResult(node, node.create<PadOp>(
                             operands, {node.named("mode", PadModeAttr::get(node.ctx(), *mode))}));
}

static LogicalResult convertConstantOfShape(NodeContext &node) {
  OpBuilder &b = node.builder();
  TypedAttr value = b.getZeroAttr(b.getF32Type());
  if (const onnx::AttributeProto *attr = node.attr("value")) {
    onnx::TensorProto tensor = attr->t();
    auto imported = importTensor(node.ctx(), tensor, node.graph.external);
    if (!imported)
      return node.fail(llvm::toString(imported.takeError()));
    auto dense = dyn_cast<DenseElementsAttr>(*imported);
    if (!dense || dense.getNumElements() != 1)
      return node.fail("attribute 'value' must hold one element");
    value = cast<TypedAttr>(*dense.value_begin<Attribute>());
  }
  auto shape = asI64(node, node.input(0));
  if (failed(shape))
    return failure();
  return setResult(node, node.create<FillOp>({*shape}, {node.named("value", value)}));
}

static LogicalResult convertOneHot(NodeContext &node) {
  return setResult(node, node.create<OneHotOp>(
                             {node.input(0), node.input(1), node.input(2)},
                             {node.named("axis", node.builder().getI64IntegerAttr(
                                                     node.attrInt("axis", -1)))}));
}

static LogicalResult convertTrilu(NodeContext &node) {
  int64_t k = 0;
  if (Value kValue = node.input(1)) {
    auto values = getConstantIntValues(kValue);
    if (!values || values->size() != 1)
      return node.fail("Trilu k must be a constant scalar");
    k = values->front();
  }
  OpBuilder &b = node.builder();
  return setResult(node, node.create<TriluOp>(
                             {node.input(0)},
                             {node.named("k", b.getI64IntegerAttr(k)),
                              node.named("upper", b.getBoolAttr(node.attrInt("upper", 1)))}));
}

static LogicalResult convertCumSum(NodeContext &node) {
  auto axis = getConstantIntValues(node.input(1));
  if (!axis || axis->size() != 1)
    return node.fail("CumSum axis must be a constant scalar");
  OpBuilder &b = node.builder();
  return setResult(node, node.create<CumSumOp>(
                             {node.input(0)},
                             {node.named("axis", b.getI64IntegerAttr(axis->front())),
                              node.named("exclusive", b.getBoolAttr(node.attrInt("exclusive", 0))),
                              node.named("reverse", b.getBoolAttr(node.attrInt("reverse", 0)))}));
}

/// DepthToSpace / SpaceToDepth as reshape -> transpose -> reshape on a static NCHW input.
static LogicalResult convertDepthSpace(NodeContext &node) {
  Value x = node.input(0);
  RankedTensorType type = typeOf(x);
  if (type.getRank() != 4 || !type.hasStaticShape())
    return node.fail("needs a static NCHW input, got " + Twine(type.getRank()) + "-D");
  int64_t bs = node.attrInt("blocksize", 0);
  if (bs <= 0)
    return node.fail("attribute 'blocksize' must be positive");
  int64_t n = type.getDimSize(0), c = type.getDimSize(1), h = type.getDimSize(2),
          w = type.getDimSize(3);
  SmallVector<int64_t> first, perm, last;
  if (node.node().op_type() == "DepthToSpace") {
    if (c % (bs * bs) != 0)
      return node.fail("channels are not divisible by blocksize^2");
    bool crd = node.attrString("mode", "DCR") == "CRD";
    first = crd ? SmallVector<int64_t>{n, c / (bs * bs), bs, bs, h, w}
                : SmallVector<int64_t>{n, bs, bs, c / (bs * bs), h, w};
    perm = crd ? SmallVector<int64_t>{0, 1, 4, 2, 5, 3} : SmallVector<int64_t>{0, 3, 4, 1, 5, 2};
    last = {n, c / (bs * bs), h * bs, w * bs};
  } else {
    if (h % bs != 0 || w % bs != 0)
      return node.fail("spatial dims are not divisible by blocksize");
    first = {n, c, h / bs, bs, w / bs, bs};
    perm = {0, 3, 5, 1, 2, 4};
    last = {n, c * bs * bs, h / bs, w / bs};
  }
  auto r1 = node.create<ReshapeOp>({x, node.constI64(first)});
  if (failed(r1))
    return failure();
  auto t = node.create<TransposeOp>(
      {*r1}, {node.named("perm", node.builder().getDenseI64ArrayAttr(perm))});
  if (failed(t))
    return failure();
  return setResult(node, node.create<ReshapeOp>({*t, node.constI64(last)}));
}

static LogicalResult convertEyeLike(NodeContext &node) {
  RankedTensorType type = typeOf(node.input(0));
  if (type.getRank() != 2 || !type.hasStaticShape())
    return node.fail("EyeLike needs a static 2-D input");
  Type et = type.getElementType();
  if (node.attr("dtype")) {
    et = onnxElementType(node.ctx(), node.attrInt("dtype", 1));
    if (!et)
      return node.fail("unsupported dtype");
  }
  int64_t k = node.attrInt("k", 0);
  auto outType = type.clone(et);
  SmallVector<Attribute> values;
  OpBuilder &b = node.builder();
  for (int64_t i = 0; i < type.getDimSize(0); ++i)
    for (int64_t j = 0; j < type.getDimSize(1); ++j)
      values.push_back(isa<FloatType>(et) ? Attribute(b.getFloatAttr(et, j - i == k))
                                          : Attribute(b.getIntegerAttr(et, j - i == k)));
  return node.setOutput(0, ConstantOp::create(b, node.loc(),
                                              DenseElementsAttr::get(outType, values)));
}

/// The values of a constant float tensor, or nullopt.
static std::optional<SmallVector<double>> constantFloats(Value value) {
  DenseFPElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> values;
  for (const APFloat &v : attr.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

/// Resize (and the older Upsample) with output sizes known at compile time. Scales or sizes
/// given for some `axes` become per-dim values for every dim; a keep-aspect-ratio policy picks
/// one scale for the listed axes.
static LogicalResult convertResize(NodeContext &node) {
  Value x = node.input(0);
  RankedTensorType type = typeOf(x);
  bool upsample = node.node().op_type() == "Upsample";
  bool hasRoi = !upsample && node.opset() >= 11;
  Value roiValue = hasRoi ? node.input(1) : Value();
  Value scalesValue = upsample || !hasRoi ? node.input(1) : node.input(2);
  // Upsample before opset 9 takes its scales as an attribute: `scales` (opset 7), or
  // `height_scale` and `width_scale` of an NCHW input (the experimental opset 1 form).
  if (upsample && node.opset() < 9) {
    SmallVector<double> attrScales;
    if (node.attr("scales")) {
      for (float s : node.attrFloats("scales"))
        attrScales.push_back(s);
    } else if (type.getRank() == 4) {
      attrScales = {1.0, 1.0, node.attrFloat("height_scale", 1.0f),
                    node.attrFloat("width_scale", 1.0f)};
    }
    if (attrScales.empty())
      return node.fail("Upsample (opset < 9) needs a scales attribute");
    scalesValue = node.constFloats(Float64Type::get(node.ctx()),
                                   {static_cast<int64_t>(attrScales.size())}, attrScales);
  }
  Value sizesValue = hasRoi ? node.input(3) : Value();
  if (!type.hasStaticShape())
    return node.fail("Resize needs a static input shape (fix input dims with --shape)");
  int64_t rank = type.getRank();
  ArrayRef<int64_t> in = type.getShape();
  SmallVector<int64_t> axes;
  if (node.attr("axes")) {
    for (int64_t axis : node.attrInts("axes")) {
      if (axis < -rank || axis >= rank)
        return node.fail("Resize axis " + Twine(axis) + " is out of range for rank " +
                         Twine(rank));
      axes.push_back(axis < 0 ? axis + rank : axis);
    }
  } else {
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  std::string mode = node.attrString("coordinate_transformation_mode",
                                     upsample ? "asymmetric" : "half_pixel");
  SmallVector<double> roi;
  if (mode == "tf_crop_and_resize") {
    std::optional<SmallVector<double>> given = constantFloats(roiValue);
    if (!given || given->size() != 2 * axes.size())
      return node.fail("tf_crop_and_resize needs a constant roi with " +
                       Twine(2 * axes.size()) + " entries");
    roi.assign(rank, 0.0);
    roi.append(rank, 1.0);
    for (auto [i, axis] : llvm::enumerate(axes)) {
      roi[axis] = (*given)[i];
      roi[rank + axis] = (*given)[axes.size() + i];
    }
  }
  SmallVector<int64_t> sizes(in);
  SmallVector<double> scales(rank, 1.0);
  bool haveScales = false;
  std::optional<SmallVector<double>> givenScales = constantFloats(scalesValue);
  if (givenScales && givenScales->empty())
    givenScales.reset();
  if (sizesValue) {
    std::optional<SmallVector<int64_t>> given = getConstantIntValues(sizesValue);
    if (!given)
      return node.fail("Resize sizes must be constant (an initializer, or a graph input "
                       "frozen with --freeze-input)");
    if (given->size() != axes.size())
      return node.fail("Resize sizes has " + Twine(given->size()) + " entries for " +
                       Twine(axes.size()) + " axes");
    std::string policy = node.attrString("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
      for (auto [axis, size] : llvm::zip(axes, *given))
        sizes[axis] = size;
    } else if (policy == "not_larger" || policy == "not_smaller") {
      double scale = policy == "not_larger" ? INFINITY : 0.0;
      for (auto [axis, size] : llvm::zip(axes, *given)) {
        double ratio = static_cast<double>(size) / static_cast<double>(in[axis]);
        scale = policy == "not_larger" ? std::min(scale, ratio) : std::max(scale, ratio);
      }
      for (int64_t axis : axes) {
        sizes[axis] = static_cast<int64_t>(std::floor(scale * in[axis] + 0.5));
        scales[axis] = scale;
      }
      haveScales = true;
    } else {
      return node.fail("unknown keep_aspect_ratio_policy '" + policy + "'");
    }
  } else if (givenScales) {
    if (givenScales->size() != axes.size())
      return node.fail("Resize scales has " + Twine(givenScales->size()) + " entries for " +
                       Twine(axes.size()) + " axes");
    for (auto [axis, scale] : llvm::zip(axes, *givenScales)) {
      if (!(scale > 0))
        return node.fail("Resize scales must be positive, got " + std::to_string(scale));
      double extent = roi.empty() ? 1.0 : roi[rank + axis] - roi[axis];
      sizes[axis] = static_cast<int64_t>(std::floor(in[axis] * extent * scale));
      scales[axis] = scale;
    }
    haveScales = true;
  } else {
    return node.fail("Resize needs constant scales or sizes (initializers, or graph inputs "
                     "frozen with --freeze-input)");
  }
  // Upsample's experimental opset 1 form calls linear "bilinear".
  std::string interpolation = node.attrString("mode", "nearest");
  OpBuilder &b = node.builder();
  SmallVector<NamedAttribute> attrs = {
      node.named("mode", b.getStringAttr(interpolation == "bilinear" ? "linear" : interpolation)),
      node.named("coordinate_transformation_mode", b.getStringAttr(mode)),
      node.named("nearest_mode",
                 b.getStringAttr(node.attrString("nearest_mode",
                                                 upsample ? "floor" : "round_prefer_floor"))),
      node.named("cubic_coeff_a", b.getF32FloatAttr(node.attrFloat("cubic_coeff_a", -0.75f))),
      node.named("exclude_outside", b.getBoolAttr(node.attrInt("exclude_outside", 0))),
      node.named("extrapolation_value",
                 b.getF32FloatAttr(node.attrFloat("extrapolation_value", 0))),
      node.named("antialias", b.getBoolAttr(node.attrInt("antialias", 0)))};
  if (haveScales)
    attrs.push_back(node.named("scales", b.getDenseF64ArrayAttr(scales)));
  if (!roi.empty())
    attrs.push_back(node.named("roi", b.getDenseF64ArrayAttr(roi)));
  return setResult(node, node.create<ResizeOp>({x, node.constI64(sizes)}, attrs));
}

/// Hann, Hamming and Blackman windows: constants, since their size must be.
static LogicalResult convertWindow(NodeContext &node) {
  std::optional<SmallVector<int64_t>> size = getConstantIntValues(node.input(0));
  if (!size || size->size() != 1 || (*size)[0] < 0)
    return node.fail("the window size must be a constant non-negative scalar");
  Type et = onnxElementType(node.ctx(), node.attrInt("output_datatype", 1));
  if (!et || !isa<FloatType>(et))
    return node.fail("the window output_datatype must be a float type");
  int64_t n = (*size)[0];
  double period = node.attrInt("periodic", 1) ? n : n - 1;
  StringRef op = node.node().op_type();
  SmallVector<double> values;
  for (int64_t i = 0; i < n; ++i) {
    double angle = 2 * M_PI * i / period;
    if (op == "HannWindow")
      values.push_back(0.5 - 0.5 * std::cos(angle));
    else if (op == "HammingWindow")
      values.push_back(25.0 / 46.0 - 21.0 / 46.0 * std::cos(angle));
    else
      values.push_back(0.42 - 0.5 * std::cos(angle) + 0.08 * std::cos(2 * angle));
  }
  return node.setOutput(0, node.constFloats(et, {n}, values));
}

/// MeanVarianceNormalization as its ONNX function body: (x - E[x]) / (sqrt(E[x^2] - E[x]^2)
/// + 1e-9) over `axes`.
static LogicalResult convertMeanVarianceNorm(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes = node.attrInts("axes");
  if (!node.attr("axes"))
    axes = {0, 2, 3};
  Type f = getElementTypeOrSelf(*x);
  Value mean = node.reduce(*x, ReduceKind::mean, axes, true);
  Value meanOfSquares = node.reduce(node.make<MulOp>({*x, *x}), ReduceKind::mean, axes, true);
  Value variance = node.make<SubOp>({meanOfSquares, node.make<MulOp>({mean, mean})});
  Value denominator = node.make<AddOp>({node.make<SqrtOp>({variance}), node.constScalar(f, 1e-9)});
  Value y = node.make<DivOp>({node.make<SubOp>({*x, mean}), denominator});
  return y ? node.setOutput(0, y) : failure();
}

/// CenterCropPad: one pad whose negative entries crop, centered as ONNX's reference centers.
static LogicalResult convertCenterCropPad(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  std::optional<SmallVector<int64_t>> shape = getConstantIntValues(node.input(1));
  if (!shape)
    return node.fail("CenterCropPad needs a constant shape");
  SmallVector<int64_t> axes = node.attrInts("axes");
  if (!node.attr("axes"))
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (axes.size() != shape->size())
    return node.fail("CenterCropPad shape has " + Twine(shape->size()) + " entries for " +
                     Twine(axes.size()) + " axes");
  SmallVector<int64_t> pads(2 * rank, 0);
  for (auto [axis, target] : llvm::zip(axes, *shape)) {
    if (axis < -rank || axis >= rank)
      return node.fail("CenterCropPad axis " + Twine(axis) + " is out of range");
    int64_t a = axis < 0 ? axis + rank : axis, in = type.getDimSize(a);
    if (ShapedType::isDynamic(in))
      return node.fail("CenterCropPad needs static dims along its axes");
    int64_t diff = target - in;
    int64_t begin = diff >= 0 ? diff / 2 : -((-diff) / 2);
    pads[a] = begin;
    pads[a + rank] = diff - begin;
  }
  NamedAttribute mode = node.named("mode", PadModeAttr::get(node.ctx(), PadMode::constant));
  return setResult(node, node.create<PadOp>({*x, node.constI64(pads)}, {mode}));
}

/// Col2Im: the sum of sliding blocks into an image. Each of the K block offsets times L block
/// positions of a channel lands on one pixel of the padded image, known at compile time; the
/// input rows are added there (ScatterElements with add), and the pads cut off.
static LogicalResult convertCol2Im(NodeContext &node) {
  FailureOr<Value> input = node.requiredInput(0);
  if (failed(input))
    return failure();
  std::optional<SmallVector<int64_t>> image = getConstantIntValues(node.input(1));
  std::optional<SmallVector<int64_t>> block = getConstantIntValues(node.input(2));
  if (!image || !block || image->size() != block->size() || image->empty())
    return node.fail("image_shape and block_shape must be constants of one length");
  int64_t spatial = image->size();
  SmallVector<int64_t> strides = node.attrInts("strides"), dilations = node.attrInts("dilations");
  SmallVector<int64_t> pads = node.attrInts("pads");
  strides.resize(spatial, 1);
  dilations.resize(spatial, 1);
  pads.resize(2 * spatial, 0);
  RankedTensorType type = typeOf(*input);
  if (type.getRank() != 3 || type.isDynamicDim(1) || type.isDynamicDim(2))
    return node.fail("Col2Im takes a [N, C * prod(block_shape), L] input with static C and L");
  int64_t blockSize = 1, blocks = 1;
  SmallVector<int64_t> padded, positions;
  constexpr int64_t kMax = int64_t(1) << 24;
  auto inRange = [&](int64_t v, int64_t low) { return v >= low && v <= kMax; };
  for (int64_t i = 0; i < spatial; ++i) {
    if (!inRange((*image)[i], 1) || !inRange((*block)[i], 1) || !inRange(strides[i], 1) ||
        !inRange(dilations[i], 1) || !inRange(pads[i], 0) || !inRange(pads[spatial + i], 0))
      return node.fail("image_shape, block_shape, strides and dilations must be in [1, 2^24], "
                       "pads in [0, 2^24]");
    int64_t extent = (*image)[i] + pads[i] + pads[spatial + i];
    int64_t span = dilations[i] * ((*block)[i] - 1) + 1;
    if (extent < span)
      return node.fail("the blocks do not fit the padded image along dim " + Twine(i));
    padded.push_back(extent);
    positions.push_back((extent - span) / strides[i] + 1);
    if (llvm::MulOverflow(blockSize, (*block)[i], blockSize) ||
        llvm::MulOverflow(blocks, positions.back(), blocks) || blockSize > kMax || blocks > kMax)
      return node.fail("Col2Im's blocks have more than 2^24 elements");
  }
  if (type.getDimSize(1) % blockSize || type.getDimSize(2) != blocks)
    return node.fail("the input has " + Twine(type.getDimSize(1)) + " rows and " +
                     Twine(type.getDimSize(2)) + " blocks; the block and image shapes give " +
                     Twine(blockSize) + " rows per channel and " + Twine(blocks) + " blocks");
  // The pixel of every (offset, position) pair is a constant of the model.
  if (blockSize * blocks > kMax)
    return node.fail("Col2Im over " + Twine(blockSize * blocks) + " block elements per "
                     "channel: at most 2^24 are supported");
  int64_t channels = type.getDimSize(1) / blockSize, pixels = 1;
  for (int64_t e : padded)
    if (llvm::MulOverflow(pixels, e, pixels) || pixels > kMaxImportedElements)
      return node.fail("the padded image has more than 2^40 pixels");
  // The padded pixel of block offset k at block position l, row-major over (k, l).
  SmallVector<int64_t> target;
  for (int64_t k = 0; k < blockSize; ++k)
    for (int64_t l = 0; l < blocks; ++l) {
      int64_t restK = k, restL = l, flat = 0, stride = 1;
      for (int64_t i = spatial - 1; i >= 0; --i) {
        int64_t offset = restK % (*block)[i], position = restL % positions[i];
        restK /= (*block)[i];
        restL /= positions[i];
        flat += (position * strides[i] + offset * dilations[i]) * stride;
        stride *= padded[i];
      }
      target.push_back(flat);
    }
  OpBuilder &b = node.builder();
  Value rows = node.reshapeTo(*input, {node.shapeOf(*input, 0, 1),
                                       node.constI64({channels, blockSize * blocks})});
  Value indices = ConstantOp::create(
      b, node.loc(),
      DenseIntElementsAttr::get(RankedTensorType::get({1, 1, blockSize * blocks}, b.getI64Type()),
                                target));
  indices = node.make<BroadcastOp>({indices, node.shapeOf(rows, 0, 3)});
  Value zeros = node.make<FillOp>(
      {node.make<ConcatOp>({node.shapeOf(*input, 0, 1), node.constI64({channels, pixels})},
                           {node.named("axis", b.getI64IntegerAttr(0))})},
      {node.named("value", b.getZeroAttr(type.getElementType()))});
  Value summed = node.make<ScatterElementsOp>(
      {zeros, indices, rows},
      {node.named("axis", b.getI64IntegerAttr(2)),
       node.named("reduction", ScatterReductionAttr::get(node.ctx(), ScatterReduction::add))});
  SmallVector<int64_t> paddedShape = {channels};
  paddedShape.append(padded);
  Value y = node.reshapeTo(summed, {node.shapeOf(*input, 0, 1), node.constI64(paddedShape)});
  SmallVector<int64_t> starts, ends, axes;
  for (int64_t i = 0; i < spatial; ++i) {
    starts.push_back(pads[i]);
    ends.push_back(pads[i] + (*image)[i]);
    axes.push_back(2 + i);
  }
  y = node.sliceOf(y, starts, ends, axes);
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerTensorConverters(ConverterMap &map) {
  map["Col2Im"] = convertCol2Im;
  for (StringRef name : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    map[name] = convertWindow;
  map["MeanVarianceNormalization"] = convertMeanVarianceNorm;
  map["CenterCropPad"] = convertCenterCropPad;
  map["Constant"] = convertConstant;
  map["Shape"] = convertShape;
  map["Size"] = convertSize;
  map["Reshape"] = convertReshape;
  map["Flatten"] = convertFlatten;
  map["Squeeze"] = convertSqueeze;
  map["Unsqueeze"] = convertUnsqueeze;
  map["Transpose"] = convertTranspose;
  map["Concat"] = convertConcat;
  map["Split"] = convertSplit;
  map["Slice"] = convertSlice;
  for (StringRef name : {"Gather", "GatherElements", "GatherND"})
    map[name] = convertGatherLike;
  for (StringRef name : {"Scatter", "ScatterElements", "ScatterND"})
    map[name] = convertScatter;
  map["Expand"] = convertExpand;
  map["Tile"] = convertTile;
  map["Pad"] = convertPad;
  map["ConstantOfShape"] = convertConstantOfShape;
  map["OneHot"] = convertOneHot;
  map["Trilu"] = convertTrilu;
  map["CumSum"] = convertCumSum;
  map["DepthToSpace"] = convertDepthSpace;
  map["SpaceToDepth"] = convertDepthSpace;
  map["EyeLike"] = convertEyeLike;
  map["Resize"] = convertResize;
  map["Upsample"] = convertResize;
}
