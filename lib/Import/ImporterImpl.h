//===- ImporterImpl.h - internals shared by the ONNX importer ---*- C++ -*-===//
#ifndef CATFISH_LIB_IMPORT_IMPORTERIMPL_H
#define CATFISH_LIB_IMPORT_IMPORTERIMPL_H

#include "catfish/Dialect/Catfish.h"
#include "catfish/Import/OnnxImporter.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"

#include <onnx/onnx_pb.h>

#include <memory>

namespace mlir::catfish::onnx_import {

/// External data files of one model, each mapped once and kept mapped while any weight that
/// points into it is alive. Refuses absolute paths and paths that leave the model's directory.
class ExternalData {
public:
  explicit ExternalData(std::string modelDir) : modelDir(std::move(modelDir)) {}
  /// The bytes [offset, offset + length) of `location`; length -1 means "to the end".
  llvm::Expected<ArrayRef<char>> read(StringRef location, int64_t offset, int64_t length,
                                      std::shared_ptr<void> &keepAlive);

private:
  std::string modelDir;
  llvm::StringMap<std::shared_ptr<llvm::sys::fs::mapped_file_region>> files;
};

/// The catfish element type of an ONNX TensorProto.DataType, or null if unsupported.
Type onnxElementType(MLIRContext *ctx, int32_t dataType);
StringRef onnxDataTypeName(int32_t dataType);

/// Converts a tensor (initializer or Constant value) into an ElementsAttr. Large tensors become
/// dense resource blobs that own or map their bytes without copying. `tensor` may be consumed
/// (its raw bytes moved into the blob).
llvm::Expected<ElementsAttr> importTensor(MLIRContext *ctx, onnx::TensorProto &tensor,
                                          ExternalData &external);

class GraphImporter;

/// No tensor of a model that could exist has more elements; past it element counts overflow
/// the byte sizes made of them. Every imported op's results are checked against it.
inline constexpr int64_t kMaxImportedElements = int64_t(1) << 40;

/// What a converter sees of the node it converts.
class NodeContext {
public:
  NodeContext(GraphImporter &graph, const onnx::NodeProto &node, Location loc);

  const onnx::NodeProto &node() const { return nodeProto; }
  Location loc() const { return location; }
  MLIRContext *ctx() const;
  OpBuilder &builder();
  int64_t opset() const;

  size_t numInputs() const { return inputs.size(); }
  /// The i-th input, or a null Value when absent or given as "".
  Value input(size_t i) const { return i < inputs.size() ? inputs[i] : Value(); }
  /// Fails with a clear message when the i-th input is missing.
  FailureOr<Value> requiredInput(size_t i);
  /// Inputs [first, end), each required.
  FailureOr<SmallVector<Value>> requiredInputs(size_t first, size_t end);
  size_t numOutputs() const { return nodeProto.output_size(); }
  bool hasOutput(size_t i) const {
    return static_cast<int>(i) < nodeProto.output_size() && !nodeProto.output(i).empty();
  }
  LogicalResult setOutput(size_t i, Value value);
  /// Fails when any output from `first` on is requested: the converter cannot produce it.
  LogicalResult rejectOutputsFrom(size_t first, StringRef why);

  const onnx::AttributeProto *attr(StringRef name) const;
  int64_t attrInt(StringRef name, int64_t defaultValue) const;
  float attrFloat(StringRef name, float defaultValue) const;
  std::string attrString(StringRef name, StringRef defaultValue) const;
  SmallVector<int64_t> attrInts(StringRef name) const;
  SmallVector<float> attrFloats(StringRef name) const;
  FailureOr<int64_t> requiredAttrInt(StringRef name);

  /// Records the failure reason for this node; returns failure() for convenience.
  LogicalResult fail(const Twine &reason);

  /// Fails when `count` operands do not fit the op's ODS arity (NOperands, AtLeastNOperands).
  LogicalResult checkOperandCount(RegisteredOperationName info, size_t count);

  /// Creates a catfish op with inferred result types, verifies it and folds it when its operands
  /// are constant. Inference or verification errors become this node's failure.
  FailureOr<SmallVector<Value>> create(StringRef opName, ValueRange operands,
                                       ArrayRef<NamedAttribute> attrs = {},
                                       TypeRange explicitTypes = {});
  template <typename OpTy>
  FailureOr<Value> create(ValueRange operands, ArrayRef<NamedAttribute> attrs = {},
                          TypeRange explicitTypes = {}) {
    auto results = create(OpTy::getOperationName(), operands, attrs, explicitTypes);
    if (failed(results))
      return failure();
    return results->front();
  }

  /// For chains of ops (decompositions): like create<OpTy>, but yields a null Value on failure
  /// and creates nothing when an operand is null, so a failure flows to the chain's end, where
  /// one check suffices. The failure reason is recorded as with create.
  template <typename OpTy>
  Value make(ValueRange operands, ArrayRef<NamedAttribute> attrs = {},
             TypeRange explicitTypes = {}) {
    if (llvm::any_of(operands, [](Value v) { return !v; }))
      return {};
    FailureOr<Value> r = create<OpTy>(operands, attrs, explicitTypes);
    return succeeded(r) ? *r : Value();
  }
  /// `x` converted to `elementType` (a chain step, see make).
  Value castElements(Value x, Type elementType);
  /// The dims [start, end) of `x`'s shape as a 1-D i64 value (a chain step, see make); static
  /// dims fold to a constant.
  Value shapeOf(Value x, int64_t start, int64_t end);
  /// `x` reshaped to the concatenation of the 1-D i64 `shapePieces` (a chain step, see make).
  Value reshapeTo(Value x, ArrayRef<Value> shapePieces);
  /// A reduction of `x` over `axes` (a chain step, see make).
  Value reduce(Value x, ReduceKind kind, ArrayRef<int64_t> axes, bool keepdims);
  /// `x` at constant `index` along `axis`, which is dropped (a chain step, see make).
  Value takeAt(Value x, int64_t axis, int64_t index);
  /// `x` cut to [starts, ends) along `axes`, with unit steps (a chain step, see make).
  Value sliceOf(Value x, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends,
                ArrayRef<int64_t> axes);

  Value constI64(ArrayRef<int64_t> values, bool scalar = false);
  /// A rank-0 constant of `elementType` holding `value`.
  Value constScalar(Type elementType, double value);
  /// A float constant of `elementType` and `shape` holding `values` (rounded to nearest).
  Value constFloats(Type elementType, ArrayRef<int64_t> shape, ArrayRef<double> values);
  NamedAttribute named(StringRef name, Attribute value) { return builder().getNamedAttr(name, value); }

  GraphImporter &graph;

private:
  const onnx::NodeProto &nodeProto;
  Location location;
  SmallVector<Value> inputs;
};

inline RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Binds output `i` of the node to `result` when it was created.
inline LogicalResult setResult(NodeContext &node, FailureOr<Value> result, size_t i = 0) {
  return failed(result) ? failure() : node.setOutput(i, *result);
}

using Converter = LogicalResult (*)(NodeContext &);
using ConverterMap = llvm::StringMap<Converter>;

/// Axes given by attribute (older opsets) or by a constant input `inputIndex` (newer ones);
/// none when neither is given.
FailureOr<std::optional<SmallVector<int64_t>>> axesOf(NodeContext &node, size_t inputIndex);

/// A dim whose size is known only at run time (made by NonZero, Compress, Unique or
/// NonMaxSuppression): the value's type holds its upper bound, and `size` (rank-0 i64) its
/// size.
struct BoundedDim {
  int64_t dim;
  Value size;
  /// "NonZero 'name'", for messages.
  std::string origin;
};

/// Records that dim `dim` of `value`, made by `node`, is bounded, its run-time size in `size`.
void markBounded(NodeContext &node, Value value, int64_t dim, Value size);

/// Records, after `node` converted, which dims of its outputs are bounded: those of a
/// data-dependent op, and those that flow from its inputs through the ops that keep them
/// (elementwise ops, Cast, CastLike, Transpose, Squeeze, Unsqueeze, Gather, GatherElements,
/// GatherND, Identity, and Expand by a Shape of a bounded value, as torch's index broadcasting
/// writes it). Any other op
/// taking a bounded input or such a shape is an error at the node.
LogicalResult propagateBoundedDims(NodeContext &node);

/// A Conv or ConvTranspose of `x` and `w` (and `bias`) with `node`'s attributes.
FailureOr<Value> buildConv(NodeContext &node, Value x, Value w, Value bias, bool transposed);

void registerElementwiseConverters(ConverterMap &map);
void registerTensorConverters(ConverterMap &map);
void registerNNConverters(ConverterMap &map);
void registerReductionConverters(ConverterMap &map);
void registerQuantConverters(ConverterMap &map);
void registerControlFlowConverters(ConverterMap &map);
void registerLossConverters(ConverterMap &map);
void registerRecurrentConverters(ConverterMap &map);
void registerLegacyConverters(ConverterMap &map);
void registerSpectralConverters(ConverterMap &map);
void registerDataDependentConverters(ConverterMap &map);
void registerRoiAlignConverters(ConverterMap &map);
void registerTfIdfVectorizerConverters(ConverterMap &map);
void registerDeformConvConverters(ConverterMap &map);

/// Imports one ONNX graph (the main graph or a subgraph) into the current insertion block.
class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, OpBuilder &builder, ExternalData &external,
                const ConverterMap &converters, int64_t opset, GraphImporter *parent);

  /// Imports the nodes of `graph`; graph inputs must already be bound with `bind`. On failure
  /// `error()` holds the message.
  LogicalResult importNodes(onnx::GraphProto &graph);
  /// Imports the initializers of `graph` as constants.
  LogicalResult importInitializers(onnx::GraphProto &graph);

  /// Imports `graph` as a subgraph region body: binds its inputs to `arguments`, imports its
  /// nodes, and returns its outputs. Outer-scope values are visible.
  FailureOr<SmallVector<Value>> importSubgraph(onnx::GraphProto &graph, ValueRange arguments);

  void bind(StringRef name, Value value) { values[name] = value; }
  Value lookup(StringRef name) const;
  bool isDefined(StringRef name) const { return static_cast<bool>(lookup(name)); }

  /// The bounded dims of every value of the model (shared with subgraphs).
  llvm::DenseMap<Value, SmallVector<BoundedDim>> &boundedDims() {
    return parent ? parent->boundedDims() : bounded;
  }
  /// Shapes of values with bounded dims (Shape's results, holding the bounds): per value, its
  /// entries (BoundedDim::dim) that are run-time sizes. Only Expand may take them; they cannot
  /// be graph or subgraph outputs.
  llvm::DenseMap<Value, SmallVector<BoundedDim>> &boundedShapes() {
    return parent ? parent->boundedShapes() : shapes;
  }

  OpBuilder &builder;
  MLIRContext *ctx;
  ExternalData &external;
  const ConverterMap &converters;
  int64_t opset;

  /// The first error, already formatted as "node 'NAME' (OP): reason".
  std::string errorMessage;
  LogicalResult setError(const Twine &message);

private:
  LogicalResult importNode(const onnx::NodeProto &node);
  GraphImporter *parent;
  llvm::StringMap<Value> values;
  llvm::DenseMap<Value, SmallVector<BoundedDim>> bounded, shapes;
  /// Initializers already imported (their raw data is moved out): a subgraph imported more
  /// than once (an unrolled loop, an attempt undone) reuses them.
  llvm::DenseMap<const onnx::TensorProto *, ElementsAttr> initializers;
};

/// "node 'NAME' (OP)" for messages; unnamed nodes are named by their first output.
std::string describeNode(const onnx::NodeProto &node);

} // namespace mlir::catfish::onnx_import

#endif // CATFISH_LIB_IMPORT_IMPORTERIMPL_H
