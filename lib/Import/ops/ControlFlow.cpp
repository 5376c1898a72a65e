//===- ControlFlow.cpp - ONNX If and Loop --------------------------------===//
#include "../ImporterImpl.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static onnx::GraphProto *graphAttr(NodeContext &node, StringRef name) {
  const onnx::AttributeProto *a = node.attr(name);
  return a && a->has_g() ? const_cast<onnx::GraphProto *>(&a->g()) : nullptr;
}

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

static LogicalResult convertLoop(NodeContext &node) {
  onnx::GraphProto *body = graphAttr(node, "body");
  if (!body)
    return node.fail("Loop needs a body graph");
  OpBuilder &b = node.builder();
  Value tripCount = node.input(0), cond = node.input(1);
  SmallVector<Value> initial;
  for (size_t i = 2; i < node.numInputs(); ++i) {
    FailureOr<Value> v = node.requiredInput(i);
    if (failed(v))
      return failure();
    initial.push_back(*v);
  }
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
  auto outputs = importRegion(node, *region, *body, argTypes);
  if (failed(outputs))
    return failure();
  if (outputs->size() < initial.size() + 1)
    return node.fail("Loop body must produce the condition and every carried value");
  SmallVector<Type> resultTypes(ValueRange(initial).getTypes());
  for (Value scan : ArrayRef<Value>(*outputs).drop_front(1 + initial.size())) {
    auto t = cast<RankedTensorType>(scan.getType());
    SmallVector<int64_t> dims = {ShapedType::kDynamic};
    llvm::append_range(dims, t.getShape());
    resultTypes.push_back(RankedTensorType::get(dims, t.getElementType()));
  }
  state.addTypes(resultTypes);
  Operation *op = b.create(state);
  if (failed(verify(op)))
    return node.fail("the Loop body does not match its carried values");
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    (void)node.setOutput(i, v);
  return success();
}

void mlir::catfish::onnx_import::registerControlFlowConverters(ConverterMap &map) {
  map["If"] = convertIf;
  map["Loop"] = convertLoop;
}
