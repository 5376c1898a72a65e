//===- Legacy.cpp - ops that left the default ONNX domain ----------------===//
//
// ImageScaler, Scale, Affine, ScaledTanh, ParametricSoftplus and Crop were "experimental" ops
// of the default domain until opset 10. Models from older exporters and the ONNX model zoo
// (Tiny YOLOv2, for one) still carry them; onnxruntime computes them up to opset 9.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static FailureOr<Value> floatInput(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (succeeded(x) && !isa<FloatType>(getElementTypeOrSelf(*x)))
    return node.fail(node.node().op_type() + " computes on floating-point inputs");
  return x;
}

/// ImageScaler: y = scale * x + bias[c] on NCHW.
static LogicalResult convertImageScaler(NodeContext &node) {
  FailureOr<Value> x = floatInput(node);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() != 4)
    return node.fail("ImageScaler takes an NCHW input");
  Type et = type.getElementType();
  SmallVector<float> bias = node.attrFloats("bias");
  if (!type.isDynamicDim(1) && !bias.empty() &&
      static_cast<int64_t>(bias.size()) != type.getDimSize(1))
    return node.fail("bias has " + Twine(bias.size()) + " values for " +
                     Twine(type.getDimSize(1)) + " channels");
  Value y = node.make<MulOp>({*x, node.constScalar(et, node.attrFloat("scale", 1.0f))});
  if (!bias.empty())
    y = node.make<AddOp>(
        {y, node.constFloats(et, {static_cast<int64_t>(bias.size()), 1, 1},
                             SmallVector<double>(bias.begin(), bias.end()))});
  return y ? node.setOutput(0, y) : failure();
}

/// Scale: y = scale * x. Affine: y = alpha * x + beta. ScaledTanh: y = alpha * tanh(beta * x).
/// ParametricSoftplus: y = alpha * softplus(beta * x).
static LogicalResult convertScaledActivation(NodeContext &node) {
  FailureOr<Value> x = floatInput(node);
  if (failed(x))
    return failure();
  Type et = getElementTypeOrSelf(*x);
  StringRef op = node.node().op_type();
  auto scalar = [&](StringRef name, float defaultValue) {
    return node.constScalar(et, node.attrFloat(name, defaultValue));
  };
  Value y;
  if (op == "Scale") {
    y = node.make<MulOp>({*x, scalar("scale", 1.0f)});
  } else if (op == "Affine") {
    y = node.make<AddOp>({node.make<MulOp>({*x, scalar("alpha", 1.0f)}), scalar("beta", 0.0f)});
  } else {
    Value inner = node.make<MulOp>({*x, scalar("beta", 1.0f)});
    inner = op == "ScaledTanh" ? node.make<TanhOp>({inner}) : node.make<SoftplusOp>({inner});
    y = node.make<MulOp>({inner, scalar("alpha", 1.0f)});
  }
  return y ? node.setOutput(0, y) : failure();
}

/// Crop of NCHW: border = (left, top, right, bottom); with scale = (height, width) the crop
/// has that size from (top, left), else it drops the borders.
static LogicalResult convertCrop(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  SmallVector<int64_t> border = node.attrInts("border"), scale = node.attrInts("scale");
  if (type.getRank() != 4 || border.size() != 4 || (!scale.empty() && scale.size() != 2))
    return node.fail("Crop takes an NCHW input, 4 border values and 0 or 2 scale values");
  if (llvm::any_of(border, [](int64_t v) { return v < 0; }))
    return node.fail("Crop borders must not be negative");
  int64_t left = border[0], top = border[1], right = border[2], bottom = border[3];
  if (type.isDynamicDim(2) || type.isDynamicDim(3))
    return node.fail("Crop needs static spatial dims (fix input dims with --shape)");
  int64_t height = type.getDimSize(2), width = type.getDimSize(3);
  if (!scale.empty() && (scale[0] < 1 || scale[1] < 1 || scale[0] > height - top ||
                         scale[1] > width - left))
    return node.fail("the crop window lies outside the " + Twine(height) + "x" + Twine(width) +
                     " input");
  int64_t endH = scale.empty() ? height - bottom : top + scale[0];
  int64_t endW = scale.empty() ? width - right : left + scale[1];
  if (endH <= top || endW <= left)
    return node.fail("the crop window lies outside the " + Twine(height) + "x" + Twine(width) +
                     " input");
  Value y = node.sliceOf(*x, {top, left}, {endH, endW}, {2, 3});
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerLegacyConverters(ConverterMap &map) {
  map["ImageScaler"] = convertImageScaler;
  for (StringRef name : {"Scale", "Affine", "ScaledTanh", "ParametricSoftplus"})
    map[name] = convertScaledActivation;
  map["Crop"] = convertCrop;
}
