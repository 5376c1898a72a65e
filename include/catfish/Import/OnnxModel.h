//===- OnnxModel.h - ONNX protobuf access for tools that rewrite models -*- C++ -*-===//
//
// For code that reads or rewrites an ONNX ModelProto before it is imported (the quantizer).
// Needs the onnx protobuf headers: compile with ONNX_ML=1 ONNX_NAMESPACE=onnx and RTTI.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_IMPORT_ONNXMODEL_H
#define CATFISH_IMPORT_ONNXMODEL_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/Error.h"

#include <onnx/onnx_pb.h>

#include <vector>

namespace mlir::catfish {

/// Parses a serialized ONNX model, with the importer's limits (2 GiB, bounded nesting).
llvm::Expected<onnx::ModelProto> parseOnnxModel(ArrayRef<char> bytes);

/// The elements of f32 tensor `tensor` (an initializer or a Constant's value), its data inline
/// or in an external data file in `modelDir` (relative, inside it, mapped only while read).
llvm::Expected<std::vector<float>> readFloatTensor(const onnx::TensorProto &tensor,
                                                   StringRef modelDir);

} // namespace mlir::catfish

#endif // CATFISH_IMPORT_ONNXMODEL_H
