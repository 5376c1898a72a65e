//===- GraphImporter.cpp - ONNX graph -> ops in a block ------------------===//
#include "ImporterImpl.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

std::string mlir::catfish::onnx_import::describeNode(const onnx::NodeProto &node) {
  std::string name = node.name();
  // Unnamed: by its first output that has a name (LSTM's Y may be left out).
  auto output = llvm::find_if(node.output(), [](const std::string &o) { return !o.empty(); });
  if (name.empty())
    name = output != node.output().end() ? "<producing " + *output + ">" : "<unnamed>";
  std::string op = node.domain().empty() || node.domain() == "ai.onnx"
                       ? node.op_type()
                       : node.domain() + "." + node.op_type();
  return "node '" + name + "' (" + op + ")";
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

NodeContext::NodeContext(GraphImporter &graph, const onnx::NodeProto &node, Location loc)
    : graph(graph), nodeProto(node), location(loc) {
  for (const std::string &name : node.input())
    inputs.push_back(name.empty() ? Value() : graph.lookup(name));
}

MLIRContext *NodeContext::ctx() const { return graph.ctx; }
OpBuilder &NodeContext::builder() { return graph.builder; }
int64_t NodeContext::opset() const { return graph.opset; }

LogicalResult NodeContext::fail(const Twine &reason) {
  return graph.setError(describeNode(nodeProto) + ": " + reason);
}

FailureOr<Value> NodeContext::requiredInput(size_t i) {
  if (Value v = input(i))
    return v;
  return fail("input " + Twine(i) + " is required");
}

FailureOr<SmallVector<Value>> NodeContext::requiredInputs(size_t first, size_t end) {
  SmallVector<Value> values;
  for (size_t i = first; i < end; ++i) {
    FailureOr<Value> v = requiredInput(i);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

LogicalResult NodeContext::setOutput(size_t i, Value value) {
  if (!hasOutput(i))
    return success();
  graph.bind(nodeProto.output(i), value);
  return success();
}

LogicalResult NodeContext::rejectOutputsFrom(size_t first, StringRef why) {
  for (size_t i = first; i < numOutputs(); ++i)
    if (hasOutput(i))
      return fail("output " + Twine(i) + " ('" + nodeProto.output(i) +
                  "') is not supported: " + why);
  return success();
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const onnx::AttributeProto &a : nodeProto.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : defaultValue;
}

float NodeContext::attrFloat(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : defaultValue;
}

std::string NodeContext::attrString(StringRef name, StringRef defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : defaultValue.str();
}

SmallVector<int64_t> NodeContext::attrInts(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? SmallVector<int64_t>(a->ints().begin(), a->ints().end()) : SmallVector<int64_t>();
}

SmallVector<float> NodeContext::attrFloats(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? SmallVector<float>(a->floats().begin(), a->floats().end()) : SmallVector<float>();
}

FailureOr<int64_t> NodeContext::requiredAttrInt(StringRef name) {
  if (const onnx::AttributeProto *a = attr(name))
    return a->i();
  return fail("required attribute '" + name + "' is missing");
}

LogicalResult NodeContext::checkOperandCount(RegisteredOperationName info, size_t count) {
  std::optional<size_t> exactly, atLeast;
  if (info.hasTrait<OpTrait::ZeroOperands>())
    exactly = 0;
  else if (info.hasTrait<OpTrait::OneOperand>())
    exactly = 1;
  else if (info.hasTrait<OpTrait::NOperands<2>::Impl>())
    exactly = 2;
  else if (info.hasTrait<OpTrait::NOperands<3>::Impl>())
    exactly = 3;
  else if (info.hasTrait<OpTrait::NOperands<4>::Impl>())
    exactly = 4;
  else if (info.hasTrait<OpTrait::NOperands<5>::Impl>())
    exactly = 5;
  else if (info.hasTrait<OpTrait::AtLeastNOperands<1>::Impl>())
    atLeast = 1;
  else if (info.hasTrait<OpTrait::AtLeastNOperands<2>::Impl>())
    atLeast = 2;
  else if (info.hasTrait<OpTrait::AtLeastNOperands<3>::Impl>())
    atLeast = 3;
  if (exactly && count != *exactly)
    return fail("takes " + Twine(*exactly) + " input(s) here but has " + Twine(count));
  if (atLeast && count < *atLeast)
    return fail("takes at least " + Twine(*atLeast) + " input(s) but has " + Twine(count));
  return success();
}

FailureOr<SmallVector<Value>> NodeContext::create(StringRef opName, ValueRange operands,
                                                  ArrayRef<NamedAttribute> attrs,
                                                  TypeRange explicitTypes) {
  for (auto [i, v] : llvm::enumerate(operands))
    if (!v)
      return fail("input " + Twine(i) + " is missing");
  OperationName name(opName, ctx());
  std::optional<RegisteredOperationName> info = name.getRegisteredInfo();
  assert(info && "converters only create registered ops");
  // Inference reads operands by position: a node with too few inputs (a malformed model) must
  // fail here, not there.
  if (failed(checkOperandCount(*info, operands.size())))
    return failure();
  // Inference and verification report through diagnostics; keep the first as the reason.
  std::string diagnostic;
  ScopedDiagnosticHandler handler(ctx(), [&](Diagnostic &diag) {
    if (diagnostic.empty())
      diagnostic = diag.str();
    return success();
  });

  OperationState state(location, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  if (!explicitTypes.empty()) {
    state.addTypes(explicitTypes);
  } else {
    auto *iface = info->getInterface<InferTypeOpInterface>();
    assert(iface && "ops without explicit result types must infer them");
    // Inference reads attributes through the op's properties.
    bool hasProps = info->getOpPropertyByteSize() > 0;
    SmallVector<uint64_t> storage((info->getOpPropertyByteSize() + 7) / 8 + 1);
    OpaqueProperties props(hasProps ? storage.data() : nullptr);
    DictionaryAttr dict = state.attributes.getDictionary(ctx());
    auto emitErr = [&]() { return emitError(location); };
    SmallVector<Type> types;
    LogicalResult ok = success();
    if (hasProps) {
      info->initOpProperties(props, nullptr);
      ok = info->setOpPropertiesFromAttribute(name, props, dict, emitErr);
    }
    if (succeeded(ok))
      ok = iface->inferReturnTypes(ctx(), location, state.operands, dict, props, {}, types);
    if (hasProps)
      info->destroyOpProperties(props);
    if (failed(ok))
      return fail(diagnostic.empty() ? "cannot infer the result type" : diagnostic);
    state.addTypes(types);
  }
  // One bound for every op, whatever its inference trusted.
  for (Type type : state.types) {
    auto shaped = dyn_cast<RankedTensorType>(type);
    if (!shaped)
      continue;
    int64_t count = 1;
    for (int64_t dim : shaped.getShape())
      if (!ShapedType::isDynamic(dim) &&
          (dim < 0 || llvm::MulOverflow(count, dim, count) || count > kMaxImportedElements))
        return fail("its result " + llvm::formatv("{0}", type).str() +
                    " has more than 2^40 elements");
  }
  Operation *op = builder().create(state);
  if (failed(verify(op))) {
    op->erase();
    return fail(diagnostic.empty() ? "the imported op does not verify" : diagnostic);
  }
  SmallVector<Value> results;
  if (succeeded(builder().tryFold(op, results)) && !results.empty()) {
    op->erase();
    return results;
  }
  return SmallVector<Value>(op->getResults());
}

Value NodeContext::castElements(Value x, Type elementType) {
  if (!x || getElementTypeOrSelf(x) == elementType)
    return x;
  return make<CastOp>({x}, {}, {typeOf(x).clone(elementType)});
}

Value NodeContext::shapeOf(Value x, int64_t start, int64_t end) {
  OpBuilder &b = builder();
  return make<ShapeOp>({x}, {named("start", b.getI64IntegerAttr(start)),
                             named("end", b.getI64IntegerAttr(end))});
}

Value NodeContext::reshapeTo(Value x, ArrayRef<Value> shapePieces) {
  Value shape = shapePieces.size() == 1
                    ? shapePieces.front()
                    : make<ConcatOp>(shapePieces, {named("axis", builder().getI64IntegerAttr(0))});
  return make<ReshapeOp>({x, shape});
}

Value NodeContext::reduce(Value x, ReduceKind kind, ArrayRef<int64_t> axes, bool keepdims) {
  OpBuilder &b = builder();
  return make<ReduceOp>({x}, {named("kind", ReduceKindAttr::get(ctx(), kind)),
                              named("axes", b.getDenseI64ArrayAttr(axes)),
                              named("keepdims", b.getBoolAttr(keepdims))});
}

Value NodeContext::takeAt(Value x, int64_t axis, int64_t index) {
  return make<GatherOp>({x, constI64({index}, /*scalar=*/true)},
                        {named("axis", builder().getI64IntegerAttr(axis))});
}

Value NodeContext::sliceOf(Value x, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends,
                           ArrayRef<int64_t> axes) {
  return make<SliceOp>({x, constI64(starts), constI64(ends), constI64(axes)},
                       {named("operandSegmentSizes",
                              builder().getDenseI32ArrayAttr({1, 1, 1, 1, 0}))});
}

Value NodeContext::constI64(ArrayRef<int64_t> values, bool scalar) {
  auto type = RankedTensorType::get(scalar ? ArrayRef<int64_t>{}
                                           : ArrayRef<int64_t>{(int64_t)values.size()},
                                    builder().getI64Type());
  return ConstantOp::create(builder(), location, DenseIntElementsAttr::get(type, values));
}

Value NodeContext::constFloats(Type elementType, ArrayRef<int64_t> shape,
                                ArrayRef<double> values) {
  auto type = RankedTensorType::get(shape, elementType);
  const llvm::fltSemantics &semantics = cast<FloatType>(elementType).getFloatSemantics();
  SmallVector<APFloat> elements;
  for (double value : values) {
    APFloat f(value);
    bool lost;
    f.convert(semantics, APFloat::rmNearestTiesToEven, &lost);
    elements.push_back(f);
  }
  return ConstantOp::create(builder(), location,
                            cast<ElementsAttr>(DenseElementsAttr::get(type, elements)));
}

Value NodeContext::constScalar(Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  Attribute attr;
  if (auto ft = dyn_cast<FloatType>(elementType)) {
    APFloat f(value);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    attr = DenseElementsAttr::get(type, f);
  } else {
    attr = DenseElementsAttr::get(
        type, APInt(elementType.getIntOrFloatBitWidth(), static_cast<int64_t>(value), true));
  }
  return ConstantOp::create(builder(), location, cast<ElementsAttr>(attr));
}

//===----------------------------------------------------------------------===//
// GraphImporter
//===----------------------------------------------------------------------===//

GraphImporter::GraphImporter(MLIRContext *ctx, OpBuilder &builder, ExternalData &external,
                             const ConverterMap &converters, int64_t opset,
                             GraphImporter *parent)
    : builder(builder), ctx(ctx), external(external), converters(converters), opset(opset),
      parent(parent) {}

LogicalResult GraphImporter::setError(const Twine &message) {
  if (errorMessage.empty())
    errorMessage = message.str();
  return failure();
}

Value GraphImporter::lookup(StringRef name) const {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  return parent ? parent->lookup(name) : Value();
}

LogicalResult GraphImporter::importInitializers(onnx::GraphProto &graph) {
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    if (values.count(tensor.name()))
      return setError("initializer '" + tensor.name() + "' is defined twice");
    GraphImporter *root = this;
    while (root->parent)
      root = root->parent;
    ElementsAttr &attr = root->initializers[&tensor];
    if (!attr) {
      auto imported = importTensor(ctx, tensor, external);
      if (!imported)
        return setError(llvm::toString(imported.takeError()));
      attr = *imported;
    }
    auto loc = NameLoc::get(builder.getStringAttr(tensor.name()));
    bind(tensor.name(), ConstantOp::create(builder, loc, attr));
  }
  return success();
}

/// Names used by `node` including those its subgraphs take from the enclosing scopes.
static void collectUses(const onnx::GraphProto &graph, llvm::StringSet<> &defined,
                        SmallVectorImpl<std::string> &uses);

static void collectNodeUses(const onnx::NodeProto &node, SmallVectorImpl<std::string> &uses) {
  for (const std::string &in : node.input())
    if (!in.empty())
      uses.push_back(in);
  for (const onnx::AttributeProto &a : node.attribute()) {
    llvm::StringSet<> defined;
    if (a.has_g())
      collectUses(a.g(), defined, uses);
    for (const onnx::GraphProto &g : a.graphs())
      collectUses(g, defined, uses);
  }
}

static void collectUses(const onnx::GraphProto &graph, llvm::StringSet<> &defined,
                        SmallVectorImpl<std::string> &uses) {
  for (const auto &in : graph.input())
    defined.insert(in.name());
  for (const auto &init : graph.initializer())
    defined.insert(init.name());
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &out : node.output())
      defined.insert(out);
  SmallVector<std::string> inner;
  for (const onnx::NodeProto &node : graph.node())
    collectNodeUses(node, inner);
  for (std::string &u : inner)
    if (!defined.contains(u))
      uses.push_back(std::move(u));
}

LogicalResult GraphImporter::importNodes(onnx::GraphProto &graph) {
  // Producers by output name: a value is defined once, by a graph input, an initializer or
  // one node output.
  llvm::StringMap<int> producer;
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    for (const std::string &out : node.output()) {
      if (out.empty())
        continue;
      if (values.count(out) || !producer.try_emplace(out, index).second)
        return setError(describeNode(node) + ": value '" + out + "' is defined twice");
    }
  }
  // Kahn's algorithm: exporters write nodes in order, but ONNX only promises a DAG.
  size_t n = graph.node_size();
  SmallVector<SmallVector<int>> users(n);
  SmallVector<int> pending(n, 0);
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    SmallVector<std::string> uses;
    collectNodeUses(node, uses);
    for (const std::string &use : uses) {
      auto it = producer.find(use);
      if (it != producer.end()) {
        users[it->second].push_back(index);
        ++pending[index];
      } else if (!isDefined(use)) {
        return setError(describeNode(node) + ": input '" + use + "' is never defined");
      }
    }
  }
  SmallVector<int> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  size_t done = 0;
  for (size_t head = 0; head < ready.size(); ++head, ++done) {
    int index = ready[head];
    if (failed(importNode(graph.node(index))))
      return failure();
    for (int user : users[index])
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if (done != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        return setError(describeNode(graph.node(i)) +
                        ": the graph has a cycle through this node");
  }
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node) {
  std::string name = !node.name().empty()    ? node.name()
                     : node.output_size() > 0 ? node.output(0)
                                              : node.op_type();
  auto loc = FusedLoc::get(ctx, {NameLoc::get(builder.getStringAttr(name))},
                           builder.getStringAttr("onnx." + node.op_type()));
  NodeContext context(*this, node, loc);
  bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
  auto it = converters.find(defaultDomain ? node.op_type() : node.domain() + "." + node.op_type());
  if (it == converters.end() && !defaultDomain && node.domain() != kMicrosoftDomain)
    return context.fail("operators of domain '" + node.domain() + "' are not supported");
  if (it == converters.end())
    return context.fail("unsupported operator");
  // Every ONNX operator but these (onnx.defs: min_input 0, and Loop's optional trip count)
  // takes a first input; converters may rely on it.
  static constexpr StringLiteral kNoFirstInput[] = {
      "Constant", "Loop", "Optional", "OptionalHasElement", "RandomNormal", "RandomUniform",
      "Scan", "SequenceEmpty"};
  if (!llvm::is_contained(kNoFirstInput, node.op_type()) && !context.input(0))
    return context.fail("input 0 is missing");
  if (failed(it->second(context)))
    return context.fail("conversion failed");
  for (auto [i, out] : llvm::enumerate(node.output()))
    if (!out.empty() && !lookup(out))
      return context.fail("output " + Twine(i) + " ('" + out + "') was not produced");
  return propagateBoundedDims(context);
}

FailureOr<SmallVector<Value>> GraphImporter::importSubgraph(onnx::GraphProto &graph,
                                                            ValueRange arguments) {
  if (static_cast<size_t>(graph.input_size()) != arguments.size())
    return setError("subgraph '" + graph.name() + "' takes " + Twine(graph.input_size()) +
                    " inputs but " + Twine(arguments.size()) + " are passed");
  GraphImporter sub(ctx, builder, external, converters, opset, this);
  for (auto [in, arg] : llvm::zip(graph.input(), arguments))
    sub.bind(in.name(), arg);
  if (failed(sub.importInitializers(graph)) || failed(sub.importNodes(graph)))
    return setError(sub.errorMessage);
  SmallVector<Value> outputs;
  for (const auto &out : graph.output()) {
    Value v = sub.lookup(out.name());
    if (!v)
      return setError("subgraph output '" + out.name() + "' is never produced");
    if (boundedShapes().contains(v))
      return setError("subgraph output '" + out.name() + "' is the shape of a value whose "
                      "size is known only at run time, which If, Loop and Scan cannot return yet");
    if (auto it = boundedDims().find(v); it != boundedDims().end())
      return setError("subgraph output '" + out.name() + "' has a dim whose size is known only "
                      "at run time (made by " + it->second.front().origin +
                      "), which If, Loop and Scan cannot return yet");
    outputs.push_back(v);
  }
  return outputs;
}
