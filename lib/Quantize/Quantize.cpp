//===- Quantize.cpp - calibrate, rewrite to QDQ, measure, fall back -------===//
//
// 1. Find the ops to quantize (QdqRewrite.cpp) and the activations they read.
// 2. Compile the float model with those activations as extra outputs, run it on the
//    calibration samples and keep each activation's statistics (Calibration.cpp), streamed:
//    one sample's tensors in memory at a time.
// 3. Rewrite the model to QDQ with the ranges the calibrator picks.
// 4. For the report or an accuracy target: run the float and the quantized model side by side
//    on the evaluation samples and compare every output and every quantized op's tensors.
//    While a target is missed, move the most sensitive ops back to float and measure again.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include "catfish/Import/OnnxModel.h"

#include "host_tensor.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;
using llvm::createStringError;
namespace json = llvm::json;

namespace {

constexpr StringLiteral kSchemes[] = {"int8", "fp8", "fp8-block", "int8-weights",
                                      "int4-weights"};
constexpr StringLiteral kCalibrators[] = {"minmax", "percentile", "entropy", "mse"};

/// Whether the scheme's activation scales come from calibrated ranges (fp8-block's are
/// computed at run time, weight-only schemes have none).
bool calibratesActivations(StringRef scheme) { return scheme == "int8" || scheme == "fp8"; }

/// Whether the scheme takes activation statistics (or GPTQ's Hessians) from the samples.
bool needsCalibration(const QuantizeOptions &options) {
  return calibratesActivations(options.scheme) ||
         (isWeightOnly(options.scheme) && options.weightMethod == "gptq");
}

llvm::Error validate(const QuantizeOptions &options) {
  if (!llvm::is_contained(kSchemes, options.scheme))
    return createStringError("unknown --quantize=" + options.scheme +
                             " (expected int8, fp8, fp8-block, int8-weights or int4-weights)");
  bool weightOnly = isWeightOnly(options.scheme);
  if (options.weightMethod != "rtn" && options.weightMethod != "gptq")
    return createStringError("unknown --weight-method=" + options.weightMethod +
                             " (expected rtn or gptq)");
  if (!llvm::is_contained({16, 32, 64, 128, 256}, options.weightBlock))
    return createStringError("--weight-block must be 16, 32, 64, 128 or 256, got " +
                             Twine(options.weightBlock));
  if (!llvm::is_contained(kCalibrators, options.calibrator))
    return createStringError("unknown --calibrator=" + options.calibrator +
                             " (expected minmax, percentile, entropy or mse)");
  unsigned minBins = options.calibrator == "entropy" ? 128 : 2;
  if (options.bins && (options.bins < minBins || options.bins > (1u << 20)))
    return createStringError("--calibration-bins must be in [" + Twine(minBins) +
                             ", 1048576] for --calibrator=" + options.calibrator + ", got " +
                             Twine(options.bins));
  if (!(options.percentile > 0 && options.percentile <= 100))
    return createStringError(
        llvm::formatv("--calibration-percentile must be in (0, 100], got {0}", options.percentile)
            .str());
  bool measured = options.report || options.minSqnrDb || options.minCosine || options.minTop1;
  if (options.calibrationDir.empty() && needsCalibration(options))
    return createStringError("--quantize=" + options.scheme +
                             (weightOnly ? " --weight-method=gptq" : "") +
                             " needs --calibration-data DIR (one folder per sample, one "
                             "<input>.npy per graph input)");
  if (options.calibrationDir.empty() && options.evaluationDir.empty() && measured)
    return createStringError("the accuracy report and target need --evaluation-data DIR or "
                             "--calibration-data DIR");
  if (options.maxFallbackTrials == 0)
    return createStringError("--max-fallback-trials must be at least 1");
  return llvm::Error::success();
}

/// Signal-to-noise ratio in dB; null where it is infinite (no noise) or undefined.
json::Value decibels(double signal, double noise) {
  double db = 10.0 * std::log10(signal / noise);
  if (!(noise > 0 && signal > 0) || !std::isfinite(db))
    return nullptr;
  return db;
}

/// A number, or null where it is not finite (JSON has no NaN or infinity).
json::Value finiteOrNull(double value) {
  if (!std::isfinite(value))
    return nullptr;
  return value;
}

/// A reference tensor against a test tensor, accumulated over samples.
struct Comparison {
  double signal = 0, noise = 0, dot = 0, testEnergy = 0, maxError = 0;
  uint64_t rows = 0, agreeing = 0;
  /// Elements where the reference is not finite (masked scores, log-probabilities of zero)
  /// and the test differs from it: no SQNR can count them, so they are counted apart.
  uint64_t nonFiniteMismatches = 0;

  void add(ArrayRef<double> reference, ArrayRef<double> test, ArrayRef<int64_t> shape) {
    for (size_t i = 0; i < reference.size(); ++i) {
      double r = reference[i], t = test[i];
      if (!std::isfinite(r) || !std::isfinite(t)) {
        bool same = r == t || (std::isnan(r) && std::isnan(t));
        nonFiniteMismatches += !same;
        continue;
      }
      double e = r - t;
      signal += r * r;
      noise += e * e;
      dot += r * t;
      testEnergy += t * t;
      maxError = std::max(maxError, std::fabs(e));
    }
    // Argmax agreement along the last axis (classifier scores, language-model logits; a
    // rank-1 output is one row).
    if (shape.empty() || shape.back() < 2)
      return;
    auto width = static_cast<size_t>(shape.back());
    for (size_t row = 0; row + width <= reference.size(); row += width) {
      auto argmax = [&](ArrayRef<double> v) {
        return std::max_element(v.begin() + row, v.begin() + row + width) - v.begin();
      };
      ++rows;
      agreeing += argmax(reference) == argmax(test);
    }
  }
  json::Value sqnr() const { return decibels(signal, noise); }
  double sqnrValue() const {
    if (nonFiniteMismatches)
      return -std::numeric_limits<double>::infinity();
    if (noise <= 0)
      return std::numeric_limits<double>::infinity();
    return signal <= 0 ? -std::numeric_limits<double>::infinity()
                       : 10.0 * std::log10(signal / noise);
  }
  double cosine() const {
    if (nonFiniteMismatches)
      return 0.0;
    if (signal == 0 || testEnergy == 0)
      return signal == testEnergy ? 1.0 : 0.0;
    double c = dot / std::sqrt(signal * testEnergy);
    return std::isfinite(c) ? c : 0.0;
  }
  std::optional<double> agreement() const {
    if (rows == 0)
      return std::nullopt;
    return static_cast<double>(agreeing) / static_cast<double>(rows);
  }
};

/// One quantized activation seen on the evaluation samples.
struct ActivationError {
  /// The float tensor against its fake quantization with the op's parameters.
  double signal = 0, noise = 0;
  uint64_t saturated = 0, count = 0;
  /// The quantized model's tensor (before its own quantization) against the float one.
  Comparison upstream;
};

/// Quantizes `x` (of shape `shape`) as `scheme` quantizes an activation with parameters `p`
/// (none where the scheme has no static ones) and adds the error to `e`.
void addQuantizationError(StringRef scheme, const ActivationParams *p, ArrayRef<double> x,
                          ArrayRef<int64_t> shape, ActivationError &e) {
  auto add = [&](double value, double quantized, bool saturated) {
    double error = value - quantized;
    e.signal += value * value;
    e.noise += error * error;
    e.saturated += saturated;
    ++e.count;
  };
  if (scheme == "fp8-block") {
    // Tiles of 128 along the last axis, each scaled by its own largest magnitude (in f32, as
    // the model computes it).
    auto k = static_cast<size_t>(shape.empty() ? 1 : shape.back());
    for (size_t row = 0; k && row < x.size(); row += k)
      for (size_t tile = row; tile < row + k; tile += kFp8Block) {
        size_t end = std::min(tile + kFp8Block, row + k);
        float amax = 0;
        for (size_t i = tile; i < end; ++i)
          amax = std::max(amax, std::fabs(static_cast<float>(x[i])));
        float scale = std::max(amax, kFp8TileFloor) / kE4M3Max;
        for (size_t i = tile; i < end; ++i)
          add(x[i], roundToE4M3(static_cast<float>(x[i]) / scale) * scale, false);
      }
    return;
  }
  if (!p)
    return;
  bool fp8 = scheme == "fp8";
  float low = fp8 ? -kE4M3Max * p->scale : (-128.0f - static_cast<float>(p->zeroPoint)) * p->scale;
  float high = fp8 ? kE4M3Max * p->scale : (127.0f - static_cast<float>(p->zeroPoint)) * p->scale;
  for (double value : x)
    add(value, fakeQuantize(*p, value, fp8), value < low || value > high);
}

struct Evaluation {
  std::vector<std::string> outputNames;
  std::vector<Comparison> outputs;
  std::map<std::string, ActivationError> activations;
  std::map<std::string, Comparison> opOutputs;
  std::string quantizedOnnx;

  bool meets(const QuantizeOptions &options) const {
    for (const Comparison &c : outputs) {
      if (options.minSqnrDb && c.sqnrValue() < *options.minSqnrDb)
        return false;
      if (options.minCosine && c.cosine() < *options.minCosine)
        return false;
      if (options.minTop1 && c.agreement() && *c.agreement() < *options.minTop1)
        return false;
    }
    return true;
  }
};

/// The activations the quantized candidates read, each once, in node order.
std::vector<std::string> quantizedActivations(ArrayRef<Candidate> candidates) {
  std::vector<std::string> names;
  for (const Candidate &c : candidates)
    if (c.excluded.empty())
      for (const std::string &name : c.activations)
        if (!llvm::is_contained(names, name))
          names.push_back(name);
  return names;
}

/// Everything a quantization run shares.
struct Session {
  StringRef path;
  std::string modelDir;
  const QuantizeOptions &options;
  const CompileOptions &compile;
  onnx::ModelProto model;
  std::vector<Candidate> candidates;
  llvm::StringMap<ActivationParams> params;
  std::map<std::string, Hessian> hessians;
  /// The tensors compared between the float and the quantized model.
  std::vector<std::string> probes;
  std::unique_ptr<ModelRunner> floatRunner;

  /// The rewritten model for the candidates as they stand.
  llvm::Expected<std::string> quantizedModel() {
    onnx::ModelProto copy = model;
    llvm::Error error = llvm::Error::success();
    if (isWeightOnly(options.scheme))
      error = rewriteWeightOnly(copy, modelDir, candidates, options, hessians);
    else if (options.scheme == "int8")
      error = rewriteToQdq(copy, modelDir, candidates, params);
    else
      error = rewriteToFp8(copy, modelDir, candidates, params, options.scheme == "fp8-block");
    if (error)
      return std::move(error);
    externalData = llvm::any_of(copy.graph().initializer(), [](const onnx::TensorProto &t) {
      return t.data_location() == onnx::TensorProto::EXTERNAL;
    });
    return copy.SerializeAsString();
  }
  bool externalData = false;

  llvm::Expected<Evaluation> evaluate(ArrayRef<std::string> samples) {
    Evaluation result;
    auto quantized = quantizedModel();
    if (!quantized)
      return quantized.takeError();
    result.quantizedOnnx = std::move(*quantized);
    auto parsed = parseOnnxModel(ArrayRef(result.quantizedOnnx.data(),
                                          result.quantizedOnnx.size()));
    if (!parsed)
      return parsed.takeError();
    std::string probed = withOutputs(*parsed, probes);
    auto runner = ModelRunner::create(path, ArrayRef(probed.data(), probed.size()), compile);
    if (!runner)
      return runner.takeError();
    for (const auto &out : model.graph().output())
      result.outputNames.push_back(out.name());
    result.outputs.resize(result.outputNames.size());
    std::vector<double> reference, test;
    std::vector<int64_t> shape, testShape;
    // Reads `name` from both models; false if a model lacks it.
    auto fetch = [&](const std::string &name) -> llvm::Expected<bool> {
      auto a = floatRunner->findOutput(name), b = (*runner)->findOutput(name);
      if (!a || !b)
        return false;
      if (auto error = floatRunner->output(*a, reference, shape))
        return std::move(error);
      if (auto error = (*runner)->output(*b, test, testShape))
        return std::move(error);
      if (shape != testShape)
        return createStringError("tensor '" + name +
                                 "' has different shapes in the float and quantized models");
      return true;
    };
    std::vector<std::string> activations = quantizedActivations(candidates);
    for (const std::string &sample : samples) {
      if (auto error = floatRunner->run(sample))
        return std::move(error);
      if (auto error = (*runner)->run(sample))
        return std::move(error);
      for (auto [name, comparison] : llvm::zip(result.outputNames, result.outputs)) {
        auto found = fetch(name);
        if (!found)
          return found.takeError();
        if (*found)
          comparison.add(reference, test, shape);
      }
      for (const Candidate &c : candidates) {
        if (!c.excluded.empty())
          continue;
        auto found = fetch(c.output);
        if (!found)
          return found.takeError();
        if (*found)
          result.opOutputs[c.output].add(reference, test, shape);
      }
      // Each quantized activation once, however many ops read it.
      for (const std::string &name : activations) {
        auto input = fetch(name);
        if (!input)
          return input.takeError();
        if (!*input)
          continue;
        ActivationError &error = result.activations[name];
        error.upstream.add(reference, test, {});
        auto found = params.find(name);
        addQuantizationError(options.scheme, found == params.end() ? nullptr : &found->second,
                             reference, shape, error);
      }
    }
    return result;
  }
};

/// Runs the float model on each sample and hands it each of `tensors`, one at a time.
llvm::Error forEachTensor(
    Session &s, ArrayRef<std::string> samples, ArrayRef<std::string> tensors,
    function_ref<void(const std::string &, ArrayRef<double>, ArrayRef<int64_t>)> use) {
  std::vector<double> values;
  std::vector<int64_t> shape;
  for (const std::string &sample : samples) {
    if (auto error = s.floatRunner->run(sample))
      return error;
    for (const std::string &name : tensors) {
      if (auto error = s.floatRunner->output(name, values, shape))
        return error;
      use(name, values, shape);
    }
  }
  return llvm::Error::success();
}

/// The calibration passes: ranges, then (percentile, entropy) histograms.
llvm::Error calibrate(Session &s, ArrayRef<std::string> samples,
                      ArrayRef<std::string> tensors) {
  std::map<std::string, TensorStatistics> statistics;
  unsigned bins = s.options.bins ? s.options.bins : histogramBins(s.options.calibrator);
  for (int pass = 0; pass < (bins ? 2 : 1); ++pass) {
    if (pass == 1)
      for (auto &[name, stats] : statistics)
        stats.startHistogram(bins, s.options.calibrator == "percentile");
    if (auto error = forEachTensor(s, samples, tensors,
                                   [&](const std::string &name, ArrayRef<double> values,
                                       ArrayRef<int64_t>) {
                                     if (pass == 0)
                                       statistics[name].addRange(values);
                                     else
                                       statistics[name].addToHistogram(values);
                                   }))
      return error;
  }
  for (const std::string &name : tensors) {
    auto [low, high] =
        statistics[name].range(s.options.calibrator, s.options.percentile,
                               s.options.scheme == "fp8");
    s.params[name] = s.options.scheme == "fp8" ? fp8ActivationParams(low, high)
                                               : activationParams(low, high);
  }
  return llvm::Error::success();
}

/// X^T X of each MatMul input over the samples, for GPTQ.
llvm::Error accumulateHessians(Session &s, ArrayRef<std::string> samples,
                               ArrayRef<std::string> tensors) {
  if (s.options.weightMethod != "gptq")
    return llvm::Error::success();
  return forEachTensor(s, samples, tensors,
                       [&](const std::string &name, ArrayRef<double> values,
                           ArrayRef<int64_t> shape) {
                         Hessian &h = s.hessians[name];
                         h.k = shape.empty() ? 1 : shape.back();
                         h.add(values);
                       });
}

/// Compiles the float model with the tensors to calibrate and compare as extra outputs, then
/// calibrates (int8, fp8) or gathers the Hessians GPTQ needs (weight-only schemes).
llvm::Error calibrateAll(Session &s, ArrayRef<std::string> samples) {
  // The activations to calibrate, then the op outputs the report compares.
  std::vector<std::string> tensors = quantizedActivations(s.candidates);
  s.probes = tensors;
  for (const Candidate &c : s.candidates)
    if (c.excluded.empty() && !llvm::is_contained(s.probes, c.output))
      s.probes.push_back(c.output);
  std::string probed = withOutputs(s.model, s.probes);
  auto runner = ModelRunner::create(s.path, ArrayRef(probed.data(), probed.size()), s.compile);
  if (!runner)
    return runner.takeError();
  s.floatRunner = std::move(*runner);

  // Only f32 activations are quantized; the rest of the op's inputs decide nothing.
  std::vector<std::string> floatTensors;
  for (const std::string &name : tensors) {
    std::optional<size_t> index = s.floatRunner->findOutput(name);
    if (!index)
      return createStringError("the calibration model has no output '" + name + "'");
    catfish_dtype_t dtype = s.floatRunner->outputInfo(*index).dtype;
    if (dtype == CATFISH_DTYPE_F32) {
      floatTensors.push_back(name);
      continue;
    }
    for (Candidate &c : s.candidates)
      if (c.excluded.empty() && llvm::is_contained(c.activations, name))
        c.excluded = "its input '" + name + "' is " + catfish_dtype_name(dtype) +
                     ", not f32 (only f32 ops are quantized)";
  }
  // A residual Add joins two tensors of one shape; a broadcast (an attention mask added to
  // the scores, a bias computed at run time) is not one.
  auto dims = [&](const std::string &name) {
    catfish_tensor_info_t info = s.floatRunner->outputInfo(*s.floatRunner->findOutput(name));
    return std::vector<int64_t>(info.dims, info.dims + info.rank);
  };
  for (Candidate &c : s.candidates)
    if (c.excluded.empty() && c.opType == "Add" &&
        dims(c.activations[0]) != dims(c.activations[1]))
      c.excluded = "not a residual Add: its inputs have the shapes " +
                   ::catfish::tools::shapeText(dims(c.activations[0])) + " and " +
                   ::catfish::tools::shapeText(dims(c.activations[1])) + " (a broadcast)";
  if (isWeightOnly(s.options.scheme))
    return accumulateHessians(s, samples, floatTensors);
  if (s.options.scheme == "fp8-block")
    return llvm::Error::success();
  return calibrate(s, samples, floatTensors);
}

/// [smallest, largest] of the scales; null for a weight without elements.
json::Value scaleRange(ArrayRef<float> scales) {
  if (scales.empty())
    return nullptr;
  auto [lo, hi] = std::minmax_element(scales.begin(), scales.end());
  return json::Array{finiteOrNull(*lo), finiteOrNull(*hi)};
}

json::Value numberOrNull(std::optional<double> value) {
  if (!value || !std::isfinite(*value))
    return nullptr;
  return *value;
}

/// The accuracy report's entry for a quantized activation input.
json::Object inputReport(const Session &s, const std::string &name,
                         const Evaluation &evaluation) {
  json::Object input{{"tensor", name}};
  if (s.options.scheme == "fp8-block") {
    input["scale"] = "per 1x128 tile along K, from the tile's largest magnitude at run time";
  } else {
    const ActivationParams &p = s.params.find(name)->second;
    input["range"] = json::Array{finiteOrNull(p.rmin), finiteOrNull(p.rmax)};
    input["scale"] = finiteOrNull(p.scale);
    input["zero_point"] = p.zeroPoint;
  }
  if (auto it = evaluation.activations.find(name); it != evaluation.activations.end()) {
    const ActivationError &e = it->second;
    input["saturated_fraction"] =
        e.count ? static_cast<double>(e.saturated) / static_cast<double>(e.count) : 0.0;
    input["quantization_sqnr_db"] = decibels(e.signal, e.noise);
    input["upstream_sqnr_db"] = e.upstream.sqnr();
  }
  return input;
}

/// The accuracy report's entry for a candidate op.
json::Object opReport(const Session &s, const Candidate &c, const Evaluation &evaluation) {
  StringRef scheme = s.options.scheme;
  bool weightOnly = isWeightOnly(scheme);
  bool fp8 = scheme.starts_with("fp8");
  json::Object op{{"node", c.name},
                  {"op_type", c.opType},
                  {"precision", !c.excluded.empty() ? "f32"
                                : weightOnly        ? scheme.take_front(4)
                                : fp8               ? "fp8"
                                                    : "int8"}};
  if (!c.excluded.empty()) {
    op["reason"] = c.excluded;
    return op;
  }
  json::Object weight{{"tensor", c.weight},
                      {"scale_range", scaleRange(c.weightScales)},
                      {"sqnr_db", numberOrNull(c.weightSqnrDb)}};
  if (weightOnly) {
    op["scheme"] = llvm::formatv("{0} weights in blocks of {1} along K ({2}), f32 "
                                 "activations ({3})",
                                 scheme.take_front(4), s.options.weightBlock,
                                 s.options.weightSymmetric ? "symmetric" : "asymmetric",
                                 scheme == "int4-weights"
                                     ? "com.microsoft MatMulNBits"
                                     : "DequantizeLinear blocked along K, then the float op")
                       .str();
    weight["method"] = c.method.empty() ? s.options.weightMethod : c.method;
    weight["blocks"] = static_cast<int64_t>(c.weightScales.size());
    op["weight"] = std::move(weight);
    if (auto it = evaluation.activations.find(c.activations.front());
        it != evaluation.activations.end())
      op["input_upstream_sqnr_db"] = it->second.upstream.sqnr();
  } else {
    if (scheme == "fp8") {
      op["scheme"] = "fp8 E4M3 weights per tensor, fp8 E4M3 activations per tensor";
      op["calibrator"] = s.options.calibrator;
    } else if (scheme == "fp8-block") {
      op["scheme"] = "fp8 E4M3 weights per 128x128 block, fp8 E4M3 activations per 1x128 "
                     "tile along K (scales computed at run time)";
      op["calibrator"] = "none: activation scales are computed at run time";
    } else {
      op["scheme"] = c.weight.empty() ? "int8 activations, per tensor (asymmetric)"
                                      : "int8 weights per output channel (symmetric), int8 "
                                        "activations per tensor (asymmetric)";
      op["calibrator"] = s.options.calibrator;
      weight["axis"] = c.weightAxis;
      weight["channels"] = static_cast<int64_t>(c.weightScales.size());
      weight["bias_int32"] = !c.bias.empty();
    }
    json::Array inputs;
    for (const std::string &name : c.activations)
      inputs.push_back(inputReport(s, name, evaluation));
    op["inputs"] = std::move(inputs);
    if (!c.weight.empty())
      op["weight"] = std::move(weight);
  }
  if (auto it = evaluation.opOutputs.find(c.output); it != evaluation.opOutputs.end()) {
    op["output_sqnr_db"] = it->second.sqnr();
    op["output_cosine"] = it->second.cosine();
  }
  return op;
}

std::string reportJson(const Session &s, const Evaluation &evaluation, size_t calibrationSamples,
                       size_t evaluationSamples, json::Object fallback) {
  json::Array outputs;
  for (auto [name, c] : llvm::zip(evaluation.outputNames, evaluation.outputs)) {
    json::Object entry{{"name", name},
                       {"sqnr_db", c.nonFiniteMismatches ? json::Value(nullptr) : c.sqnr()},
                       {"cosine", c.cosine()},
                       {"max_abs_error", finiteOrNull(c.maxError)}};
    if (c.nonFiniteMismatches)
      entry["nonfinite_mismatches"] = static_cast<int64_t>(c.nonFiniteMismatches);
    if (auto agreement = c.agreement())
      entry["top1_agreement"] = *agreement;
    outputs.push_back(std::move(entry));
  }
  json::Array ops;
  for (const Candidate &c : s.candidates)
    ops.push_back(opReport(s, c, evaluation));
  size_t quantized = llvm::count_if(s.candidates, [](auto &c) { return c.excluded.empty(); });
  json::Object report{
      {"model", llvm::sys::path::filename(s.path)},
      {"scheme", s.options.scheme},
      {"calibrator", calibratesActivations(s.options.scheme) ? s.options.calibrator : "none"},
      {"calibration_samples", static_cast<int64_t>(calibrationSamples)},
      {"evaluation_samples", static_cast<int64_t>(evaluationSamples)},
      {"evaluation_data", s.options.evaluationDir.empty() ? "the calibration samples"
                                                          : s.options.evaluationDir},
      {"quantized_ops", static_cast<int64_t>(quantized)},
      {"float_ops", static_cast<int64_t>(s.candidates.size() - quantized)},
      {"outputs", std::move(outputs)},
      {"ops", std::move(ops)}};
  if (!fallback.empty())
    report["fallback"] = std::move(fallback);
  return llvm::formatv("{0:2}", json::Value(std::move(report))).str() + "\n";
}

/// How much error an op adds by itself: its weight's and its inputs' quantization SQNR, the
/// lowest of them (lower is more sensitive).
double ownSqnr(const Candidate &c, const Evaluation &evaluation) {
  double worst = c.weightSqnrDb.value_or(std::numeric_limits<double>::infinity());
  for (const std::string &name : c.activations)
    if (auto it = evaluation.activations.find(name); it != evaluation.activations.end())
      if (it->second.noise > 0 && it->second.signal > 0)
        worst = std::min(worst, 10.0 * std::log10(it->second.signal / it->second.noise));
  return worst;
}

} // namespace

llvm::Expected<QuantizedModel> mlir::catfish::quantizeModel(StringRef path,
                                                           const QuantizeOptions &options,
                                                           const CompileOptions &compile) {
  if (auto error = validate(options))
    return std::move(error);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(path + ": cannot read: " + buffer.getError().message());
  auto model = parseOnnxModel(ArrayRef((*buffer)->getBufferStart(), (*buffer)->getBufferSize()));
  if (!model)
    return createStringError(path + ": " + llvm::toString(model.takeError()));
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  Session s{path, dir.empty() ? "." : std::string(dir), options, compile,
            std::move(*model), {}, {}, {}, {}, nullptr};
  auto candidates = findCandidates(s.model, options);
  if (!candidates)
    return createStringError(path + ": " + llvm::toString(candidates.takeError()));
  s.candidates = std::move(*candidates);

  bool target = options.minSqnrDb || options.minCosine || options.minTop1;
  std::vector<std::string> samples;
  if (!options.calibrationDir.empty()) {
    auto listed = listSamples(options.calibrationDir, "--calibration-data");
    if (!listed)
      return listed.takeError();
    samples = std::move(*listed);
  }
  std::vector<std::string> evaluationSamples = samples;
  if (!options.evaluationDir.empty()) {
    auto listed = listSamples(options.evaluationDir, "--evaluation-data");
    if (!listed)
      return listed.takeError();
    evaluationSamples = std::move(*listed);
  }

  // Round to nearest and run-time scales need no run unless the result is measured.
  if (needsCalibration(options) || options.report || target) {
    if (auto error = calibrateAll(s, samples))
      return std::move(error);
  }

  QuantizedModel result;
  if (!options.report && !target) {
    // The float model's weights are not needed any more.
    s.floatRunner.reset();
    auto quantized = s.quantizedModel();
    if (!quantized)
      return quantized.takeError();
    result.onnx = std::move(*quantized);
  } else {
    auto evaluation = s.evaluate(evaluationSamples);
    if (!evaluation)
      return evaluation.takeError();
    json::Object fallback;
    if (target && !evaluation->meets(options)) {
      // The ops adding the most error by themselves go back to float first. How many: the
      // fewest that meet the target, found by bisection (more ops in float, more accuracy),
      // after a first trial with all of them in float.
      std::vector<Candidate *> ranked;
      for (Candidate &c : s.candidates)
        if (c.excluded.empty())
          ranked.push_back(&c);
      std::vector<double> own;
      for (Candidate *c : ranked)
        own.push_back(ownSqnr(*c, *evaluation));
      std::vector<size_t> order(ranked.size());
      std::iota(order.begin(), order.end(), 0);
      llvm::stable_sort(order, [&](size_t a, size_t b) { return own[a] < own[b]; });
      unsigned trials = 0;
      auto trial = [&](size_t count) -> llvm::Expected<Evaluation> {
        ++trials;
        for (auto [rank, i] : llvm::enumerate(order))
          ranked[i]->excluded =
              rank < count ? llvm::formatv("accuracy fallback: its own quantization SQNR, "
                                           "{0:f1} dB, ranks {1} of {2}",
                                           own[i], rank + 1, ranked.size())
                                 .str()
                           : "";
        return s.evaluate(evaluationSamples);
      };
      size_t failing = 0, meeting = ranked.size();
      auto all = trial(meeting);
      if (!all)
        return all.takeError();
      bool reachable = all->meets(options);
      std::optional<Evaluation> best;
      if (reachable)
        best = std::move(*all);
      while (reachable && meeting - failing > 1 && trials < options.maxFallbackTrials) {
        size_t middle = failing + (meeting - failing) / 2;
        auto tried = trial(middle);
        if (!tried)
          return tried.takeError();
        if (tried->meets(options)) {
          meeting = middle;
          best = std::move(*tried);
        } else {
          failing = middle;
        }
      }
      // Leave the candidates as the kept evaluation has them: the fewest ops in float that
      // met the target, or, where nothing meets it, every op quantized as first measured.
      size_t moved = reachable ? meeting : 0;
      for (auto [rank, i] : llvm::enumerate(order))
        if (rank >= moved)
          ranked[i]->excluded.clear();
      if (reachable && trials > 1 && meeting != ranked.size()) {
        // The last trial may have been a failing one: redo the kept count's names.
        for (auto [rank, i] : llvm::enumerate(order))
          if (rank < meeting)
            ranked[i]->excluded = llvm::formatv("accuracy fallback: its own quantization "
                                                "SQNR, {0:f1} dB, ranks {1} of {2}",
                                                own[i], rank + 1, ranked.size())
                                      .str();
      }
      json::Array movedBack;
      for (size_t rank = 0; rank < moved; ++rank)
        movedBack.push_back(ranked[order[rank]]->name);
      if (best)
        evaluation = std::move(*best);
      fallback = json::Object{{"target_met", reachable},
                              {"trials", static_cast<int64_t>(trials)},
                              {"moved_to_float", std::move(movedBack)}};
      if (!reachable)
        fallback["why"] = "the target is missed even with every candidate op in float (the "
                          "model is left quantized as first measured)";
      else if (meeting - failing > 1)
        fallback["why_not_fewer"] = "--max-fallback-trials ended the search: fewer ops in "
                                    "float might meet the target too";
    } else if (target) {
      fallback = json::Object{{"target_met", true},
                              {"trials", 0},
                              {"moved_to_float", json::Array()}};
    }
    if (target) {
      if (options.minSqnrDb)
        fallback["min_sqnr_db"] = *options.minSqnrDb;
      if (options.minCosine)
        fallback["min_cosine"] = *options.minCosine;
      if (options.minTop1)
        fallback["min_top1_agreement"] = *options.minTop1;
    }
    result.onnx = std::move(evaluation->quantizedOnnx);
    result.reportJson =
        reportJson(s, *evaluation, samples.size(), evaluationSamples.size(), std::move(fallback));
  }
  result.externalData = s.externalData;
  result.quantizedOps = llvm::count_if(s.candidates, [](auto &c) { return c.excluded.empty(); });
  result.floatOps = s.candidates.size() - result.quantizedOps;
  return result;
}
