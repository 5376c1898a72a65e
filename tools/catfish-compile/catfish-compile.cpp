//===- catfish-compile.cpp - ONNX model -> catfish IR --------------------===//
#include "catfish/Driver/Compile.h"
#include "catfish/Quantize/Quantize.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <cmath>
#include <cstdlib>
#include <memory>

using namespace llvm;

namespace {
cl::OptionCategory category("catfish-compile options");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"), cl::Required,
                               cl::cat(category));
cl::opt<std::string> outputPath("o",
                                cl::desc("Output file (IR: default stdout; artifact: required)"),
                                cl::value_desc("path"), cl::init("-"), cl::cat(category));
cl::opt<std::string> emit(
    "emit",
    cl::desc("Stop after a stage and print its IR instead of writing an artifact: mlir "
             "(import), fused (fusion regions), kernels (outlined kernels), then the target's "
             "stages (cpu: linalg, tiled, bufferized, loops, llvm; cuda: linalg, bufferized, "
             "gpu, nvvm, and ptx: the PTX of each arch); with --quantize, onnx-qdq: the "
             "quantized model as ONNX"),
    cl::value_desc("stage"), cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("Code generation target: cpu, cuda, or cpu,cuda (one "
                                     "artifact with both codes and the weights once)"),
                            cl::init("cpu"), cl::value_desc("cpu|cuda|cpu,cuda"),
                            cl::cat(category));
cl::opt<std::string> arch("arch",
                          cl::desc("Comma-separated target architectures: sm_XX entries are "
                                   "CUDA's (default sm_80,sm_90a), the others the CPU's (x86-64 "
                                   "levels or CPU names, default x86-64-v3,x86-64-v4: code for "
                                   "any AVX2 machine and for AVX-512 ones, the runtime runs "
                                   "the best the machine supports)"),
                          cl::value_desc("list"), cl::cat(category));
cl::opt<int64_t> taskMinWork(
    "task-min-work",
    cl::desc("cpu: split kernels across threads in parts of at least this many loop "
             "iterations (default 32768)"),
    cl::value_desc("N"), cl::cat(category));
cl::opt<bool> cudaEmulation(
    "cuda-emulation",
    cl::desc("cuda: also put host code for the CUDA emulator in the artifact "
             "(catfish-run --device cuda-emulator)"),
    cl::init(false), cl::cat(category));
cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("cuda: the CUDA toolkit's root, for ptxas, fatbinary and libdevice (default "
             "$CUDA_HOME, else /usr/local/cuda)"),
    cl::value_desc("DIR"), cl::cat(category));
cl::opt<bool> noFusion("no-fusion", cl::desc("Give every op a kernel of its own"),
                       cl::init(false), cl::cat(category));
cl::list<std::string> shapes("shape",
                             cl::desc("Fix the dims of a graph input, e.g. --shape ids=1x128"),
                             cl::value_desc("NAME=DIMS"), cl::cat(category));
cl::list<std::string> frozen("freeze-input",
                             cl::desc("Replace a graph input by the constant in an ONNX "
                                      "TensorProto file (for axes, k or shape inputs)"),
                             cl::value_desc("NAME=FILE.pb"), cl::cat(category));
cl::opt<bool> noCleanup("no-cleanup",
                        cl::desc("Print the IR as imported, before shape specialization and "
                                 "canonicalization"),
                        cl::init(false), cl::cat(category));

cl::OptionCategory quantCategory("catfish-compile quantization options");
cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Calibrate and quantize the model before compiling it: int8 (per-channel int8 "
             "weights, per-tensor int8 activations, as ONNX QDQ), fp8 (E4M3 weights and "
             "activations per tensor), fp8-block (E4M3 weights per 128x128 block, "
             "activations per 1x128 tile scaled at run time), int8-weights (MatMul and Gemm "
             "weights in 8-bit blocks, as blocked DequantizeLinear) or int4-weights (MatMul "
             "weights in 4-bit blocks, as com.microsoft MatMulNBits)"),
    cl::value_desc("int8|fp8|fp8-block|int8-weights|int4-weights"), cl::cat(quantCategory));
cl::opt<int64_t> weightBlock(
    "weight-block",
    cl::desc("int4-weights, int8-weights: weights per block along K (16, 32, 64, 128 or 256; "
             "default 128)"),
    cl::init(128), cl::value_desc("N"), cl::cat(quantCategory));
cl::opt<std::string> weightMethod(
    "weight-method",
    cl::desc("int4-weights, int8-weights: rtn (round to nearest, default) or gptq (needs "
             "--calibration-data)"),
    cl::init("rtn"), cl::value_desc("rtn|gptq"), cl::cat(quantCategory));
cl::opt<bool> weightSymmetric(
    "weight-symmetric", cl::desc("int4-weights, int8-weights: symmetric blocks, no zero points"),
    cl::init(false), cl::cat(quantCategory));
cl::opt<std::string> calibrationData(
    "calibration-data",
    cl::desc("Calibration samples: one folder per sample, one <input>.npy per graph input"),
    cl::value_desc("DIR"), cl::cat(quantCategory));
cl::opt<std::string> evaluationData(
    "evaluation-data",
    cl::desc("Samples for the accuracy report and target, in the same layout (default: the "
             "calibration samples)"),
    cl::value_desc("DIR"), cl::cat(quantCategory));
cl::opt<std::string> calibrator("calibrator",
                                cl::desc("Activation ranges: minmax (default), percentile or "
                                         "entropy, as onnxruntime's calibrators, or mse (the "
                                         "clip with the least quantization error)"),
                                cl::init("minmax"), cl::value_desc("method"),
                                cl::cat(quantCategory));
cl::opt<double> calibrationPercentile(
    "calibration-percentile",
    cl::desc("--calibrator=percentile keeps this percentage of values (default 99.999)"),
    cl::init(99.999), cl::value_desc("P"), cl::cat(quantCategory));
cl::opt<unsigned> calibrationBins(
    "calibration-bins",
    cl::desc("Histogram bins of --calibrator=percentile and mse (default 2048) and entropy "
             "(default 128, which leaves the full range: 2048 searches clips as TensorRT "
             "does)"),
    cl::init(0), cl::value_desc("N"), cl::cat(quantCategory));
cl::list<std::string> quantizeExclude(
    "quantize-exclude", cl::desc("Node names or op types to leave in float"),
    cl::CommaSeparated, cl::value_desc("NAMES"), cl::cat(quantCategory));
cl::list<std::string> quantizeInclude(
    "quantize-include",
    cl::desc("Node names to quantize although a default exclusion (LM head, MoE router) "
             "applies"),
    cl::CommaSeparated, cl::value_desc("NAMES"), cl::cat(quantCategory));
cl::opt<std::string> accuracyReport(
    "accuracy-report",
    cl::desc("Write what quantization cost as JSON: each output's SQNR, cosine and top-1 "
             "agreement, each quantized op's ranges, saturation and SQNRs"),
    cl::value_desc("FILE.json"), cl::cat(quantCategory));
cl::list<std::string> accuracyTarget(
    "accuracy-target",
    cl::desc("Move the most sensitive ops back to float until every output meets these: "
             "sqnr=DB, cosine=C, top1=FRACTION"),
    cl::CommaSeparated, cl::value_desc("BOUNDS"), cl::cat(quantCategory));
cl::opt<unsigned> maxFallbackTrials(
    "max-fallback-trials",
    cl::desc("How many times --accuracy-target may recompile and measure (default 8)"),
    cl::init(8), cl::value_desc("N"), cl::cat(quantCategory));

int fail(const Twine &message) {
  WithColor::error(errs(), "") << message << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions({&category, &quantCategory, &getColorCategory()});
  cl::ParseCommandLineOptions(argc, argv,
                              "catfish-compile: compile an ONNX model ahead of time\n\n"
                              "  catfish-compile model.onnx -o model.catfish\n"
                              "  catfish-compile model.onnx --emit=mlir -o model.mlir\n");

  mlir::catfish::CompileOptions options;
  options.cleanup = !noCleanup;
  options.fusion.fuse = !noFusion;
  options.target = target;
  options.cudaEmulation = cudaEmulation;
  if (arch.getNumOccurrences()) {
    SmallVector<std::string> gpuArchs, cpuArchs;
    for (StringRef name : llvm::split(arch, ','))
      (name.trim().starts_with("sm_") ? gpuArchs : cpuArchs).push_back(name.trim().str());
    if (!cpuArchs.empty())
      options.cpuArchs = cpuArchs;
    if (!gpuArchs.empty() || StringRef(target).contains("cuda"))
      options.cuda.archs = gpuArchs;
  }
  if (cudaPath.getNumOccurrences())
    options.cuda.cudaPath = cudaPath;
  else if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    options.cuda.cudaPath = home;
  if (taskMinWork.getNumOccurrences()) {
    if (taskMinWork < 1)
      return fail("--task-min-work must be at least 1, got " + Twine(int64_t(taskMinWork)));
    options.cpu.taskMinWork = taskMinWork;
  }
  for (StringRef spec : shapes) {
    auto [name, dims] = spec.split('=');
    if (name.empty() || !spec.contains('='))
      return fail("--shape expects NAME=DIMS (e.g. x=1x128), got '" + spec + "'");
    auto parsed = mlir::catfish::parseShape(dims);
    if (!parsed)
      return fail("--shape " + spec + ": " + toString(parsed.takeError()));
    options.import.inputShapes[name] = *parsed;
  }

  for (StringRef spec : frozen) {
    auto [name, path] = spec.split('=');
    if (name.empty() || path.empty())
      return fail("--freeze-input expects NAME=FILE.pb, got '" + spec + "'");
    options.import.frozenInputs[name] = path.str();
  }

  mlir::catfish::QuantizeOptions quant;
  quant.scheme = quantize;
  quant.calibrator = calibrator;
  quant.percentile = calibrationPercentile;
  quant.bins = calibrationBins;
  quant.calibrationDir = calibrationData;
  quant.evaluationDir = evaluationData;
  quant.exclude.assign(quantizeExclude.begin(), quantizeExclude.end());
  quant.include.assign(quantizeInclude.begin(), quantizeInclude.end());
  quant.report = !accuracyReport.empty();
  quant.maxFallbackTrials = maxFallbackTrials;
  quant.weightBlock = weightBlock;
  quant.weightMethod = weightMethod;
  quant.weightSymmetric = weightSymmetric;
  for (StringRef bound : accuracyTarget) {
    auto [key, text] = bound.split('=');
    double value;
    if (text.trim().getAsDouble(value) || !std::isfinite(value) ||
        !(key == "sqnr" || key == "cosine" || key == "top1"))
      return fail("--accuracy-target expects sqnr=DB, cosine=C or top1=FRACTION, got '" +
                  bound + "'");
    (key == "sqnr" ? quant.minSqnrDb : key == "cosine" ? quant.minCosine : quant.minTop1) = value;
  }
  if (quantize.empty()) {
    cl::Option *quantOnly[] = {&calibrationData,
                               &evaluationData,
                               &calibrator,
                               &calibrationPercentile,
                               &calibrationBins,
                               std::addressof(quantizeExclude),
                               std::addressof(quantizeInclude),
                               &accuracyReport,
                               std::addressof(accuracyTarget),
                               &maxFallbackTrials,
                               &weightBlock,
                               &weightMethod,
                               &weightSymmetric};
    for (cl::Option *option : quantOnly)
      if (option->getNumOccurrences())
        return fail("--" + option->ArgStr + " needs --quantize");
    if (emit == "onnx-qdq")
      return fail("--emit=onnx-qdq needs --quantize");
  }

  mlir::DialectRegistry registry;
  mlir::catfish::registerCompilerDialects(registry);
  mlir::MLIRContext context(registry);

  // Quantization rewrites the model in memory; the compile then reads that model. The report
  // is kept only once the whole compile succeeded.
  std::string quantizedModel;
  std::unique_ptr<ToolOutputFile> report;
  if (!quantize.empty()) {
    if (emit == "onnx-qdq" && outputPath == "-")
      return fail("--emit=onnx-qdq needs an output file: -o MODEL.onnx");
    SmallString<256> inputDir(inputPath), outputDir(outputPath);
    sys::path::remove_filename(inputDir);
    sys::path::remove_filename(outputDir);
    if (inputDir.empty())
      inputDir = ".";
    if (outputDir.empty())
      outputDir = ".";
    SmallString<256> realInput, realOutput;
    bool sameDir = !sys::fs::real_path(inputDir, realInput) &&
                   !sys::fs::real_path(outputDir, realOutput) && realInput == realOutput;
    auto quantized = mlir::catfish::quantizeModel(inputPath, quant, options);
    if (!quantized)
      return fail(toString(quantized.takeError()));
    if (emit == "onnx-qdq" && quantized->externalData && !sameDir)
      return fail("--emit=onnx-qdq: " + inputPath + " keeps weights in external data files, "
                  "which the quantized model still reads at locations relative to the model; "
                  "write it next to the input (-o " + inputDir + "/NAME.onnx)");
    quantizedModel = std::move(quantized->onnx);
    options.import.modelBytes = ArrayRef(quantizedModel.data(), quantizedModel.size());
    if (!accuracyReport.empty()) {
      std::error_code ec;
      report = std::make_unique<ToolOutputFile>(accuracyReport, ec, sys::fs::OF_None);
      if (ec)
        return fail("cannot write " + accuracyReport + ": " + ec.message());
      report->os() << quantized->reportJson;
    }
    outs() << "quantized " << quantized->quantizedOps << " ops to " << quantize << " ("
           << quantized->floatOps << " left in float)\n";
  }
  auto keepReport = [&] {
    if (!report)
      return true;
    report->os().flush();
    if (report->os().has_error())
      return false;
    report->keep();
    return true;
  };

  if (emit.empty() || emit == "artifact") {
    if (outputPath == "-")
      return fail("an artifact needs an output file: -o MODEL.catfish");
    auto summary = mlir::catfish::compileToArtifact(context, inputPath, outputPath, options);
    if (!summary)
      return fail(toString(summary.takeError()));
    for (const std::string &warning : summary->warnings)
      WithColor::warning(errs(), "") << warning << "\n";
    if (!keepReport())
      return fail("cannot write " + accuracyReport);
    outs() << "wrote " << outputPath << ": " << summary->kernels << " kernels, arena "
           << summary->arenaSize << " bytes, weights " << summary->weightsSize << " bytes\n";
    return 0;
  }

  std::string text;
  if (emit == "onnx-qdq") {
    text = std::move(quantizedModel);
  } else if (StringRef(target).contains(',')) {
    return fail("--emit=" + emit + " takes one --target, got '" + target + "'");
  } else if (emit == "ptx") {
    auto ptx = mlir::catfish::compileToPtx(context, inputPath, options);
    if (!ptx)
      return fail(toString(ptx.takeError()));
    text = std::move(*ptx);
  } else {
    ArrayRef<StringLiteral> stages = mlir::catfish::compileStages(options.target);
    if (stages.empty())
      return fail("unknown --target '" + options.target + "' (supported: cpu, cuda)");
    if (!llvm::is_contained(stages, emit))
      return fail("--emit=" + emit + " is not a stage of --target " + options.target +
                  " (stages: " + llvm::join(stages, ", ") +
                  (options.target == "cuda" ? ", ptx)" : ")"));
    auto printed = mlir::catfish::compileToStage(context, inputPath, emit, options);
    if (!printed)
      return fail(toString(printed.takeError()));
    raw_string_ostream os(text);
    (*printed)->print(os, mlir::OpPrintingFlags());
  }

  // The output file is only kept once everything succeeded.
  std::error_code ec;
  ToolOutputFile output(outputPath, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write " + outputPath + ": " + ec.message());
  output.os() << text;
  output.os().flush();
  if (output.os().has_error() || !keepReport())
    return fail("cannot write " + outputPath);
  output.keep();
  return 0;
}
