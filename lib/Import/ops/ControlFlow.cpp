//===- ControlFlow.cpp - ONNX If, Loop and Scan ---------------------------===//
//
// An If with a constant condition imports its taken branch in place; one with a run-time
// condition whose branches give results of the same static types imports both in place and
// selects each result. A Loop whose trip count
// is a constant (and whose condition, where the body computes one, folds to a constant each
// iteration) and a Scan over a static sequence are unrolled at import: the body is imported
// once per iteration, so shapes and constants flow through it and fold. Other Loops import as
// catfish.loop, which the execution plan runs (its scan outputs need a constant trip count,
// their bound; the iterations run are their size); other Ifs as catfish.if, which no target
// executes yet.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"


using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static onnx::GraphProto *graphAttr(NodeContext &node, StringRef name) {
  const onnx::AttributeProto *a = node.attr(name);
  return a && a->has_g() ? const_cast<onnx::GraphProto *>(&a->g()) : nullptr;
}

/// Undoes what the importer added to the current block after this point, for an attempt that
/// did not work out (ops with outside uses stay).
class ImportMark {
public:
  explicit ImportMark(NodeContext &node) : node(node) {
    OpBuilder &b = node.builder();
    block = b.getInsertionBlock();
    atStart = b.getInsertionPoint() == block->begin();
    if (!atStart)
      before = std::prev(b.getInsertionPoint());
  }

  void rollback() {
    Block::iterator first = atStart ? block->begin() : std::next(before);
    SmallVector<Operation *> imported;
    for (Operation &op : llvm::make_range(first, node.builder().getInsertionPoint()))
      imported.push_back(&op);
    for (Operation *op : llvm::reverse(imported)) {
      if (!op->use_empty())
        continue;
      // A later op could reuse the address of an erased result.
      for (Value result : op->getResults()) {
        node.graph.boundedDims().erase(result);
        node.graph.boundedShapes().erase(result);
      }
      op->erase();
    }
  }

private:
  NodeContext &node;
  Block *block;
  bool atStart;
  Block::iterator before;
};

/// Imports `graph` into the single block of `region` and terminates it with a yield.
static FailureOr<SmallVector<Value>> importRegion(NodeContext &node, Region &region,
                                                  onnx::GraphProto &graph,
                                                  TypeRange argumentTypes) {
  OpBuilder &b = node.builder();
  OpBuilder::InsertionGuard guard(b);
  Block *block = b.createBlock(&region, {}, argumentTypes,
                               SmallVector<Location>(argumentTypes.size(), node.loc()));
  auto outputs = node.graph.importSubgraph(graph, block->getArguments());
  if (failed(outputs))
    return failure();
  YieldOp::create(b, node.loc(), *outputs);
  return outputs;
}

static LogicalResult convertIf(NodeContext &node) {
  onnx::GraphProto *thenGraph = graphAttr(node, "then_branch");
  onnx::GraphProto *elseGraph = graphAttr(node, "else_branch");
  if (!thenGraph || !elseGraph)
    return node.fail("If needs then_branch and else_branch graphs");
  FailureOr<Value> cond = node.requiredInput(0);
  if (failed(cond))
    return failure();
  // A constant condition (attributes lowered to constants in function bodies): the taken
  // branch is imported in place, the other never; the two may then disagree on types.
  if (std::optional<SmallVector<int64_t>> known = getConstantIntValues(*cond);
      known && known->size() == 1) {
    auto outputs = node.graph.importSubgraph((*known)[0] ? *thenGraph : *elseGraph, {});
    if (failed(outputs))
      return failure();
    for (auto [i, v] : llvm::enumerate(*outputs))
      if (failed(node.setOutput(i, v)))
        return failure();
    return success();
  }
  OpBuilder &b = node.builder();
  // A run-time condition over branches whose results have the same static types: both
  // branches are computed in place and each result selected (ONNX graphs have no side
  // effects, so computing the branch not taken changes nothing but the work done).
  if (typeOf(*cond).hasStaticShape() && typeOf(*cond).getNumElements() == 1) {
    ImportMark mark(node);
    auto thenOut = node.graph.importSubgraph(*thenGraph, {});
    auto elseOut = succeeded(thenOut) ? node.graph.importSubgraph(*elseGraph, {})
                                      : FailureOr<SmallVector<Value>>(failure());
    if (failed(thenOut) || failed(elseOut))
      return failure();
    bool sameTypes = thenOut->size() == elseOut->size();
    for (auto [t, e] : llvm::zip(*thenOut, *elseOut))
      sameTypes = sameTypes && t.getType() == e.getType() && typeOf(t).hasStaticShape();
    if (sameTypes) {
      Value scalar = node.make<ReshapeOp>({*cond, node.constI64({})});
      for (auto [i, pair] : llvm::enumerate(llvm::zip(*thenOut, *elseOut))) {
        auto [t, e] = pair;
        Value chosen = node.make<SelectOp>({scalar, t, e});
        if (!chosen || failed(node.setOutput(i, chosen)))
          return failure();
      }
      return success();
    }
    // The branches disagree: drop what was imported and keep them as regions.
    mark.rollback();
  }
  // Result types are the then-branch's; the verifier checks the else branch agrees.
  OperationState state(node.loc(), IfOp::getOperationName());
  state.addOperands(*cond);
  Region *thenRegion = state.addRegion();
  Region *elseRegion = state.addRegion();
  auto thenOut = importRegion(node, *thenRegion, *thenGraph, {});
  if (failed(thenOut))
    return failure();
  auto elseOut = importRegion(node, *elseRegion, *elseGraph, {});
  if (failed(elseOut))
    return failure();
  if (ValueRange(*thenOut).getTypes() != ValueRange(*elseOut).getTypes())
    return node.fail("then and else branches produce different types");
  state.addTypes(ValueRange(*thenOut).getTypes());
  Operation *op = b.create(state);
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    (void)node.setOutput(i, v);
  return success();
}

/// Iterations beyond which a Loop or Scan is not unrolled.
static constexpr int64_t kMaxUnrolledIterations = 4096;
/// The largest trip count that a Loop's scan outputs are planned for (their bound).
static constexpr int64_t kMaxScanIterations = int64_t(1) << 20;

/// `v` with a dim of size 1 inserted at `axis`.
static Value unsqueezeAt(NodeContext &node, Value v, int64_t axis) {
  int64_t rank = typeOf(v).getRank();
  return node.reshapeTo(v, {node.shapeOf(v, 0, axis), node.constI64({1}),
                            node.shapeOf(v, axis, rank)});
}

/// The per-iteration values `parts` stacked along a new dim `axis`.
static Value stack(NodeContext &node, ArrayRef<Value> parts, int64_t axis) {
  SmallVector<Value> pieces;
  for (Value v : parts)
    pieces.push_back(unsqueezeAt(node, v, axis));
  if (pieces.size() == 1)
    return pieces.front();
  return node.make<ConcatOp>(pieces, {node.named("axis", node.builder().getI64IntegerAttr(axis))});
}

/// Unrolls a Loop with a constant trip count into the enclosing graph; false when the body's
/// condition is computed at run time, so the loop cannot be unrolled (nothing is then set).
static FailureOr<bool> unrollLoop(NodeContext &node, onnx::GraphProto &body, int64_t trips,
                                  SmallVector<Value> carried) {
  OpBuilder &b = node.builder();
  size_t numCarried = carried.size();
  if (trips == 0 && static_cast<size_t>(body.output_size()) > numCarried + 1)
    return node.fail("a Loop of zero iterations with scan outputs is not supported");
  SmallVector<SmallVector<Value>> scans;
  Value condition = ConstantOp::create(
      b, node.loc(), DenseElementsAttr::get(RankedTensorType::get({}, b.getI1Type()), true));
  for (int64_t i = 0; i < trips; ++i) {
    SmallVector<Value> arguments = {node.constI64({i}, /*scalar=*/true), condition};
    llvm::append_range(arguments, carried);
    auto outputs = node.graph.importSubgraph(body, arguments);
    if (failed(outputs))
      return failure();
    if (outputs->size() < numCarried + 1)
      return node.fail("Loop body must produce the condition and every carried value");
    carried.assign(outputs->begin() + 1, outputs->begin() + 1 + numCarried);
    if (scans.empty())
      scans.resize(outputs->size() - 1 - numCarried);
    for (auto [k, v] : llvm::enumerate(ArrayRef<Value>(*outputs).drop_front(1 + numCarried)))
      scans[k].push_back(v);
    std::optional<SmallVector<int64_t>> go = getConstantIntValues((*outputs)[0]);
    if (!go || go->size() != 1)
      return false;
    if (!(*go)[0])
      break;
  }
  for (auto [i, v] : llvm::enumerate(carried))
    if (failed(node.setOutput(i, v)))
      return failure();
  for (auto [k, values] : llvm::enumerate(scans)) {
    if (!node.hasOutput(numCarried + k))
      continue;
    Value stacked = stack(node, values, 0);
    if (!stacked || failed(node.setOutput(numCarried + k, stacked)))
      return failure();
  }
  return true;
}

static LogicalResult convertLoop(NodeContext &node) {
  onnx::GraphProto *body = graphAttr(node, "body");
  if (!body)
    return node.fail("Loop needs a body graph");
  OpBuilder &b = node.builder();
  Value tripCount = node.input(0), cond = node.input(1);
  FailureOr<SmallVector<Value>> loopInputs = node.requiredInputs(2, node.numInputs());
  if (failed(loopInputs))
    return failure();
  SmallVector<Value> initial = std::move(*loopInputs);
  std::optional<SmallVector<int64_t>> trips =
      tripCount ? getConstantIntValues(tripCount) : std::nullopt;
  std::optional<SmallVector<int64_t>> enter = cond ? getConstantIntValues(cond) : std::nullopt;
  std::optional<int64_t> bound;
  if (trips && trips->size() == 1)
    bound = std::max<int64_t>((*trips)[0], 0);
  if (bound && *bound <= kMaxUnrolledIterations && (!cond || (enter && enter->size() == 1))) {
    ImportMark mark(node);
    FailureOr<bool> unrolled = unrollLoop(node, *body, cond && !(*enter)[0] ? 0 : *bound, initial);
    if (failed(unrolled) || *unrolled)
      return unrolled;
    mark.rollback();
  }
  size_t numCarried = initial.size();
  if (static_cast<size_t>(body->output_size()) < numCarried + 1)
    return node.fail("Loop body must produce the condition and every carried value");
  size_t numScans = body->output_size() - 1 - numCarried;
  // Scan outputs are planned at their bound, the trip count, and sized at run time by a hidden
  // carried count of the iterations run.
  if (numScans && !bound)
    return node.fail("the Loop has scan outputs and a trip count known only at run time, so "
                     "their size has no bound to plan them with (make the trip count a "
                     "constant, or fix the inputs it is computed from with --freeze-input)");
  if (numScans && *bound > kMaxScanIterations)
    return node.fail("the Loop has scan outputs and a trip count of " + Twine(*bound) +
                     ", too many iterations to plan them for (at most " +
                     Twine(kMaxScanIterations) + ")");
  if (numScans)
    initial.push_back(node.constI64({0}, /*scalar=*/true));
  SmallVector<Type> argTypes = {RankedTensorType::get({}, b.getI64Type()),
                                RankedTensorType::get({}, b.getI1Type())};
  llvm::append_range(argTypes, ValueRange(initial).getTypes());
  OperationState state(node.loc(), LoopOp::getOperationName());
  if (tripCount)
    state.addOperands(tripCount);
  if (cond)
    state.addOperands(cond);
  state.addOperands(initial);
  state.addAttribute("operandSegmentSizes",
                     b.getDenseI32ArrayAttr({tripCount ? 1 : 0, cond ? 1 : 0,
                                             static_cast<int32_t>(initial.size())}));
  Region *region = state.addRegion();
  SmallVector<Value> outputs;
  {
    OpBuilder::InsertionGuard guard(b);
    Block *block = b.createBlock(region, {}, argTypes,
                                 SmallVector<Location>(argTypes.size(), node.loc()));
    auto imported = node.graph.importSubgraph(
        *body, block->getArguments().take_front(2 + numCarried));
    if (failed(imported))
      return failure();
    outputs = std::move(*imported);
    if (numScans) {
      Value iterations = node.make<AddOp>({block->getArgument(0), node.constI64({1}, true)});
      if (!iterations)
        return failure();
      outputs.insert(outputs.begin() + 1 + numCarried, iterations);
    }
    YieldOp::create(b, node.loc(), outputs);
  }
  SmallVector<Type> resultTypes(ValueRange(initial).getTypes());
  for (Value scan : ArrayRef<Value>(outputs).drop_front(1 + initial.size())) {
    auto t = cast<RankedTensorType>(scan.getType());
    SmallVector<int64_t> dims = {*bound};
    llvm::append_range(dims, t.getShape());
    resultTypes.push_back(RankedTensorType::get(dims, t.getElementType()));
  }
  state.addTypes(resultTypes);
  auto op = cast<LoopOp>(b.create(state));
  // Only the op's own checks: it may sit in the body of a loop still being built.
  if (failed(op.verify()))
    return node.fail("the Loop body does not match its carried values");
  for (size_t i = 0; i < numCarried; ++i)
    (void)node.setOutput(i, op->getResult(i));
  for (size_t k = 0; k < numScans; ++k) {
    Value scan = op->getResult(numCarried + 1 + k);
    markBounded(node, scan, 0, op->getResult(numCarried));
    (void)node.setOutput(numCarried + k, scan);
  }
  return success();
}

/// Scan over static sequences, unrolled. Opset 8's form has a batch dim first on every input
/// and output, which the body does not see: it is unrolled per batch entry too.
static LogicalResult convertScan(NodeContext &node) {
  onnx::GraphProto *body = graphAttr(node, "body");
  FailureOr<int64_t> numScanInputs = node.requiredAttrInt("num_scan_inputs");
  if (!body || failed(numScanInputs))
    return body ? failure() : node.fail("Scan needs a body graph");
  bool batched = node.opset() < 9;
  size_t first = batched ? 1 : 0; // opset 8: sequence_lens comes first
  if (batched && node.input(0))
    return node.fail("Scan's sequence_lens (opset 8) is not supported");
  SmallVector<Value> inputs;
  for (size_t i = first; i < node.numInputs(); ++i) {
    FailureOr<Value> v = node.requiredInput(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  int64_t m = *numScanInputs;
  if (m < 1 || m > static_cast<int64_t>(inputs.size()))
    return node.fail("num_scan_inputs is " + Twine(m) + " but the node has " +
                     Twine(inputs.size()) + " inputs");
  size_t n = inputs.size() - m;
  if (body->output_size() < static_cast<int>(n))
    return node.fail("the Scan body must produce every state");
  auto listOr = [&](StringRef name, size_t count) {
    SmallVector<int64_t> v = node.attrInts(name);
    v.resize(std::max(v.size(), count), 0);
    return v;
  };
  SmallVector<int64_t> inAxes = listOr(batched ? "" : "scan_input_axes", m);
  SmallVector<int64_t> inDirections = listOr(batched ? "directions" : "scan_input_directions", m);
  size_t numScanOutputs = body->output_size() - n;
  SmallVector<int64_t> outAxes = listOr(batched ? "" : "scan_output_axes", numScanOutputs);
  SmallVector<int64_t> outDirections = listOr("scan_output_directions", numScanOutputs);

  // One scan over `states` and `scanned` (no batch dim): the final states, then each scan
  // output stacked.
  auto scanOnce = [&](SmallVector<Value> states,
                      ArrayRef<Value> scanned) -> FailureOr<SmallVector<Value>> {
    int64_t length = -1;
    SmallVector<int64_t> axes;
    for (auto [j, v] : llvm::enumerate(scanned)) {
      int64_t rank = typeOf(v).getRank();
      int64_t axis = inAxes[j] < 0 ? inAxes[j] + rank : inAxes[j];
      if (axis < 0 || axis >= rank)
        return node.fail("scan input axis " + Twine(inAxes[j]) + " is out of range");
      int64_t dim = typeOf(v).getDimSize(axis);
      if (ShapedType::isDynamic(dim))
        return node.fail("Scan needs a static sequence length: it is unrolled at compile time "
                         "(fix input dims with --shape)");
      if (length >= 0 && dim != length)
        return node.fail("scan inputs have different sequence lengths");
      length = dim;
      axes.push_back(axis);
    }
    if (length > kMaxUnrolledIterations)
      return node.fail("Scan over " + Twine(length) + " steps: at most " +
                       Twine(kMaxUnrolledIterations) + " are unrolled");
    SmallVector<SmallVector<Value>> outs(numScanOutputs);
    for (int64_t t = 0; t < length; ++t) {
      SmallVector<Value> arguments(states);
      for (auto [j, v] : llvm::enumerate(scanned))
        arguments.push_back(node.takeAt(v, axes[j], inDirections[j] ? length - 1 - t : t));
      auto results = node.graph.importSubgraph(*body, arguments);
      if (failed(results))
        return failure();
      states.assign(results->begin(), results->begin() + n);
      for (size_t k = 0; k < numScanOutputs; ++k)
        outs[k].push_back((*results)[n + k]);
    }
    SmallVector<Value> result(states);
    for (size_t k = 0; k < numScanOutputs; ++k) {
      if (outs[k].empty())
        return node.fail("a Scan of zero steps with scan outputs is not supported");
      if (outDirections[k])
        std::reverse(outs[k].begin(), outs[k].end());
      int64_t rank = typeOf(outs[k].front()).getRank() + 1;
      int64_t axis = outAxes[k] < 0 ? outAxes[k] + rank : outAxes[k];
      result.push_back(stack(node, outs[k], axis));
    }
    return result;
  };

  SmallVector<Value> results;
  if (!batched) {
    auto r = scanOnce(SmallVector<Value>(ArrayRef<Value>(inputs).take_front(n)),
                      ArrayRef<Value>(inputs).drop_front(n));
    if (failed(r))
      return failure();
    results = *r;
  } else {
    int64_t batch = typeOf(inputs.front()).getDimSize(0);
    if (ShapedType::isDynamic(batch) || batch < 1)
      return node.fail("Scan (opset 8) needs a static batch dim of at least 1 (fix input dims "
                       "with --shape)");
    SmallVector<SmallVector<Value>> perBatch;
    for (int64_t e = 0; e < batch; ++e) {
      SmallVector<Value> sliced;
      for (Value v : inputs)
        sliced.push_back(node.takeAt(v, 0, e));
      auto r = scanOnce(SmallVector<Value>(ArrayRef<Value>(sliced).take_front(n)),
                        ArrayRef<Value>(sliced).drop_front(n));
      if (failed(r))
        return failure();
      perBatch.push_back(*r);
    }
    for (size_t k = 0; k < perBatch.front().size(); ++k) {
      SmallVector<Value> parts;
      for (auto &r : perBatch)
        parts.push_back(r[k]);
      results.push_back(stack(node, parts, 0));
    }
  }
  for (auto [i, v] : llvm::enumerate(results))
    if (!v || failed(node.setOutput(i, v)))
      return failure();
  return success();
}

void mlir::catfish::onnx_import::registerControlFlowConverters(ConverterMap &map) {
  map["If"] = convertIf;
  map["Loop"] = convertLoop;
  map["Scan"] = convertScan;
}
