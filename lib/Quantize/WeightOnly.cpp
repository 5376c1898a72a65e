//===- WeightOnly.cpp - 4- and 8-bit weights in blocks: RTN and GPTQ -------===//
//
// --quantize=int4-weights rewrites each MatMul with a constant f32 weight [K, N] (and each Gemm
// that is such a MatMul plus a bias) into
// com.microsoft MatMulNBits (what onnxruntime's MatMulNBitsQuantizer writes and LLM exports
// ship): per output column, blocks of `block` weights along K, a scale per block and (unless
// symmetric) a 4-bit zero point. --quantize=int8-weights quantizes the same way in 8 bits and
// feeds the MatMul or Gemm from a DequantizeLinear blocked along K (opset 21). Round to
// nearest follows onnxruntime's MLAS quantizer bit for bit; GPTQ quantizes column by column
// along K and spreads each column's rounding error over the columns not yet quantized,
// weighted by the inverse Hessian of the calibration inputs.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include "catfish/Import/OnnxModel.h"

#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;
using llvm::createStringError;

namespace {

/// MLAS's range2scalezp (asymmetric) and range2scale (symmetric) for 4 bits, and the same
/// arithmetic for 8 (`bits`): unsigned values in [0, 2^bits - 1] around a zero point.
void blockParameters(ArrayRef<float> block, bool symmetric, int bits, float &scale,
                     uint8_t &zero) {
  float levels = static_cast<float>((1 << bits) - 1);
  auto middle = static_cast<uint8_t>(1 << (bits - 1));
  float low = std::numeric_limits<float>::max(), high = -low;
  for (float v : block) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  if (symmetric) {
    scale = (std::fabs(high) > std::fabs(low) ? high : low) / -static_cast<float>(middle);
    zero = middle;
    return;
  }
  low = std::min(low, 0.0f);
  high = std::max(high, 0.0f);
  scale = (high - low) / levels;
  float zeroPoint = scale != 0.0f ? 0.0f - low / scale : low;
  zero = static_cast<uint8_t>(std::roundf(std::clamp(zeroPoint, 0.0f, levels)));
}

uint8_t quantizeValue(float v, float scale, uint8_t zero, int bits) {
  float reciprocal = scale != 0.0f ? 1.0f / scale : 0.0f;
  return static_cast<uint8_t>(std::clamp(std::roundf(v * reciprocal + zero), 0.0f,
                                         static_cast<float>((1 << bits) - 1)));
}

/// How weights are blocked: values per block along K, bits per value, no zero points.
struct BlockFormat {
  int64_t block;
  int bits;
  bool symmetric;
};

/// A [N, K] weight (row n: output column n of the MatMul) quantized in blocks along K.
struct BlockQuantized {
  BlockQuantized(int64_t n, int64_t k, BlockFormat format)
      : k(k), block(format.block), bits(format.bits), symmetric(format.symmetric),
        blocks((k + block - 1) / block), values(n * blocks * block, 0), scales(n * blocks),
        zeros(n * blocks) {}

  /// Block `b` of row `r` takes its scale and zero point from `rows` as they are now (past K,
  /// zeros, as onnxruntime pads).
  void chooseParameters(ArrayRef<float> rows, int64_t r, int64_t b) {
    std::vector<float> padded(block);
    for (int64_t i = 0; i < block; ++i)
      padded[i] = b * block + i < k ? rows[r * k + b * block + i] : 0.0f;
    blockParameters(padded, symmetric, bits, scales[r * blocks + b], zeros[r * blocks + b]);
  }
  /// Quantizes `w` as element `c` of row `r`; returns its dequantized value.
  float set(int64_t r, int64_t c, float w) {
    int64_t b = c / block;
    float scale = scales[r * blocks + b];
    uint8_t zero = zeros[r * blocks + b];
    uint8_t v = quantizeValue(w, scale, zero, bits);
    values[(r * blocks + b) * block + c % block] = v;
    return (static_cast<float>(v) - zero) * scale;
  }
  double dequantized(int64_t r, int64_t c) const {
    int64_t b = c / block;
    return (static_cast<float>(values[(r * blocks + b) * block + c % block]) -
            zeros[r * blocks + b]) *
           static_cast<double>(scales[r * blocks + b]);
  }

  int64_t k, block;
  int bits;
  bool symmetric;
  int64_t blocks;
  /// [N, blocks * block] values in [0, 2^bits - 1].
  std::vector<uint8_t> values;
  std::vector<float> scales;
  std::vector<uint8_t> zeros;
};

/// Round to nearest, block by block.
BlockQuantized roundToNearest(ArrayRef<float> rows, int64_t n, int64_t k, BlockFormat format) {
  BlockQuantized q(n, k, format);
  int64_t block = format.block;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t b = 0; b < q.blocks; ++b) {
      q.chooseParameters(rows, r, b);
      for (int64_t c = b * block; c < std::min(k, (b + 1) * block); ++c)
        q.set(r, c, rows[r * k + c]);
    }
  return q;
}

/// The lower Cholesky factor L of `a` ([k, k], a = L L^T); false unless positive definite.
bool choleskyLower(ArrayRef<double> a, int64_t k, std::vector<double> &l) {
  l.assign(k * k, 0.0);
  for (int64_t j = 0; j < k; ++j) {
    double d = a[j * k + j];
    for (int64_t p = 0; p < j; ++p)
      d -= l[j * k + p] * l[j * k + p];
    if (!(d > 0))
      return false;
    d = std::sqrt(d);
    l[j * k + j] = d;
    for (int64_t i = j + 1; i < k; ++i) {
      double s = a[i * k + j];
      for (int64_t p = 0; p < j; ++p)
        s -= l[i * k + p] * l[j * k + p];
      l[i * k + j] = s / d;
    }
  }
  return true;
}

/// The upper Cholesky factor U of the inverse of `h` (h^-1 = U^T U) into `h`, as GPTQ uses
/// it; false unless `h` (dampened) is positive definite.
bool inverseCholeskyUpper(std::vector<double> &h, int64_t k) {
  std::vector<double> l;
  if (!choleskyLower(h, k, l))
    return false;
  // L^-1 (lower), then h^-1 = L^-T L^-1.
  std::vector<double> inv(k * k, 0.0);
  for (int64_t j = 0; j < k; ++j) {
    inv[j * k + j] = 1.0 / l[j * k + j];
    for (int64_t i = j + 1; i < k; ++i) {
      double s = 0;
      for (int64_t p = j; p < i; ++p)
        s += l[i * k + p] * inv[p * k + j];
      inv[i * k + j] = -s / l[i * k + i];
    }
  }
  std::vector<double> hinv(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int64_t p = i; p < k; ++p)
        s += inv[p * k + i] * inv[p * k + j];
      hinv[i * k + j] = hinv[j * k + i] = s;
    }
  // U = L'^T for h^-1 = L' L'^T.
  if (!choleskyLower(hinv, k, l))
    return false;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      h[i * k + j] = l[j * k + i];
  return true;
}

/// GPTQ (Frantar et al., 2022): column by column along K, each block's parameters taken when
/// the block starts, from the weights as the earlier columns' errors left them.
std::optional<BlockQuantized> gptq(std::vector<float> rows, int64_t n, int64_t k,
                                   BlockFormat format, std::vector<double> h) {
  // Inputs that never fire carry no information: their weights go to zero.
  double mean = 0;
  for (int64_t i = 0; i < k; ++i)
    mean += h[i * k + i];
  mean /= static_cast<double>(k);
  for (int64_t i = 0; i < k; ++i)
    if (h[i * k + i] == 0) {
      h[i * k + i] = 1;
      for (int64_t r = 0; r < n; ++r)
        rows[r * k + i] = 0;
    }
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] += 0.01 * (mean > 0 ? mean : 1.0);
  if (!inverseCholeskyUpper(h, k))
    return std::nullopt;

  BlockQuantized q(n, k, format);
  int64_t block = format.block;
  for (int64_t c = 0; c < k; ++c) {
    if (c % block == 0)
      for (int64_t r = 0; r < n; ++r)
        q.chooseParameters(rows, r, c / block);
    double diagonal = h[c * k + c];
    for (int64_t r = 0; r < n; ++r) {
      float w = rows[r * k + c];
      double error = (w - q.set(r, c, w)) / diagonal;
      for (int64_t j = c + 1; j < k; ++j)
        rows[r * k + j] -= static_cast<float>(error * h[c * k + j]);
    }
  }
  return q;
}

/// Rewrites candidate `c`'s node into com.microsoft MatMulNBits with the 4-bit weight `q`
/// ([N, K] in rows), as onnxruntime's MatMulNBitsQuantizer writes it.
void emitMatMulNBits(onnx::GraphProto &graph, FreshNames &fresh, const Candidate &c,
                     BlockQuantized &q, int64_t n, std::vector<onnx::TensorProto> &initializers) {
  int64_t k = q.k, block = q.block;
  // Two values a byte, the lower index in the low nibble; zero points likewise per row.
  // Past K, MLAS leaves bytes zero but for the partner of an odd K's last value, which is
  // the zero point; an unused zero-point nibble is 8.
  for (int64_t r = 0; r < n; ++r)
    for (int64_t col = k; col < q.blocks * block; ++col)
      q.values[r * q.blocks * block + col] =
          col == k && k % 2 ? q.zeros[r * q.blocks + col / block] : 0;
  std::vector<uint8_t> packed(n * q.blocks * block / 2);
  for (size_t i = 0; i < packed.size(); ++i)
    packed[i] = q.values[2 * i] | (q.values[2 * i + 1] << 4);
  std::string bName = fresh(c.weight + "_Q4"), sName = fresh(c.weight + "_scales");
  initializers.push_back(makeTensor(bName, onnx::TensorProto::UINT8, {n, q.blocks, block / 2},
                                    packed.data(), packed.size()));
  initializers.push_back(makeTensor(sName, onnx::TensorProto::FLOAT, {n * q.blocks},
                                    q.scales.data(), q.scales.size() * sizeof(float)));
  onnx::NodeProto &node = *graph.mutable_node(c.node);
  std::vector<std::string> inputs = {node.input(0), bName, sName};
  if (!q.symmetric) {
    int64_t rowBytes = (q.blocks + 1) / 2;
    std::vector<uint8_t> zeros(n * rowBytes, 0);
    for (int64_t r = 0; r < n; ++r) {
      if (q.blocks % 2)
        zeros[r * rowBytes + rowBytes - 1] = 0x80;
      for (int64_t b = 0; b < q.blocks; ++b)
        zeros[r * rowBytes + b / 2] |= q.zeros[r * q.blocks + b] << (4 * (b % 2));
    }
    inputs.push_back(fresh(c.weight + "_zero_points"));
    initializers.push_back(makeTensor(inputs.back(), onnx::TensorProto::UINT8, {n * rowBytes},
                                      zeros.data(), zeros.size()));
  }
  // A Gemm's bias is MatMulNBits' input 5.
  if (!c.bias.empty()) {
    inputs.resize(5);
    inputs.push_back(c.bias);
  }
  node = makeNode("MatMulNBits", node.name(), inputs, node.output(0),
                  {{"K", k}, {"N", n}, {"bits", 4}, {"block_size", block}});
  node.set_domain(std::string(kMicrosoftDomain));
}

/// Feeds candidate `c` its weight from a DequantizeLinear blocked along K of the 8-bit weight
/// `q` ([N, K] in rows), in the weight's own layout: int8 values without zero points where
/// symmetric, else uint8 values and zero points.
void emitBlockedDequantize(QdqEdits &edits, FreshNames &fresh, const Candidate &c,
                           const BlockQuantized &q, int64_t n) {
  int64_t k = q.k;
  // [K, N] (kAxis 0) or [N, K] (a Gemm's transB weight, kAxis 1).
  int64_t kAxis = 1 - c.weightAxis;
  auto at = [&](int64_t i, int64_t j) { return kAxis == 0 ? i * n + j : j * k + i; };
  auto blockAt = [&](int64_t b, int64_t j) { return kAxis == 0 ? b * n + j : j * q.blocks + b; };
  std::vector<uint8_t> values(n * k), zeros(n * q.blocks);
  std::vector<float> scales(n * q.blocks);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < k; ++i) {
      uint8_t v = q.values[(j * q.blocks + i / q.block) * q.block + i % q.block];
      values[at(i, j)] = q.symmetric ? static_cast<uint8_t>(v - 128) : v;
    }
    for (int64_t b = 0; b < q.blocks; ++b) {
      scales[blockAt(b, j)] = q.scales[j * q.blocks + b];
      zeros[blockAt(b, j)] = q.zeros[j * q.blocks + b];
    }
  }
  SmallVector<int64_t> dims = kAxis == 0 ? SmallVector<int64_t>{k, n} : SmallVector<int64_t>{n, k};
  SmallVector<int64_t> scaleDims = dims;
  scaleDims[kAxis] = q.blocks;
  int32_t type = q.symmetric ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
  std::string quantized = fresh(c.weight + "_quantized"), scale = fresh(c.weight + "_scale");
  std::string dequantized = fresh(c.weight + "_dequantized");
  edits.initializers.push_back(makeTensor(quantized, type, dims, values.data(), values.size()));
  edits.initializers.push_back(makeTensor(scale, onnx::TensorProto::FLOAT, scaleDims,
                                          scales.data(), scales.size() * sizeof(float)));
  std::vector<std::string> inputs = {quantized, scale};
  if (!q.symmetric) {
    inputs.push_back(fresh(c.weight + "_zero_point"));
    edits.initializers.push_back(makeTensor(inputs.back(), onnx::TensorProto::UINT8, scaleDims,
                                            zeros.data(), zeros.size()));
  }
  edits.weightNodes.push_back(makeNode("DequantizeLinear", fresh(c.weight + "_DequantizeLinear"),
                                       inputs, dequantized,
                                       {{"axis", kAxis}, {"block_size", q.block}}));
  edits.rewired[static_cast<size_t>(c.node)][c.weight] = dequantized;
}

} // namespace

llvm::Error quantize::rewriteWeightOnly(onnx::ModelProto &model, StringRef modelDir,
                                        std::vector<Candidate> &candidates,
                                        const QuantizeOptions &options,
                                        const std::map<std::string, Hessian> &hessians) {
  bool matMulNBits = options.scheme == "int4-weights";
  if (!matMulNBits)
    if (auto error = upgradeOpset(model, 21,
                                  "--quantize=int8-weights writes blocked DequantizeLinear "
                                  "(opset 21)"))
      return error;
  onnx::GraphProto *graph = model.mutable_graph();
  std::map<std::string, const onnx::TensorProto *> constants = constantTensors(*graph);
  FreshNames fresh(*graph);

  BlockFormat format{options.weightBlock, matMulNBits ? 4 : 8, options.weightSymmetric};
  std::vector<onnx::TensorProto> initializers;
  QdqEdits edits;
  std::set<std::string> replaced;
  for (Candidate &c : candidates) {
    if (!c.excluded.empty())
      continue;
    // The weight is [K, N] (MatMul, Gemm) or [N, K] (Gemm with transB): N rows of K here.
    const onnx::TensorProto *tensor = constants.at(c.weight);
    int64_t n = tensor->dims(c.weightAxis), k = tensor->dims(1 - c.weightAxis);
    auto values = readQuantizable(*tensor, modelDir, c);
    if (!values)
      return values.takeError();
    std::vector<float> rows(n * k);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        rows[j * k + i] = (*values)[c.weightAxis == 1 ? i * n + j : j * k + i];
    std::optional<BlockQuantized> q;
    if (options.weightMethod == "gptq") {
      const Hessian &h = hessians.at(c.activations.front());
      q = gptq(rows, n, k, format, h.matrix);
      if (!q)
        c.method = "rtn (GPTQ's dampened Hessian was not positive definite)";
    }
    if (!q)
      q = roundToNearest(rows, n, k, format);
    double signal = 0, noise = 0;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t col = 0; col < k; ++col) {
        double w = rows[r * k + col], e = w - q->dequantized(r, col);
        signal += w * w;
        noise += e * e;
      }
    if (noise > 0)
      c.weightSqnrDb = 10.0 * std::log10(signal / noise);
    c.weightScales = q->scales;
    if (matMulNBits) {
      emitMatMulNBits(*graph, fresh, c, *q, n, initializers);
      replaced.insert(c.weight);
    } else {
      emitBlockedDequantize(edits, fresh, c, *q, n);
    }
  }

  if (!matMulNBits) {
    edits.apply(*graph);
    return llvm::Error::success();
  }
  dropReplaced(*graph, replaced, initializers);
  if (!replaced.empty() && llvm::none_of(model.opset_import(), [](const auto &entry) {
        return entry.domain() == kMicrosoftDomain;
      })) {
    onnx::OperatorSetIdProto *entry = model.add_opset_import();
    entry->set_domain(std::string(kMicrosoftDomain));
    entry->set_version(1);
  }
  return llvm::Error::success();
}
