//===- Fp8Rewrite.cpp - FP8 E4M3 QDQ, per tensor and in DeepSeek's blocks -===//
//
// --quantize=fp8 writes the inputs of every weighted op (Conv, MatMul, Gemm with a constant
// weight) as FP8 E4M3FN with one scale per tensor: the weight's from its largest magnitude,
// the activation's from the calibrated range (what cuBLASLt's FP8 GEMMs take as scale
// pointers). Biases stay f32, as FP8 GEMM epilogues add them.
//
// --quantize=fp8-block is DeepSeek-V3's fine-grained recipe for GEMMs (MatMul, Gemm): weights
// scaled per 128x128 block, activations per 1x128 tile along K with the scale computed at run
// time from the tile's largest magnitude, so an outlier only coarsens its own tile. In ONNX
// (opset 21) the activation becomes
//
//   rows   = Reshape(x, [-1, K])
//   amax   = ReduceMax(Reshape(Pad(Abs(rows), K up to a multiple of 128), [-1, K/128, 128]), -1)
//   scale  = Max(amax, 1e-12) / 448
//   x'     = Reshape(DequantizeLinear(QuantizeLinear(rows, scale, block 128), scale), Shape(x))
//
// and a weight [K, N] a DequantizeLinear blocked along K whose scales repeat across each
// block's 128 columns. The floor keeps an all-zero tile's scale finite and non-zero.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include "catfish/Import/OnnxModel.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;

float quantize::roundToE4M3(float x) {
  if (std::isnan(x))
    return x;
  float magnitude = std::fabs(x);
  if (magnitude >= kE4M3Max)
    return std::copysign(kE4M3Max, x);
  // magnitude = m * 2^e with m in [0.5, 1); E4M3 keeps 3 fraction bits below the leading
  // one, and its subnormals share the smallest normal exponent, -6.
  int e = 0;
  std::frexp(magnitude, &e);
  float step = std::ldexp(1.0f, std::max(e - 1, -6) - 3);
  // Half a step above 448 rounds to 480, which E4M3FN lacks: saturate.
  float rounded = std::min(std::nearbyint(magnitude / step) * step, kE4M3Max);
  return std::copysign(rounded, x);
}

ActivationParams quantize::fp8ActivationParams(float rmin, float rmax) {
  ActivationParams p;
  p.rmin = rmin;
  p.rmax = rmax;
  double amax =
      std::max(std::fabs(static_cast<double>(rmin)), std::fabs(static_cast<double>(rmax)));
  double scale = amax / kE4M3Max;
  p.scale = scale < std::numeric_limits<float>::min() ? 1.0f : static_cast<float>(scale);
  return p;
}

namespace {

/// The E4M3FN byte of a value roundToE4M3 returned: sign, 4 exponent bits (bias 7), 3
/// fraction bits.
uint8_t encodeE4M3(float rounded) {
  uint8_t sign = std::signbit(rounded) ? 0x80 : 0;
  float magnitude = std::fabs(rounded);
  if (magnitude < std::ldexp(1.0f, -6))
    return sign | static_cast<uint8_t>(magnitude * 512.0f);
  int e = 0;
  float fraction = std::frexp(magnitude, &e);
  auto bits = static_cast<uint8_t>((fraction * 2.0f - 1.0f) * 8.0f);
  return sign | static_cast<uint8_t>((e - 1 + 7) << 3) | bits;
}

/// A constant weight in E4M3FN bytes with its scales.
struct Fp8Weight {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  std::optional<double> sqnrDb;
};

float blockScale(float amax) {
  float scale = amax / kE4M3Max;
  return scale < std::numeric_limits<float>::min() ? 1.0f : scale;
}

/// Quantizes `w` with element i's scale `scaleOf(i)` and measures the error.
template <typename ScaleOf>
void quantizeWith(ArrayRef<float> w, ScaleOf scaleOf, Fp8Weight &out) {
  out.bytes.resize(w.size());
  double signal = 0, noise = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    float scale = scaleOf(i);
    float q = roundToE4M3(w[i] / scale);
    out.bytes[i] = encodeE4M3(q);
    double error = static_cast<double>(w[i]) - static_cast<double>(q) * scale;
    signal += static_cast<double>(w[i]) * w[i];
    noise += error * error;
  }
  if (noise > 0)
    out.sqnrDb = 10.0 * std::log10(signal / noise);
}

Fp8Weight perTensor(ArrayRef<float> w) {
  float amax = 0;
  for (float v : w)
    amax = std::max(amax, std::fabs(v));
  Fp8Weight out;
  out.scales = {blockScale(amax)};
  quantizeWith(w, [&](size_t) { return out.scales[0]; }, out);
  return out;
}

/// A 2-D weight [rows, cols] in 128x128 blocks; the scales as the blocked DequantizeLinear
/// along `kAxis` takes them: [ceil(rows / 128), cols] for axis 0, [rows, ceil(cols / 128)]
/// for axis 1, each block's scale repeated along the other axis.
Fp8Weight perBlock(ArrayRef<float> w, int64_t rows, int64_t cols, int64_t kAxis) {
  int64_t blockRows = (rows + kFp8Block - 1) / kFp8Block;
  int64_t blockCols = (cols + kFp8Block - 1) / kFp8Block;
  std::vector<float> amax(blockRows * blockCols, 0.0f);
  auto blockOf = [&](size_t i) {
    int64_t r = static_cast<int64_t>(i) / cols, c = static_cast<int64_t>(i) % cols;
    return (r / kFp8Block) * blockCols + c / kFp8Block;
  };
  for (size_t i = 0; i < w.size(); ++i) {
    float &block = amax[blockOf(i)];
    block = std::max(block, std::fabs(w[i]));
  }
  std::vector<float> scales(amax.size());
  for (size_t b = 0; b < amax.size(); ++b)
    scales[b] = blockScale(amax[b]);
  Fp8Weight out;
  quantizeWith(w, [&](size_t i) { return scales[blockOf(i)]; }, out);
  if (kAxis == 0) {
    out.scales.resize(blockRows * cols);
    for (int64_t br = 0; br < blockRows; ++br)
      for (int64_t c = 0; c < cols; ++c)
        out.scales[br * cols + c] = scales[br * blockCols + c / kFp8Block];
  } else {
    out.scales.resize(rows * blockCols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t bc = 0; bc < blockCols; ++bc)
        out.scales[r * blockCols + bc] = scales[(r / kFp8Block) * blockCols + bc];
  }
  return out;
}

/// Builds the nodes and constants of the rewrite.
class Fp8Builder {
public:
  Fp8Builder(onnx::GraphProto &graph, QdqEdits &edits) : fresh(graph), edits(edits) {}

  std::string constant(const std::string &base, int32_t type, ArrayRef<int64_t> dims,
                       const void *data, size_t size) {
    std::string name = fresh(base);
    edits.initializers.push_back(makeTensor(name, type, dims, data, size));
    return name;
  }
  std::string i64(const std::string &base, ArrayRef<int64_t> values) {
    return constant(base, onnx::TensorProto::INT64, {static_cast<int64_t>(values.size())},
                    values.data(), values.size() * sizeof(int64_t));
  }
  std::string f32(const std::string &base, float value) {
    return constant(base, onnx::TensorProto::FLOAT, {}, &value, sizeof(float));
  }
  /// Appends `opType` to `nodes`; returns its output, named after `base`.
  std::string node(std::vector<onnx::NodeProto> &nodes, const std::string &opType,
                   const std::string &base, ArrayRef<std::string> inputs,
                   ArrayRef<std::pair<StringRef, int64_t>> ints = {}) {
    std::string output = fresh(base);
    nodes.push_back(makeNode(opType, fresh(base + "_" + opType), inputs, output, ints));
    return output;
  }

  /// Per-tensor Q -> DQ of activation `x` with scale `p.scale`, into `nodes`.
  std::string perTensorActivation(std::vector<onnx::NodeProto> &nodes, const std::string &x,
                                  const ActivationParams &p) {
    std::string scale = f32(x + "_scale", p.scale);
    uint8_t zero = 0;
    std::string zeroPoint = constant(x + "_zero_point", kFloat8E4M3FN, {}, &zero, 1);
    std::string q = node(nodes, "QuantizeLinear", x + "_quantized", {x, scale, zeroPoint});
    return node(nodes, "DequantizeLinear", x + "_dequantized", {q, scale, zeroPoint});
  }

  /// Q -> DQ of activation `x` (last axis K) in 1x128 tiles scaled at run time.
  std::string tiledActivation(std::vector<onnx::NodeProto> &nodes, const std::string &x,
                              int64_t k) {
    int64_t tiles = (k + kFp8Block - 1) / kFp8Block;
    std::string rows = node(nodes, "Reshape", x + "_rows", {x, i64(x + "_rows_shape", {-1, k})});
    std::string magnitude = node(nodes, "Abs", x + "_magnitude", {rows});
    if (tiles * kFp8Block != k)
      magnitude = node(nodes, "Pad", x + "_padded",
                       {magnitude, i64(x + "_pads", {0, 0, 0, tiles * kFp8Block - k})});
    std::string tiled = node(nodes, "Reshape", x + "_tiles",
                             {magnitude, i64(x + "_tiles_shape", {-1, tiles, kFp8Block})});
    std::string amax = node(nodes, "ReduceMax", x + "_tile_amax",
                            {tiled, i64(x + "_tile_axis", {-1})}, {{"keepdims", 0}});
    std::string floored =
        node(nodes, "Max", x + "_tile_amax_floored", {amax, f32(x + "_tile_floor", kFp8TileFloor)});
    std::string scale =
        node(nodes, "Div", x + "_tile_scale", {floored, f32(x + "_e4m3_max", kE4M3Max)});
    std::string q = node(nodes, "QuantizeLinear", x + "_quantized", {rows, scale},
                         {{"axis", 1},
                          {"block_size", kFp8Block},
                          {"output_dtype", int64_t(kFloat8E4M3FN)}});
    std::string d = node(nodes, "DequantizeLinear", x + "_dequantized_rows", {q, scale},
                         {{"axis", 1}, {"block_size", kFp8Block}});
    std::string shape = node(nodes, "Shape", x + "_shape", {x});
    return node(nodes, "Reshape", x + "_dequantized", {d, shape});
  }

  /// The E4M3 weight, its scales and its DequantizeLinear (blocked along `kAxis` if set).
  std::string weight(const std::string &name, ArrayRef<int64_t> dims, const Fp8Weight &q,
                     std::optional<int64_t> kAxis) {
    std::string bytes =
        constant(name + "_quantized", kFloat8E4M3FN, dims, q.bytes.data(), q.bytes.size());
    SmallVector<int64_t> scaleDims;
    if (kAxis) {
      scaleDims.assign(dims.begin(), dims.end());
      scaleDims[*kAxis] = (dims[*kAxis] + kFp8Block - 1) / kFp8Block;
    }
    std::string scale = constant(name + "_scale", onnx::TensorProto::FLOAT, scaleDims,
                                 q.scales.data(), q.scales.size() * sizeof(float));
    SmallVector<std::pair<StringRef, int64_t>> ints;
    if (kAxis)
      ints = {{"axis", *kAxis}, {"block_size", kFp8Block}};
    return node(edits.weightNodes, "DequantizeLinear", name + "_dequantized", {bytes, scale},
                ints);
  }

private:
  FreshNames fresh;
  QdqEdits &edits;
};

} // namespace

llvm::Error quantize::rewriteToFp8(onnx::ModelProto &model, StringRef modelDir,
                                   std::vector<Candidate> &candidates,
                                   const llvm::StringMap<ActivationParams> &params,
                                   bool blocked) {
  if (auto error = upgradeOpset(model, blocked ? 21 : 19,
                                blocked ? "--quantize=fp8-block writes blocked "
                                          "QuantizeLinear/DequantizeLinear (opset 21)"
                                        : "--quantize=fp8 writes float8 "
                                          "QuantizeLinear/DequantizeLinear (opset 19)"))
    return error;
  onnx::GraphProto *graph = model.mutable_graph();
  std::map<std::string, const onnx::TensorProto *> constants = constantTensors(*graph);
  QdqEdits edits;
  Fp8Builder build(*graph, edits);
  std::map<std::string, std::string> activationDequantized;
  std::map<std::string, std::pair<std::string, Fp8Weight>> weights;

  for (Candidate &c : candidates) {
    if (!c.excluded.empty())
      continue;
    auto node = static_cast<size_t>(c.node);
    const onnx::TensorProto *tensor = constants.at(c.weight);
    SmallVector<int64_t> dims(tensor->dims().begin(), tensor->dims().end());
    // The weight's K axis: the one not along the output columns (2-D weights).
    int64_t kAxis = 1 - c.weightAxis;
    for (const std::string &name : c.activations) {
      std::string key = blocked ? name + "@" + std::to_string(dims[kAxis]) : name;
      auto found = activationDequantized.find(key);
      if (found == activationDequantized.end()) {
        std::string dequantized =
            blocked ? build.tiledActivation(edits.before[node], name, dims[kAxis])
                    : build.perTensorActivation(edits.before[node], name,
                                                params.find(name)->second);
        found = activationDequantized.emplace(key, dequantized).first;
      }
      edits.rewired[node][name] = found->second;
    }
    std::string weightKey = c.weight + "@" + std::to_string(kAxis);
    auto existing = weights.find(weightKey);
    if (existing == weights.end()) {
      auto values = readQuantizable(*tensor, modelDir, c);
      if (!values)
        return values.takeError();
      Fp8Weight q = blocked ? perBlock(*values, dims[0], dims[1], kAxis) : perTensor(*values);
      std::string dequantized =
          build.weight(c.weight, dims, q, blocked ? std::optional(kAxis) : std::nullopt);
      // The initializer holds the bytes now; only the scales and the error are kept.
      q.bytes = {};
      existing = weights.emplace(weightKey, std::pair(dequantized, std::move(q))).first;
    }
    const Fp8Weight &q = existing->second.second;
    c.weightScales = q.scales;
    c.weightSqnrDb = q.sqnrDb;
    edits.rewired[node][c.weight] = existing->second.first;
  }
  edits.apply(*graph);
  return llvm::Error::success();
}
