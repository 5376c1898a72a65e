//===- DataDependent.cpp - ops whose output size depends on the data ------===//
//
// NonZero, Compress, Unique and NonMaxSuppression produce outputs padded to an upper bound,
// with the real size as a separate value (see catfish.non_zero). The importer records which
// dims are bounded (GraphImporter::boundedDims), carries them through the ops that keep them,
// refuses the others at their node, and makes each bounded dim of a graph output a hidden
// result that the runtime reads to report the output's real shape.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// Constant inputs of at most this many elements make constant NonZero results.
static constexpr int64_t kMaxFoldedNonZeroElements = int64_t(1) << 20;

void mlir::catfish::onnx_import::markBounded(NodeContext &node, Value value, int64_t dim,
                                             Value size) {
  node.graph.boundedDims()[value] = {BoundedDim{dim, size, describeNode(node.node())}};
}

/// NonZero of `x`: the [rank, count] coordinates, and the count as a value (null when `x` is a
/// constant: the result is then a constant of its exact shape).
static FailureOr<std::pair<Value, Value>> nonZero(NodeContext &node, Value x) {
  DenseElementsAttr constant;
  RankedTensorType type = typeOf(x);
  if (matchPattern(x, m_Constant(&constant)) && type.hasStaticShape() &&
      type.getNumElements() <= kMaxFoldedNonZeroElements) {
    SmallVector<int64_t> shape(type.getShape());
    if (shape.empty())
      shape.push_back(1);
    SmallVector<bool> nonZeros;
    if (isa<FloatType>(type.getElementType()))
      for (const APFloat &v : constant.getValues<APFloat>())
        nonZeros.push_back(!v.isZero());
    else
      for (const APInt &v : constant.getValues<APInt>())
        nonZeros.push_back(!v.isZero());
    int64_t rank = shape.size(), count = llvm::count(nonZeros, true);
    SmallVector<int64_t> coords(rank * count);
    int64_t column = 0;
    for (auto [linear, isNonZero] : llvm::enumerate(nonZeros)) {
      if (!isNonZero)
        continue;
      int64_t rest = linear;
      for (int64_t d = rank - 1; d >= 0; --d) {
        coords[d * count + column] = rest % shape[d];
        rest /= shape[d];
      }
      ++column;
    }
    Value folded = node.reshapeTo(node.constI64(coords), {node.constI64({rank, count})});
    if (!folded)
      return failure();
    return std::make_pair(folded, Value());
  }
  FailureOr<SmallVector<Value>> results = node.create(NonZeroOp::getOperationName(), {x});
  if (failed(results))
    return failure();
  return std::make_pair((*results)[0], (*results)[1]);
}

static LogicalResult convertNonZero(NodeContext &node) {
  auto result = nonZero(node, node.input(0));
  if (failed(result))
    return failure();
  if (result->second)
    markBounded(node, result->first, 1, result->second);
  return node.setOutput(0, result->first);
}

static LogicalResult convertCompress(NodeContext &node) {
  Value x = node.input(0);
  FailureOr<Value> condition = node.requiredInput(1);
  if (failed(condition))
    return failure();
  RankedTensorType type = typeOf(x), conditionType = typeOf(*condition);
  if (conditionType.getRank() != 1 || conditionType.isDynamicDim(0))
    return node.fail("condition must be 1-D with a static length, got " +
                     llvm::formatv("{0}", conditionType).str());
  const onnx::AttributeProto *axisAttr = node.attr("axis");
  int64_t axis = 0;
  Value data = x;
  if (axisAttr) {
    axis = axisAttr->i() < 0 ? axisAttr->i() + type.getRank() : axisAttr->i();
    if (axis < 0 || axis >= type.getRank())
      return node.fail("axis " + Twine(axisAttr->i()) + " is out of range for a " +
                       Twine(type.getRank()) + "-D input");
  } else {
    if (!type.hasStaticShape())
      return node.fail("Compress without an axis needs a static input shape");
    data = node.reshapeTo(x, {node.constI64({type.getNumElements()})});
  }
  if (!data)
    return failure();
  int64_t extent = typeOf(data).getDimSize(axis);
  if (ShapedType::isDynamic(extent))
    return node.fail("Compress needs a static size along its axis");
  // Entries of the condition past the data select nothing (onnxruntime reads only as many).
  Value selector = *condition;
  if (conditionType.getDimSize(0) > extent)
    selector = node.sliceOf(selector, {0}, {extent}, {0});
  if (!selector)
    return failure();
  auto picked = nonZero(node, selector);
  if (failed(picked))
    return failure();
  Value indices = node.takeAt(picked->first, 0, 0);
  if (!indices)
    return failure();
  FailureOr<Value> result = node.create<GatherOp>(
      {data, indices}, {node.named("axis", node.builder().getI64IntegerAttr(axis))});
  if (failed(result))
    return failure();
  if (picked->second)
    markBounded(node, *result, axis, picked->second);
  return node.setOutput(0, *result);
}

static LogicalResult convertUnique(NodeContext &node) {
  Value x = node.input(0);
  SmallVector<NamedAttribute> attrs = {
      node.named("sorted", node.builder().getBoolAttr(node.attrInt("sorted", 1) != 0))};
  int64_t axis = 0;
  if (const onnx::AttributeProto *axisAttr = node.attr("axis")) {
    int64_t rank = typeOf(x).getRank();
    axis = axisAttr->i() < 0 ? axisAttr->i() + rank : axisAttr->i();
    if (axis < 0 || axis >= rank)
      return node.fail("axis " + Twine(axisAttr->i()) + " is out of range for a " + Twine(rank) +
                       "-D input");
    attrs.push_back(node.named("axis", node.builder().getI64IntegerAttr(axis)));
  }
  FailureOr<SmallVector<Value>> results = node.create(UniqueOp::getOperationName(), {x}, attrs);
  if (failed(results))
    return failure();
  Value count = (*results)[4];
  markBounded(node, (*results)[0], axis, count);
  markBounded(node, (*results)[1], 0, count);
  markBounded(node, (*results)[3], 0, count);
  for (size_t i = 0; i < 4; ++i)
    if (failed(node.setOutput(i, (*results)[i])))
      return failure();
  return success();
}

static LogicalResult convertNonMaxSuppression(NodeContext &node) {
  FailureOr<Value> scores = node.requiredInput(1);
  if (failed(scores))
    return failure();
  int64_t centerPointBox = node.attrInt("center_point_box", 0);
  if (centerPointBox != 0 && centerPointBox != 1)
    return node.fail("center_point_box must be 0 or 1, got " + Twine(centerPointBox));
  RankedTensorType scoresType = typeOf(*scores);
  if (scoresType.getRank() != 3 || scoresType.isDynamicDim(2))
    return node.fail("scores must be [batches, classes, boxes] with a static box count");
  Type f32 = node.builder().getF32Type();
  // The optional scalars, as rank 0 (exporters also write them as one-element 1-D tensors).
  auto scalar = [&](size_t i, Value absent) -> Value {
    Value v = node.input(i);
    if (!v)
      return absent;
    if (typeOf(v).getRank() == 0)
      return v;
    if (!typeOf(v).hasStaticShape() || typeOf(v).getNumElements() != 1) {
      (void)node.fail("input " + Twine(i) + " must hold one value, got " +
                      llvm::formatv("{0}", typeOf(v)).str());
      return {};
    }
    return node.reshapeTo(v, {node.constI64({})});
  };
  Value maxOutput = scalar(2, node.constI64({0}, /*scalar=*/true));
  Value iouThreshold = scalar(3, node.constScalar(f32, 0));
  Value scoreThreshold = scalar(4, node.constScalar(f32, 0));
  if (!maxOutput || !iouThreshold || !scoreThreshold)
    return failure();
  if (std::optional<double> iou = getConstantFloatSplat(iouThreshold);
      iou && !(*iou >= 0 && *iou <= 1))
    return node.fail("iou_threshold must be in [0, 1], got " + llvm::formatv("{0}", *iou).str());
  int64_t perClass = scoresType.getDimSize(2);
  if (std::optional<SmallVector<int64_t>> limit = getConstantIntValues(maxOutput))
    perClass = std::clamp<int64_t>(limit->front(), 0, perClass);
  OpBuilder &b = node.builder();
  FailureOr<SmallVector<Value>> results = node.create(
      NonMaxSuppressionOp::getOperationName(),
      {node.input(0), *scores, maxOutput, iouThreshold, scoreThreshold},
      {node.named("center_point_box", b.getBoolAttr(centerPointBox == 1)),
       node.named("has_score_threshold", b.getBoolAttr(static_cast<bool>(node.input(4)))),
       node.named("bound_per_class", b.getI64IntegerAttr(perClass))});
  if (failed(results))
    return failure();
  markBounded(node, (*results)[0], 0, (*results)[1]);
  return node.setOutput(0, (*results)[0]);
}

namespace {
/// The closed interval [lo, hi] holding every element of a value.
struct Interval {
  double lo, hi;
};
} // namespace

/// Nesting of ops through which valueBounds looks.
static constexpr int kMaxBoundsDepth = 64;

/// An interval holding every element of `v` as far as the ops computing it tell (constants,
/// booleans, counts and indices, sums and partial sums of bounded values, arithmetic, and the
/// ops that move elements), or nothing where it stems from the model's inputs.
static std::optional<Interval> valueBounds(Value v, int depth = 0) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || depth > kMaxBoundsDepth)
    return std::nullopt;
  if (type.getElementType().isInteger(1))
    return Interval{0, 1};
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  auto of = [&](Value operand) { return valueBounds(operand, depth + 1); };
  auto unite = [&](ValueRange operands) -> std::optional<Interval> {
    std::optional<Interval> all;
    for (Value operand : operands) {
      std::optional<Interval> one = of(operand);
      if (!one)
        return std::nullopt;
      all = all ? Interval{std::min(all->lo, one->lo), std::max(all->hi, one->hi)} : *one;
    }
    return all;
  };
  if (auto constant = dyn_cast<ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense || dense.getNumElements() == 0 || dense.getNumElements() > (int64_t(1) << 16))
      return std::nullopt;
    Interval r{INFINITY, -INFINITY};
    auto widen = [&](double x) { r = {std::min(r.lo, x), std::max(r.hi, x)}; };
    if (isa<FloatType>(dense.getElementType()))
      for (const APFloat &x : dense.getValues<APFloat>())
        widen(x.convertToDouble());
    else if (dense.getElementType().isUnsignedInteger())
      for (const APInt &x : dense.getValues<APInt>())
        widen(static_cast<double>(x.getZExtValue()));
    else
      for (const APInt &x : dense.getValues<APInt>())
        widen(static_cast<double>(x.getSExtValue()));
    if (!std::isfinite(r.lo) || !std::isfinite(r.hi))
      return std::nullopt;
    return r;
  }
  if (isa<CastOp, GatherOp, GatherElementsOp, GatherNdOp, SliceOp, ReshapeOp, TransposeOp,
          BroadcastOp, TileOp, ReverseOp, SplitOp>(op))
    return of(op->getOperand(0));
  if (auto topK = dyn_cast<TopKOp>(op))
    return v == topK->getResult(0) ? of(op->getOperand(0)) : std::nullopt;
  if (isa<ConcatOp>(op))
    return unite(op->getOperands());
  if (isa<SelectOp>(op))
    return unite(op->getOperands().drop_front());
  if (isa<ArgMaxOp, ArgMinOp>(op)) {
    auto input = cast<RankedTensorType>(op->getOperand(0).getType());
    int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
    axis = axis < 0 ? axis + input.getRank() : axis;
    if (axis < 0 || axis >= input.getRank() || input.isDynamicDim(axis))
      return std::nullopt;
    return Interval{0, static_cast<double>(input.getDimSize(axis) - 1)};
  }
  if (auto nonZero = dyn_cast<NonZeroOp>(op)) {
    auto input = cast<RankedTensorType>(op->getOperand(0).getType());
    if (!input.hasStaticShape() || v != nonZero.getCount())
      return std::nullopt;
    return Interval{0, static_cast<double>(input.getNumElements())};
  }
  if (isa<OneHotOp>(op))
    return of(op->getOperand(2));
  if (isa<NegOp>(op))
    if (auto x = of(op->getOperand(0)))
      return Interval{-x->hi, -x->lo};
  if (isa<ReluOp>(op))
    if (auto x = of(op->getOperand(0)))
      return Interval{std::max(0.0, x->lo), std::max(0.0, x->hi)};
  if (isa<AbsOp>(op))
    if (auto x = of(op->getOperand(0)))
      return Interval{x->lo <= 0 && x->hi >= 0 ? 0 : std::min(std::abs(x->lo), std::abs(x->hi)),
                      std::max(std::abs(x->lo), std::abs(x->hi))};
  if (isa<AddOp, SubOp, MulOp, MinOp, MaxOp>(op) && op->getNumOperands() == 2) {
    std::optional<Interval> a = of(op->getOperand(0)), b = of(op->getOperand(1));
    if (!a || !b)
      return std::nullopt;
    if (isa<AddOp>(op))
      return Interval{a->lo + b->lo, a->hi + b->hi};
    if (isa<SubOp>(op))
      return Interval{a->lo - b->hi, a->hi - b->lo};
    if (isa<MinOp>(op))
      return Interval{std::min(a->lo, b->lo), std::min(a->hi, b->hi)};
    if (isa<MaxOp>(op))
      return Interval{std::max(a->lo, b->lo), std::max(a->hi, b->hi)};
    double products[] = {a->lo * b->lo, a->lo * b->hi, a->hi * b->lo, a->hi * b->hi};
    return Interval{*std::min_element(products, products + 4),
                    *std::max_element(products, products + 4)};
  }
  auto input = dyn_cast_if_present<RankedTensorType>(
      op->getNumOperands() ? op->getOperand(0).getType() : Type());
  if (auto reduce = dyn_cast<ReduceOp>(op)) {
    std::optional<Interval> x = of(reduce.getInput());
    if (!x || !input || !input.hasStaticShape() || !type.hasStaticShape())
      return std::nullopt;
    if (reduce.getKind() == ReduceKind::max || reduce.getKind() == ReduceKind::min ||
        reduce.getKind() == ReduceKind::mean)
      return x;
    if (reduce.getKind() != ReduceKind::sum || type.getNumElements() == 0)
      return std::nullopt;
    double n = static_cast<double>(input.getNumElements() / type.getNumElements());
    return Interval{std::min(x->lo, n * x->lo), std::max(x->hi, n * x->hi)};
  }
  if (auto cumSum = dyn_cast<CumSumOp>(op)) {
    std::optional<Interval> x = of(op->getOperand(0));
    if (!x || !input)
      return std::nullopt;
    int64_t axis = cumSum.getAxis();
    axis = axis < 0 ? axis + input.getRank() : axis;
    if (axis < 0 || axis >= input.getRank() || input.isDynamicDim(axis))
      return std::nullopt;
    double n = static_cast<double>(input.getDimSize(axis));
    return Interval{std::min({0.0, x->lo, n * x->lo}), std::max({0.0, x->hi, n * x->hi})};
  }
  return std::nullopt;
}

/// The longest a range may be: no bound past this is planned.
static constexpr double kMaxRangeBound = double(int64_t(1) << 24);

/// Range. Constant start, limit and delta give a static length (the op folds where small);
/// where start or limit are known only at run time, the output is planned at the longest
/// length their bounds allow (valueBounds; delta must be a constant) and gets a bounded dim.
static LogicalResult convertRange(NodeContext &node) {
  Value start = node.input(0), limit = node.input(1), delta = node.input(2);
  if (!start || !limit || !delta)
    return node.fail("Range needs start, limit and delta");
  if (matchPattern(start, m_Constant()) && matchPattern(limit, m_Constant()) &&
      matchPattern(delta, m_Constant()))
    return setResult(node, node.create<RangeOp>({start, limit, delta}));
  std::optional<Interval> step = valueBounds(delta);
  if (!matchPattern(delta, m_Constant()) || !step || step->lo != step->hi || step->lo == 0)
    return node.fail("Range with a delta known only at run time (or zero) is not supported: "
                     "its length cannot be bounded");
  std::optional<Interval> from = valueBounds(start), to = valueBounds(limit);
  if (!from || !to)
    return node.fail(Twine("Range whose ") + (from ? "limit" : "start") +
                     " is known only at run time needs a bound on its length, and none follows "
                     "from how it is computed (it depends on the model's inputs; fix them with "
                     "--freeze-input)");
  double d = step->lo;
  double span = d > 0 ? to->hi - from->lo : from->hi - to->lo;
  double bound = std::max(0.0, std::ceil(span / std::abs(d)));
  if (!(bound <= kMaxRangeBound))
    return node.fail("Range of up to " + llvm::formatv("{0}", bound).str() +
                     " elements is too long to plan for (at most " +
                     Twine(static_cast<int64_t>(kMaxRangeBound)) + ")");
  OpBuilder &b = node.builder();
  auto count = static_cast<int64_t>(bound);
  FailureOr<Value> range =
      node.create<RangeOp>({start, limit, delta}, {node.named("bound", b.getI64IntegerAttr(count))});
  if (failed(range))
    return failure();
  // The run-time length, max(0, ceil((limit - start) / delta)) at most the bound, as the
  // kernel computes it.
  Type f64 = b.getF64Type();
  Value steps = node.make<CeilOp>({node.make<DivOp>(
      {node.make<SubOp>({node.castElements(limit, f64), node.castElements(start, f64)}),
       node.castElements(delta, f64)})});
  Value length = node.castElements(
      node.make<MinOp>({node.make<MaxOp>({steps, node.constScalar(f64, 0)}),
                        node.constScalar(f64, bound)}),
      b.getI64Type());
  Value size = node.reshapeTo(length, {node.constI64({})});
  if (!size)
    return failure();
  markBounded(node, *range, 0, size);
  return node.setOutput(0, *range);
}

void mlir::catfish::onnx_import::registerDataDependentConverters(ConverterMap &map) {
  map["Range"] = convertRange;
  map["NonZero"] = convertNonZero;
  map["Compress"] = convertCompress;
  map["Unique"] = convertUnique;
  map["NonMaxSuppression"] = convertNonMaxSuppression;
}

//===----------------------------------------------------------------------===//
// Carrying bounded dims through the ops that keep them
//===----------------------------------------------------------------------===//

/// ONNX ops computed element by element with numpy broadcasting.
static bool isElementwiseOnnxOp(StringRef op) {
  static const llvm::StringSet<> ops{"Abs",
                                     "Acos",
                                     "Acosh",
                                     "Add",
                                     "And",
                                     "Asin",
                                     "Asinh",
                                     "Atan",
                                     "Atanh",
                                     "BitShift",
                                     "BitwiseAnd",
                                     "BitwiseNot",
                                     "BitwiseOr",
                                     "BitwiseXor",
                                     "Cast",
                                     "Ceil",
                                     "Celu",
                                     "Clip",
                                     "Cos",
                                     "Cosh",
                                     "Div",
                                     "Elu",
                                     "Equal",
                                     "Erf",
                                     "Exp",
                                     "Floor",
                                     "Gelu",
                                     "Greater",
                                     "GreaterOrEqual",
                                     "HardSigmoid",
                                     "HardSwish",
                                     "Identity",
                                     "IsInf",
                                     "IsNaN",
                                     "LeakyRelu",
                                     "Less",
                                     "LessOrEqual",
                                     "Log",
                                     "Max",
                                     "Mean",
                                     "Min",
                                     "Mish",
                                     "Mod",
                                     "Mul",
                                     "Neg",
                                     "Not",
                                     "Or",
                                     "Pow",
                                     "PRelu",
                                     "Reciprocal",
                                     "Relu",
                                     "Round",
                                     "Selu",
                                     "Shrink",
                                     "Sigmoid",
                                     "Sign",
                                     "Sin",
                                     "Sinh",
                                     "Softplus",
                                     "Softsign",
                                     "Sqrt",
                                     "Sub",
                                     "Sum",
                                     "Tan",
                                     "Tanh",
                                     "ThresholdedRelu",
                                     "Where",
                                     "Xor"};
  return ops.contains(op);
}

LogicalResult mlir::catfish::onnx_import::propagateBoundedDims(NodeContext &node) {
  auto &bounded = node.graph.boundedDims();
  auto &shapes = node.graph.boundedShapes();
  // Every input's bounded dims, and for shape values the entries that are run-time sizes; the
  // first input with either, for messages.
  std::optional<size_t> first;
  SmallVector<ArrayRef<BoundedDim>> inputDims(node.numInputs()), shapeEntries(node.numInputs());
  for (size_t i = 0; i < node.numInputs(); ++i) {
    if (!node.input(i))
      continue;
    if (auto it = bounded.find(node.input(i)); it != bounded.end())
      inputDims[i] = it->second;
    if (auto it = shapes.find(node.input(i)); it != shapes.end())
      shapeEntries[i] = it->second;
    if (!first && (!inputDims[i].empty() || !shapeEntries[i].empty()))
      first = i;
  }
  if (!first)
    return success();
  bool isShape = inputDims[*first].empty();
  const BoundedDim &example = isShape ? shapeEntries[*first].front() : inputDims[*first].front();
  auto refuse = [&](const Twine &why) {
    return node.fail("input " + Twine(*first) + " ('" + node.node().input(*first) + "') " +
                     (isShape ? "is a shape whose entry " : "has a dim (") + Twine(example.dim) +
                     (isShape ? " is" : ") whose size is") + " known only at run time (made by " +
                     example.origin + "): " + why);
  };
  StringRef op = node.node().op_type();
  bool shapeOnlyToExpand = llvm::all_of(llvm::enumerate(shapeEntries), [&](auto entry) {
    return entry.value().empty() || (op == "Expand" && entry.index() == 1);
  });
  if (!shapeOnlyToExpand)
    return refuse(op + " cannot take such a shape yet (Expand can)");
  bool keeps = isElementwiseOnnxOp(op) || op == "CastLike" ||
               llvm::is_contained({"Transpose", "Squeeze", "Unsqueeze", "Gather", "GatherElements",
                                   "GatherND", "Shape", "Expand"},
                                  op);
  if (!keeps)
    return refuse(op + " cannot take such a value yet (it can be a graph output or go through "
                       "elementwise ops, Cast, Transpose, Squeeze, Unsqueeze, the gathers, and "
                       "Shape into Expand)");
  if (node.numOutputs() != 1)
    return refuse(op + " with " + Twine(node.numOutputs()) +
                  " outputs cannot take such a value yet");
  if (!node.hasOutput(0))
    return success();
  Value output = node.graph.lookup(node.node().output(0));
  int64_t outRank = typeOf(output).getRank();
  SmallVector<BoundedDim> result;
  auto add = [&](const BoundedDim &dim, int64_t at) {
    for (const BoundedDim &seen : result)
      if (seen.dim == at)
        return;
    result.push_back({at, dim.size, dim.origin});
  };

  if (op == "Shape") {
    // Its entries [start, end) of the input's dims: those of bounded dims are run-time sizes.
    int64_t rank = typeOf(node.input(0)).getRank();
    auto clampDim = [&](int64_t d) { return std::clamp<int64_t>(d < 0 ? d + rank : d, 0, rank); };
    int64_t start = clampDim(node.attrInt("start", 0));
    int64_t end = node.attr("end") ? clampDim(node.attrInt("end", rank)) : rank;
    SmallVector<BoundedDim> entries;
    for (const BoundedDim &dim : inputDims[0])
      if (dim.dim >= start && dim.dim < end)
        entries.push_back({dim.dim - start, dim.size, dim.origin});
    if (!entries.empty())
      shapes[output] = std::move(entries);
    return success();
  }
  if (op == "Expand") {
    // Output dim j comes from the data's dim (aligned right) and the shape's entry (aligned
    // right); a run-time size on either side needs the other to be 1 or the same size.
    Value shape = node.input(1);
    int64_t dataRank = typeOf(node.input(0)).getRank();
    int64_t shapeLength = typeOf(shape).getDimSize(0);
    std::optional<SmallVector<int64_t>> shapeValues = getConstantIntValues(shape);
    for (int64_t j = 0; j < outRank; ++j) {
      int64_t d = j - (outRank - dataRank), e = j - (outRank - shapeLength);
      const BoundedDim *fromData = nullptr, *fromShape = nullptr;
      for (const BoundedDim &dim : inputDims[0])
        if (dim.dim == d)
          fromData = &dim;
      for (const BoundedDim &entry : shapeEntries[1])
        if (entry.dim == e)
          fromShape = &entry;
      if (fromData && fromShape && fromData->size != fromShape->size)
        return refuse("Expand would need two sizes known only at run time to agree");
      bool shapeOne = e >= 0 && !fromShape && shapeValues && (*shapeValues)[e] == 1;
      if (fromData && !fromShape && e >= 0 && !shapeOne)
        return refuse("Expand's shape entry " + Twine(e) + " would have to match it");
      bool dataOne = d < 0 || typeOf(node.input(0)).getDimSize(d) == 1;
      if (fromShape && !fromData && !dataOne)
        return refuse("the data's dim " + Twine(d) + " would have to match it");
      if (const BoundedDim *dim = fromData ? fromData : fromShape)
        add(*dim, j);
    }
  } else if (op == "CastLike") {
    // Its second input only gives the element type.
    for (const BoundedDim &dim : inputDims[0])
      add(dim, dim.dim);
  } else if (isElementwiseOnnxOp(op)) {
    for (size_t i = 0; i < node.numInputs(); ++i) {
      for (const BoundedDim &dim : inputDims[i]) {
        int64_t at = outRank - typeOf(node.input(i)).getRank() + dim.dim;
        // Every other input must broadcast along that dim or have the same run-time size.
        for (size_t j = 0; j < node.numInputs(); ++j) {
          if (j == i || !node.input(j))
            continue;
          int64_t other = typeOf(node.input(j)).getRank() - outRank + at;
          if (other < 0)
            continue;
          bool sameSize = llvm::any_of(inputDims[j], [&](const BoundedDim &d) {
            return d.dim == other && d.size == dim.size;
          });
          if (!sameSize && typeOf(node.input(j)).getDimSize(other) != 1)
            return refuse("input " + Twine(j) + "'s dim " + Twine(other) +
                          " would have to match it, which cannot be checked at compile time");
        }
        add(dim, at);
      }
    }
  } else if (op == "Transpose") {
    SmallVector<int64_t> perm = node.attrInts("perm");
    if (perm.empty())
      for (int64_t d = outRank - 1; d >= 0; --d)
        perm.push_back(d);
    for (const BoundedDim &dim : inputDims[0])
      add(dim, llvm::find(perm, dim.dim) - perm.begin());
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    RankedTensorType inType = typeOf(node.input(0));
    auto axes = axesOf(node, 1);
    if (failed(axes))
      return failure();
    int64_t inRank = inType.getRank();
    bool squeeze = op == "Squeeze";
    // Which dims of the larger side are the ones dropped or inserted.
    int64_t wideRank = squeeze ? inRank : outRank;
    SmallVector<bool> changed(wideRank, false);
    if (*axes) {
      for (int64_t a : **axes)
        changed[a < 0 ? a + wideRank : a] = true;
    } else {
      for (int64_t d = 0; d < inRank; ++d)
        changed[d] = inType.getDimSize(d) == 1;
    }
    for (const BoundedDim &dim : inputDims[0]) {
      if (squeeze && changed[dim.dim])
        return refuse("Squeeze cannot drop it");
      int64_t at = 0, seen = 0;
      for (int64_t d = 0; d < wideRank; ++d) {
        if (changed[d])
          continue;
        if (squeeze ? d == dim.dim : seen == dim.dim) {
          at = squeeze ? seen : d;
          break;
        }
        ++seen;
      }
      add(dim, at);
    }
  } else if (op == "Gather") {
    int64_t dataRank = typeOf(node.input(0)).getRank();
    int64_t axis = node.attrInt("axis", 0);
    axis = axis < 0 ? axis + dataRank : axis;
    int64_t indexRank = typeOf(node.input(1)).getRank();
    for (const BoundedDim &dim : inputDims[0]) {
      if (dim.dim == axis)
        return refuse("Gather cannot index along it");
      add(dim, dim.dim < axis ? dim.dim : dim.dim + indexRank - 1);
    }
    for (const BoundedDim &dim : inputDims[1])
      add(dim, axis + dim.dim);
  } else if (op == "GatherElements") {
    // The output has the indices' shape.
    if (!inputDims[0].empty())
      return refuse("GatherElements cannot gather from it");
    for (const BoundedDim &dim : inputDims[1])
      add(dim, dim.dim);
  } else if (op == "GatherND") {
    if (!inputDims[0].empty())
      return refuse("GatherND cannot gather from it");
    for (const BoundedDim &dim : inputDims[1]) {
      if (dim.dim == typeOf(node.input(1)).getRank() - 1)
        return refuse("it cannot be GatherND's index dim");
      add(dim, dim.dim);
    }
  }
  bounded[output] = std::move(result);
  return success();
}
