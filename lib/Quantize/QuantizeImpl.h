//===- QuantizeImpl.h - internals of the quantizer --------------*- C++ -*-===//
#ifndef CATFISH_LIB_QUANTIZE_QUANTIZEIMPL_H
#define CATFISH_LIB_QUANTIZE_QUANTIZEIMPL_H

#include "catfish/Quantize/Quantize.h"

#include "catfish/runtime.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mlir::catfish::quantize {

//===----------------------------------------------------------------------===//
// Samples and runs
//===----------------------------------------------------------------------===//

/// The sample folders of a calibration or evaluation directory, sorted by name. `what` names
/// the directory's role in errors ("--calibration-data").
llvm::Expected<std::vector<std::string>> listSamples(StringRef dir, StringRef what);

/// A model compiled for the host CPU and loaded into the runtime, run on samples read from
/// `.npy` files. Every output is read back as doubles.
class ModelRunner {
public:
  /// Compiles the serialized model `bytes` (named `path`, whose directory holds its external
  /// data) to a temporary artifact and loads it. The compile has a context of its own, so
  /// that its copies of the weights are gone before the artifact's are loaded.
  static llvm::Expected<std::unique_ptr<ModelRunner>>
  create(StringRef path, ArrayRef<char> bytes, const CompileOptions &compile);
  ~ModelRunner();
  ModelRunner(const ModelRunner &) = delete;
  ModelRunner &operator=(const ModelRunner &) = delete;

  /// Runs the sample in folder `sampleDir`: one `<input>.npy` per graph input, whose dtype
  /// and shape must be the input's.
  llvm::Error run(StringRef sampleDir);

  /// The index of output `name`, if the model has one.
  std::optional<size_t> findOutput(StringRef name) const;
  /// Output `name` of the last run, as doubles, and its shape.
  llvm::Error output(StringRef name, std::vector<double> &values,
                     std::vector<int64_t> &shape) const;
  catfish_tensor_info_t outputInfo(size_t index) const;
  /// Output `index` of the last run, as doubles, and its shape.
  llvm::Error output(size_t index, std::vector<double> &values,
                     std::vector<int64_t> &shape) const;

private:
  ModelRunner() = default;
  catfish_model_t *model = nullptr;
  catfish_session_t *session = nullptr;
};

//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

/// What one tensor looked like over the calibration samples, in two streamed passes: its
/// range, then (for the histogram calibrators) the histogram onnxruntime's HistogramCollector
/// builds over all samples at once: of the values over [-t, t], t the largest magnitude
/// (entropy), or of the magnitudes over their own range (percentile, symmetric by default).
/// Non-finite values are left out: they would make the scale infinite.
class TensorStatistics {
public:
  void addRange(ArrayRef<double> values);
  /// Starts the histogram pass with `bins` bins, of the magnitudes if `magnitudes`.
  void startHistogram(unsigned bins, bool magnitudes);
  void addToHistogram(ArrayRef<double> values);
  float min() const { return lowest; }
  float max() const { return highest; }
  /// The range the calibrator `calibrator` picks ("minmax", "percentile", "entropy", "mse");
  /// "mse" measures the error of quantizing to int8 or (`fp8`) E4M3.
  std::pair<float, float> range(StringRef calibrator, double percentile, bool fp8) const;

private:
  std::pair<float, float> percentileRange(double percentile) const;
  std::pair<float, float> entropyRange() const;
  std::pair<float, float> mseRange(bool fp8) const;
  /// Bin edge `i` of the histogram (numpy's float32 linspace).
  float edge(size_t i) const;

  bool seen = false;
  float lowest = 0, highest = 0, smallestMagnitude = 0;
  /// The histogram: of magnitudes or values, over [lo, hi].
  bool magnitudes = false;
  float lo = 0, hi = 0;
  std::vector<int64_t> counts;
};

/// Histogram bins each calibrator keeps (onnxruntime's defaults; 2048 for mse): 0 for minmax.
unsigned histogramBins(StringRef calibrator);

//===----------------------------------------------------------------------===//
// Placement and the QDQ rewrite
//===----------------------------------------------------------------------===//

/// Asymmetric int8 parameters of one activation tensor, as onnxruntime computes them.
struct ActivationParams {
  float rmin = 0, rmax = 0;
  float scale = 1;
  int32_t zeroPoint = 0;
};
ActivationParams activationParams(float rmin, float rmax);

/// `x` quantized with `p` and dequantized: asymmetric int8, or (`fp8`) E4M3 with p.scale.
double fakeQuantize(const ActivationParams &p, double x, bool fp8);

/// An op the quantizer considered: a weighted op (Conv, MatMul, Gemm with a constant weight)
/// or a residual Add.
struct Candidate {
  int node = -1;
  /// The node's name, or its first output's where it has none.
  std::string name;
  std::string opType;
  std::string output;
  /// The activation inputs quantized per tensor (one, or two for a residual Add).
  std::vector<std::string> activations;
  /// The constant weight, quantized per output channel along `weightAxis`; empty for Add.
  std::string weight;
  int64_t weightAxis = 0;
  /// The f32 bias that becomes int32 at scale s_x * s_w (Conv, Gemm); empty if none.
  std::string bias;
  /// Why the op stays in float; empty if it is quantized.
  std::string excluded;
  /// int4-weights: how the weight was rounded, where it is not the requested method.
  std::string method;
  /// Filled by the rewrite: per-channel weight scales and the weight's SQNR in dB (nullopt:
  /// the weight is exact).
  std::vector<float> weightScales;
  std::optional<double> weightSqnrDb;
};

/// The ops of the top-level graph that the int8 scheme would quantize, in node order, with
/// the default exclusions (LM head, MoE router) and the user's applied.
llvm::Expected<std::vector<Candidate>> findCandidates(const onnx::ModelProto &model,
                                                      const QuantizeOptions &options);

/// The graph's constants by name: initializers and the values of Constant nodes.
std::map<std::string, const onnx::TensorProto *> constantTensors(const onnx::GraphProto &graph);

/// Names not used anywhere in a graph (its subgraphs included), made from a base name.
class FreshNames {
public:
  explicit FreshNames(const onnx::GraphProto &graph);
  std::string operator()(const std::string &base);

private:
  void collect(const onnx::GraphProto &graph);
  llvm::StringSet<> used;
};

/// The f32 elements of constant `tensor` (a weight or bias of candidate `c`), which must all
/// be finite: a NaN or infinity has no quantized value.
llvm::Expected<std::vector<float>> readQuantizable(const onnx::TensorProto &tensor,
                                                   StringRef modelDir, const Candidate &c);

/// Every name `node` reads, its subgraphs' included (their outputs too).
void collectReads(const onnx::NodeProto &node, llvm::StringSet<> &read);

/// Removes the weights in `replaced` that nothing reads any more (initializers, Constant
/// nodes, graph inputs naming them), then appends `added` to the initializers.
void dropReplaced(onnx::GraphProto &graph, const std::set<std::string> &replaced,
                  std::vector<onnx::TensorProto> &added);

/// `model` with extra graph outputs `names` (those it lacks), serialized.
std::string withOutputs(const onnx::ModelProto &model, ArrayRef<std::string> names);

/// A tensor named `name` of ONNX type `dataType` holding `size` bytes at `data` as raw data.
onnx::TensorProto makeTensor(const std::string &name, int32_t dataType, ArrayRef<int64_t> dims,
                             const void *data, size_t size);
template <typename T>
onnx::TensorProto makeTensor(const std::string &name, int32_t dataType, ArrayRef<int64_t> dims,
                             ArrayRef<T> values) {
  return makeTensor(name, dataType, dims, values.data(), values.size() * sizeof(T));
}

/// A default-domain node with one output and integer attributes `ints`.
onnx::NodeProto makeNode(const std::string &opType, const std::string &name,
                         ArrayRef<std::string> inputs, const std::string &output,
                         ArrayRef<std::pair<StringRef, int64_t>> ints = {});

/// What a QDQ rewrite adds to a graph: new initializers, weight dequantizations (placed
/// first), nodes to place before original nodes, and inputs of original nodes to rewire.
struct QdqEdits {
  std::vector<onnx::TensorProto> initializers;
  std::vector<onnx::NodeProto> weightNodes;
  /// Per original node index, the nodes that compute its rewired inputs.
  std::map<size_t, std::vector<onnx::NodeProto>> before;
  /// Per original node index: old input name -> new one.
  std::map<size_t, std::map<std::string, std::string>> rewired;

  /// Rebuilds `graph`'s node list with the edits; the constants replaced everywhere leave
  /// the model unless something else still reads them.
  void apply(onnx::GraphProto &graph);
};

/// Rewrites `model` into a QDQ model: weights quantized per channel, biases to int32, each
/// quantized activation through QuantizeLinear -> DequantizeLinear with `params`. Fills the
/// candidates' weight fields.
llvm::Error rewriteToQdq(onnx::ModelProto &model, StringRef modelDir,
                         std::vector<Candidate> &candidates,
                         const llvm::StringMap<ActivationParams> &params);

//===----------------------------------------------------------------------===//
// FP8
//===----------------------------------------------------------------------===//

/// TensorProto.FLOAT8E4M3FN (the vendored onnx-ml.proto's enum predates it).
constexpr int32_t kFloat8E4M3FN = 17;
/// The largest finite FP8 E4M3FN value.
constexpr float kE4M3Max = 448.0f;
/// The width of a DeepSeek-style activation tile and weight block along K (and N).
constexpr int64_t kFp8Block = 128;
/// The smallest tile maximum a run-time tile scale divides by: an all-zero tile gets a tiny
/// scale, never a zero one (0 / 0 would be NaN).
constexpr float kFp8TileFloor = 1e-12f;

/// `x` rounded to the nearest FP8 E4M3FN value (ties to even), saturated to +-448; NaN stays.
float roundToE4M3(float x);

/// Per-tensor FP8 parameters of an activation: scale = max |x| / 448 (1 for a range narrower
/// than the smallest normal f32), zero point 0.
ActivationParams fp8ActivationParams(float rmin, float rmax);

/// Rewrites `model` into an FP8 E4M3 QDQ model: per tensor (weights and activations, the
/// activation scales from `params`; opset 19) or, with `blocked`, DeepSeek-V3's fine-grained
/// scaling (weights per 128x128 block, activations per 1x128 tile along K with scales computed
/// at run time; opset 21). Raises the model's opset as needed. Fills the candidates' weight
/// fields.
llvm::Error rewriteToFp8(onnx::ModelProto &model, StringRef modelDir,
                         std::vector<Candidate> &candidates,
                         const llvm::StringMap<ActivationParams> &params, bool blocked);

/// Raises the default-domain opset of `model` to `target` (no change if it is there already),
/// rewriting the node forms whose meaning changed between opset 13 and 21 (Reduce* axes
/// becoming an input, Split's num_outputs, DFT's axis, RoiAlign's and GridSample's modes);
/// `why` names what needs the opset in errors. The IR version rises with it.
llvm::Error upgradeOpset(onnx::ModelProto &model, int64_t target, StringRef why);

/// X^T X of a MatMul input over the calibration samples, X its rows of K.
struct Hessian {
  int64_t k = 0;
  std::vector<double> matrix;
  void add(ArrayRef<double> values);
};

/// Whether `scheme` quantizes weights only (int4-weights, int8-weights).
inline bool isWeightOnly(StringRef scheme) {
  return scheme == "int4-weights" || scheme == "int8-weights";
}

/// Quantizes the weight of each quantized candidate (a MatMul or Gemm with a constant weight)
/// in blocks of options.weightBlock along K, rounded to nearest or by GPTQ with `hessians`
/// (by activation name): int4-weights rewrites the op into com.microsoft MatMulNBits,
/// int8-weights feeds it from a DequantizeLinear blocked along K (opset 21).
llvm::Error rewriteWeightOnly(onnx::ModelProto &model, StringRef modelDir,
                              std::vector<Candidate> &candidates, const QuantizeOptions &options,
                              const std::map<std::string, Hessian> &hessians);

} // namespace mlir::catfish::quantize

#endif // CATFISH_LIB_QUANTIZE_QUANTIZEIMPL_H
