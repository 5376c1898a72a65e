//===- Quantize.h - built-in quantization of ONNX models --------*- C++ -*-===//
//
// catfish-compile --quantize: calibrates a float ONNX model on sample inputs, writes the
// quantized model as a standard ONNX QDQ model (which the compiler then imports like any QDQ
// model, and which onnxruntime runs as well), and measures what the bits cost.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_QUANTIZE_QUANTIZE_H
#define CATFISH_QUANTIZE_QUANTIZE_H

#include "catfish/Driver/Compile.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::catfish {

struct QuantizeOptions {
  /// "int8": per-channel symmetric int8 weights, per-tensor asymmetric int8 activations.
  /// "fp8": E4M3 weights and activations per tensor. "fp8-block": E4M3 weights per 128x128
  /// block, activations per 1x128 tile along K scaled at run time.
  /// "int4-weights": MatMul weights in 4 bits, in blocks along K (com.microsoft MatMulNBits).
  std::string scheme;
  /// int4-weights: weights per block (32, 64 or 128), "rtn" (round to nearest) or "gptq"
  /// (needs calibration data), and symmetric blocks (no zero points).
  int64_t weightBlock = 128;
  std::string weightMethod = "rtn";
  bool weightSymmetric = false;
  /// How activation ranges are chosen: "minmax", "percentile" or "entropy" (onnxruntime's
  /// calibrators of the same names and defaults), or "mse" (the symmetric clip with the
  /// least quantization error over the histogram).
  std::string calibrator = "minmax";
  /// The percentile calibrator keeps this percentage of values (onnxruntime's default).
  double percentile = 99.999;
  /// Histogram bins of the percentile and entropy calibrators; 0: onnxruntime's defaults
  /// (2048 and 128).
  unsigned bins = 0;
  /// One folder per sample, one `<input>.npy` per graph input (int4-weights with rtn needs
  /// none).
  std::string calibrationDir;
  /// Samples for the accuracy report, in the same layout; empty: the calibration samples.
  std::string evaluationDir;
  /// Node names or op types never to quantize.
  std::vector<std::string> exclude;
  /// Node names to quantize even where a default exclusion (LM head, MoE router) applies.
  std::vector<std::string> include;
  /// Run the float and the quantized model on the evaluation samples and fill the report.
  bool report = false;
  /// The accuracy target (--accuracy-target): every output's SQNR (dB), cosine and top-1 /
  /// next-token agreement (a fraction) at least these. While it is missed, the most
  /// sensitive quantized ops move back to float, in at most maxFallbackTrials trials.
  std::optional<double> minSqnrDb, minCosine, minTop1;
  unsigned maxFallbackTrials = 8;
};

struct QuantizedModel {
  /// The quantized model, a serialized ONNX QDQ model. Its external data, if any, stays in
  /// the input model's files (externalData), at locations relative to the input's directory.
  std::string onnx;
  bool externalData = false;
  /// The accuracy report as JSON; empty unless QuantizeOptions::report.
  std::string reportJson;
  /// How many ops were quantized, and how many candidates were left in float.
  size_t quantizedOps = 0, floatOps = 0;
};

/// Calibrates and quantizes the model at `path`. `compile` gives the import options (shapes,
/// frozen inputs) and the fusion options; the calibration and evaluation runs use the host
/// CPU. Errors name the file, sample or node at fault.
llvm::Expected<QuantizedModel> quantizeModel(StringRef path, const QuantizeOptions &options,
                                             const CompileOptions &compile);

} // namespace mlir::catfish

#endif // CATFISH_QUANTIZE_QUANTIZE_H
