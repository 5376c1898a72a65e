//===- OnnxImporter.h - ONNX protobuf -> catfish dialect --------*- C++ -*-===//
#ifndef CATFISH_IMPORT_ONNXIMPORTER_H
#define CATFISH_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

namespace mlir::catfish {

struct ImportOptions {
  /// Fixed dims for graph inputs, by input name (`--shape NAME=1x128`); they replace the
  /// input's declared dims, symbolic or not.
  llvm::StringMap<SmallVector<int64_t>> inputShapes;
  /// Graph inputs replaced by constants read from ONNX TensorProto files
  /// (`--freeze-input NAME=FILE.pb`): for inputs that ops need at compile time (axes, k,
  /// shapes), as TensorRT needs shape tensors at build time.
  llvm::StringMap<std::string> frozenInputs;
  /// The model's serialized bytes when it is not to be read from the path (a model rewritten
  /// in memory, such as the quantizer's): the path still names it in errors and gives the
  /// directory of its external data files.
  ArrayRef<char> modelBytes;
};

/// Opsets of the default ONNX domain that the importer accepts.
inline constexpr int64_t kMinOnnxOpset = 1;
inline constexpr int64_t kMaxOnnxOpset = 23;
/// The one other domain with imported ops: onnxruntime's contrib ops that exporters and
/// onnxruntime.quantization write (QOperator ops such as QLinearAdd and QGemm).
inline constexpr llvm::StringLiteral kMicrosoftDomain = "com.microsoft";

/// Imports the ONNX model at `path` into a module holding one `func.func @main`. Initializers
/// become constants; large ones are dense resource blobs that point into the model's memory
/// (external data files stay memory-mapped while the module lives). Errors name the file, the
/// node and its op type.
llvm::Expected<OwningOpRef<ModuleOp>> importOnnxModel(MLIRContext &context, StringRef path,
                                                      const ImportOptions &options);

/// As importOnnxModel, from a serialized model in memory: errors name it `name`, and external
/// data locations are relative to `externalDataDir`.
llvm::Expected<OwningOpRef<ModuleOp>> importOnnxModelBytes(MLIRContext &context,
                                                           ArrayRef<char> bytes, StringRef name,
                                                           StringRef externalDataDir,
                                                           const ImportOptions &options);

/// Parses "1x128" into {1, 128}; "" is a scalar.
llvm::Expected<SmallVector<int64_t>> parseShape(StringRef text);

} // namespace mlir::catfish

#endif // CATFISH_IMPORT_ONNXIMPORTER_H
