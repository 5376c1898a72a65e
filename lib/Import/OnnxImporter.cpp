//===- OnnxImporter.cpp - model file -> module with func.func @main ------===//
#include "ImporterImpl.h"
#include "catfish/Import/OnnxModel.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>

#include <limits>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;
using llvm::createStringError;

llvm::Expected<SmallVector<int64_t>> mlir::catfish::parseShape(StringRef text) {
  SmallVector<int64_t> dims;
  if (text.empty())
    return dims;
  SmallVector<StringRef> parts;
  text.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t d;
    if (part.getAsInteger(10, d) || d < 0)
      return createStringError("invalid shape '" + text + "': expected dims like 1x128");
    dims.push_back(d);
  }
  return dims;
}

static const ConverterMap &converters() {
  static const ConverterMap map = [] {
    ConverterMap m;
    registerElementwiseConverters(m);
    registerTensorConverters(m);
    registerNNConverters(m);
    registerReductionConverters(m);
    registerQuantConverters(m);
    registerControlFlowConverters(m);
    registerLossConverters(m);
    registerRecurrentConverters(m);
    registerLegacyConverters(m);
    registerSpectralConverters(m);
    registerDataDependentConverters(m);
    registerRoiAlignConverters(m);
    registerTfIdfVectorizerConverters(m);
    registerDeformConvConverters(m);
    return m;
  }();
  return map;
}

/// Protobuf's limit on one serialized message (its sizes are signed 32-bit).
constexpr size_t kMaxProtobufBytes = std::numeric_limits<int>::max();
/// How deep messages may nest (graphs in attributes of If, Loop and Scan nodes, in theirs ...).
constexpr int kMaxNesting = 256;

llvm::Expected<onnx::ModelProto> mlir::catfish::parseOnnxModel(ArrayRef<char> bytes) {
  if (bytes.empty())
    return createStringError("the file is empty");
  if (bytes.size() > kMaxProtobufBytes)
    return createStringError("the model is " + Twine(bytes.size()) +
                             " bytes, more than protobuf's limit of 2 GiB on one message; "
                             "models this large keep their weights in external data files");
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t *>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetRecursionLimit(kMaxNesting);
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return createStringError("not a valid ONNX model (protobuf parse failed: truncated, not an "
                             ".onnx file, or messages nested more than " +
                             Twine(kMaxNesting) + " deep)");
  if (!model.has_graph() || model.ir_version() <= 0)
    return createStringError("not a valid ONNX model (no graph or ir_version)");
  return model;
}

/// A constant from a serialized ONNX TensorProto file (the backend tests' input_N.pb).
static llvm::Expected<ElementsAttr> readTensorFile(MLIRContext *ctx, StringRef path,
                                                   ExternalData &external) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError("cannot read " + path + ": " + buffer.getError().message());
  if ((*buffer)->getBufferSize() > kMaxProtobufBytes)
    return createStringError(path + " is more than protobuf's limit of 2 GiB on one message");
  onnx::TensorProto tensor;
  if (!tensor.ParseFromArray((*buffer)->getBufferStart(),
                             static_cast<int>((*buffer)->getBufferSize())))
    return createStringError(path + " is not an ONNX TensorProto");
  return importTensor(ctx, tensor, external);
}

static llvm::Expected<int64_t> defaultOpset(const onnx::ModelProto &model) {
  for (const auto &entry : model.opset_import()) {
    if (!entry.domain().empty() && entry.domain() != "ai.onnx")
      continue;
    int64_t v = entry.version();
    if (v < kMinOnnxOpset || v > kMaxOnnxOpset)
      return createStringError("unsupported opset " + Twine(v) + " of the default domain "
                               "(supported: " + Twine(kMinOnnxOpset) + " to " +
                               Twine(kMaxOnnxOpset) + ")");
    return v;
  }
  return createStringError("the model does not import the default ONNX domain");
}

/// The type of a graph input, with `--shape` overrides applied.
static llvm::Expected<RankedTensorType> inputType(MLIRContext *ctx,
                                                  const onnx::ValueInfoProto &info,
                                                  const ImportOptions &options) {
  if (!info.type().has_tensor_type())
    return createStringError("graph input '" + info.name() +
                             "' is not a tensor (sequences, maps and optionals are not "
                             "supported)");
  const auto &tensor = info.type().tensor_type();
  Type et = onnxElementType(ctx, tensor.elem_type());
  if (!et)
    return createStringError("graph input '" + info.name() + "' has unsupported element type " +
                             onnxDataTypeName(tensor.elem_type()));
  auto fixed = options.inputShapes.find(info.name());
  if (fixed != options.inputShapes.end()) {
    if (tensor.has_shape() &&
        tensor.shape().dim_size() != static_cast<int>(fixed->second.size()))
      return createStringError("--shape " + info.name() + " gives rank " +
                               Twine(fixed->second.size()) + " but the input has rank " +
                               Twine(tensor.shape().dim_size()));
    return RankedTensorType::get(fixed->second, et);
  }
  if (!tensor.has_shape())
    return createStringError("graph input '" + info.name() +
                             "' has no shape; give one with --shape " + info.name() + "=DIMS");
  SmallVector<int64_t> dims;
  for (const auto &dim : tensor.shape().dim())
    dims.push_back(dim.has_dim_value() && dim.dim_value() >= 0 ? dim.dim_value()
                                                               : ShapedType::kDynamic);
  return RankedTensorType::get(dims, et);
}

static llvm::Expected<OwningOpRef<ModuleOp>>
importGraph(MLIRContext &context, onnx::ModelProto &model, ExternalData &external,
            int64_t opset, const ImportOptions &options) {
  MLIRContext *ctx = &context;
  onnx::GraphProto &graph = *model.mutable_graph();
  OpBuilder builder(ctx);
  auto loc = NameLoc::get(builder.getStringAttr(graph.name().empty() ? "main" : graph.name()));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);

  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  llvm::StringSet<> seen;
  SmallVector<std::pair<std::string, ElementsAttr>> frozen;
  for (const auto &in : graph.input()) {
    if (initializerNames.contains(in.name()))
      continue;
    auto frozenPath = options.frozenInputs.find(in.name());
    if (frozenPath != options.frozenInputs.end()) {
      auto value = readTensorFile(ctx, frozenPath->second, external);
      if (!value)
        return createStringError("--freeze-input " + in.name() + ": " +
                                 llvm::toString(value.takeError()));
      frozen.emplace_back(in.name(), *value);
      continue;
    }
    if (!seen.insert(in.name()).second)
      return createStringError("graph input '" + in.name() + "' is declared twice");
    auto type = inputType(ctx, in, options);
    if (!type)
      return type.takeError();
    argTypes.push_back(*type);
    argNames.push_back(in.name());
  }
  for (const auto &entry : options.frozenInputs)
    if (!llvm::any_of(frozen, [&](auto &f) { return f.first == entry.getKey(); }))
      return createStringError("--freeze-input names '" + entry.getKey() +
                               "', which is not a graph input");
  for (const auto &entry : options.inputShapes)
    if (!llvm::is_contained(argNames, entry.getKey()))
      return createStringError("--shape names '" + entry.getKey() +
                               "', which is not a graph input");

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, loc, "main", builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  GraphImporter importer(ctx, builder, external, converters(), opset, nullptr);
  for (auto [i, name] : llvm::enumerate(argNames)) {
    importer.bind(name, entry->getArgument(i));
    func.setArgAttr(i, "catfish.name", builder.getStringAttr(name));
  }
  for (auto &[name, value] : frozen)
    importer.bind(name, ConstantOp::create(builder, NameLoc::get(builder.getStringAttr(name)),
                                           value));
  if (failed(importer.importInitializers(graph)) || failed(importer.importNodes(graph)))
    return createStringError(importer.errorMessage);

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    Value v = importer.lookup(out.name());
    if (!v)
      return createStringError("graph output '" + out.name() + "' is never produced");
    results.push_back(v);
  }
  // Each run-time size of an output's bounded dim is a hidden result after the outputs.
  SmallVector<std::pair<int64_t, int64_t>> sizeOf;
  size_t outputCount = results.size();
  for (size_t i = 0; i < outputCount; ++i) {
    if (auto shape = importer.boundedShapes().find(results[i]);
        shape != importer.boundedShapes().end())
      return createStringError("graph output '" + graph.output(i).name() +
                               "' is the shape of a value whose size is known only at run time "
                               "(made by " + shape->second.front().origin +
                               "), which cannot be an output yet");
    SmallVector<BoundedDim> dims = importer.boundedDims().lookup(results[i]);
    if (dims.empty())
      continue;
    // The runtime compacts whole bytes and reports the dims as a 64-bit mask.
    RankedTensorType type = typeOf(results[i]);
    if (type.getElementTypeBitWidth() < 8 || type.getRank() > 64)
      return createStringError("graph output '" + graph.output(i).name() +
                               "' has a dim whose size is known only at run time (made by " +
                               dims.front().origin + "), which a " +
                               Twine(type.getElementTypeBitWidth()) + "-bit rank-" +
                               Twine(type.getRank()) +
                               " output cannot have (8-bit or wider elements and rank 64 or "
                               "less only)");
    for (const BoundedDim &dim : dims) {
      results.push_back(dim.size);
      sizeOf.emplace_back(i, dim.dim);
    }
  }
  func::ReturnOp::create(builder, loc, results);
  func.setType(builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "catfish.name", builder.getStringAttr(out.name()));
  for (auto [k, entry] : llvm::enumerate(sizeOf)) {
    auto [output, dim] = entry;
    func.setResultAttr(outputCount + k, "catfish.name",
                       builder.getStringAttr(graph.output(output).name() + ".size" + Twine(dim)));
    func.setResultAttr(outputCount + k, kSizeOfAttr,
                       builder.getDenseI64ArrayAttr({output, dim}));
  }

  std::string diagnostic;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
    if (diagnostic.empty())
      diagnostic = diag.str();
    return success();
  });
  if (failed(verify(*module)))
    return createStringError("the imported module does not verify: " + diagnostic);
  return module;
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::importOnnxModelBytes(MLIRContext &context, ArrayRef<char> bytes, StringRef name,
                                    StringRef externalDataDir, const ImportOptions &options) {
  context.loadDialect<CatfishDialect, func::FuncDialect>();
  auto prefix = [&](llvm::Error err) {
    return createStringError(name + ": " + llvm::toString(std::move(err)));
  };
  auto model = parseOnnxModel(bytes);
  if (!model)
    return prefix(model.takeError());
  auto opset = defaultOpset(*model);
  if (!opset)
    return prefix(opset.takeError());
  ExternalData external{externalDataDir.str()};
  auto module = importGraph(context, *model, external, *opset, options);
  if (!module)
    return prefix(module.takeError());
  return module;
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::importOnnxModel(MLIRContext &context, StringRef path,
                               const ImportOptions &options) {
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  if (!options.modelBytes.empty())
    return importOnnxModelBytes(context, options.modelBytes, path, dir, options);
  // Mapped, not read: the parse copies what it keeps.
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(path + ": cannot read: " + buffer.getError().message());
  ArrayRef<char> bytes((*buffer)->getBufferStart(), (*buffer)->getBufferSize());
  return importOnnxModelBytes(context, bytes, path, dir, options);
}
