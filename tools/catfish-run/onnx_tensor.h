//===- onnx_tensor.h - reading ONNX TensorProto files -----------*- C++ -*-===//
//
// A minimal protobuf wire-format reader for onnx.TensorProto (the .pb files of the ONNX node
// tests): dims, data_type, raw_data and the typed data fields. String tensors and external data
// are rejected.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_TOOLS_ONNX_TENSOR_H
#define CATFISH_TOOLS_ONNX_TENSOR_H

#include "host_tensor.h"

namespace catfish::tools {

/// Parses a serialized TensorProto. `name` (the file) is used in errors; the tensor's own name,
/// if any, goes to `outTensorName`.
bool parseTensorProto(const uint8_t *bytes, size_t size, const std::string &name, HostTensor &out,
                      std::string &outTensorName, std::string &error);

} // namespace catfish::tools

#endif // CATFISH_TOOLS_ONNX_TENSOR_H
