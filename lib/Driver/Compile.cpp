//===- Compile.cpp - import, fuse, generate code, write the artifact -----===//
//
// Only chains the pipelines: import -> cleanup -> fusion -> outlining -> the target's code
// generation pipeline -> the target's binary -> the artifact. Every pass lives in passes/.
//
//===----------------------------------------------------------------------===//
#include "catfish/Driver/Compile.h"

#include "catfish/Target/CPU.h"
#include "catfish/Target/CUDA.h"
#include "catfish/artifact_format.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringExtras.h"

#include <future>

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Collects the first error diagnostic (with its location) while alive.
class FirstDiagnostic {
public:
  explicit FirstDiagnostic(MLIRContext *context)
      : handler(context, [this](Diagnostic &diag) {
          if (message.empty() && diag.getSeverity() == DiagnosticSeverity::Error) {
            std::string where = describeLocation(diag.getLocation());
            message = (where.empty() ? "" : "node " + where + ": ") + diag.str();
          }
          return success();
        }) {}

  llvm::Error error(StringRef path, StringRef fallback) const {
    return llvm::createStringError(path + ": " + (message.empty() ? fallback.str() : message));
  }

private:
  std::string message;
  ScopedDiagnosticHandler handler;
};

/// Columns per panel of the matmul weights packed for the CPU (catfish-pack-weights).
constexpr int64_t kCpuWeightPanel = 32;

/// The stages before a target's own pipeline.
constexpr size_t kCommonStages = 3;
constexpr StringLiteral kCpuStages[] = {"mlir",  "fused",      "kernels", "linalg",
                                        "tiled", "bufferized", "loops",   "llvm"};
constexpr StringLiteral kCudaStages[] = {"mlir",       "fused", "kernels", "linalg",
                                         "bufferized", "gpu",   "nvvm"};

/// Runs the pipeline `build` adds on `op` (a module). Errors name the first diagnostic.
llvm::Error runPipeline(ModuleOp op, StringRef path, StringRef what,
                        function_ref<void(OpPassManager &)> build) {
  FirstDiagnostic diagnostic(op.getContext());
  PassManager pm(op.getContext());
  build(pm);
  if (failed(pm.run(op)))
    return diagnostic.error(path, (what + " failed").str());
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> importProgram(MLIRContext &context, StringRef path,
                                                    const CompileOptions &options) {
  auto program = importOnnxModel(context, path, options.import);
  if (!program || !options.cleanup)
    return program;
  if (auto error = runPipeline(**program, path, "shape specialization",
                               [](OpPassManager &pm) { buildImportCleanupPipeline(pm); }))
    return std::move(error);
  return program;
}

llvm::Error fuseProgram(ModuleOp program, StringRef path, const CompileOptions &options) {
  return runPipeline(program, path, "forming fusion regions", [&](OpPassManager &pm) {
    FusionPipelineOptions fusion;
    fusion.copyOptionValuesFrom(options.fusion);
    // Only the CUDA target has an attention kernel; the CPU would expand it again.
    fusion.raiseAttention = llvm::any_of(llvm::split(options.target, ','),
                                         [](StringRef name) { return name.trim() == "cuda"; });
    // Weights packed for the CPU micro-kernels: 32 columns is one register block with
    // AVX-512 and two with AVX2 (as fast as panels of 16 there), so every CPU arch of the
    // artifact reads the same packed weights. An artifact for both targets keeps them as
    // they are: cuBLASLt reads the same weights.
    if (options.target == "cpu")
      fusion.weightPanel = kCpuWeightPanel;
    buildFusionPipeline(pm, fusion);
  });
}

/// Outlines the fusion regions of `program` into the nested module `moduleName` and returns it.
llvm::Expected<ModuleOp> outlineKernels(ModuleOp program, StringRef path, StringRef moduleName) {
  if (auto error = runPipeline(program, path, "outlining kernels", [&](OpPassManager &pm) {
        CatfishOutlineKernelsOptions outline;
        outline.moduleName = moduleName.str();
        pm.addPass(createCatfishOutlineKernels(outline));
      }))
    return std::move(error);
  return program.lookupSymbol<ModuleOp>(moduleName);
}

llvm::Error runCpuCodegen(ModuleOp kernels, StringRef path, const CpuCodegenOptions &options) {
  return runPipeline(kernels, path, "CPU code generation",
                     [&](OpPassManager &pm) { buildCpuCodegenPipeline(pm, options); });
}

/// Fails unless `archs` of target `target` is not empty, names each arch once and `check`
/// accepts each; `example` is an arch to suggest.
llvm::Error checkArchs(ArrayRef<std::string> archs, StringRef target, StringRef example,
                       function_ref<llvm::Error(StringRef)> check) {
  if (archs.empty())
    return llvm::createStringError("--target " + target + " needs at least one --arch (e.g. " +
                                   example + ")");
  for (auto [i, arch] : llvm::enumerate(archs)) {
    if (llvm::is_contained(ArrayRef(archs).take_front(i), arch))
      return llvm::createStringError("--arch lists " + arch + " twice");
    if (auto error = check(arch))
      return error;
  }
  return llvm::Error::success();
}

/// Fails unless every arch is sm_XX (optionally with the 'a' suffix) of a GPU CUDA 13 builds
/// for (Turing, sm_75, and newer).
llvm::Error checkCudaArchs(ArrayRef<std::string> archs) {
  return checkArchs(archs, "cuda", "sm_80", [](StringRef arch) -> llvm::Error {
    StringRef digits = arch;
    unsigned number = 0;
    if (!digits.consume_front("sm_") || !(digits.consume_back("a"), true) ||
        digits.getAsInteger(10, number) || number < 75)
      return llvm::createStringError("unknown --arch '" + arch +
                                     "' for target cuda (expected sm_75 or newer, such as "
                                     "sm_80, sm_89, sm_90a)");
    return llvm::Error::success();
  });
}

/// Fails unless every arch is an x86-64 level or a CPU name LLVM knows.
llvm::Error checkCpuArchs(ArrayRef<std::string> archs) {
  return checkArchs(archs, "cpu", "x86-64-v3", checkCpuArch);
}

/// Runs target `target`'s pipeline on `kernels` up to the target stage `stage` (0: its first).
llvm::Error runTargetStages(ModuleOp kernels, StringRef path, StringRef target, size_t stage,
                            const CompileOptions &options) {
  if (target == "cuda") {
    CudaCodegenOptions cuda;
    cuda.copyOptionValuesFrom(options.cuda);
    cuda.stopAfter = static_cast<CudaStage>(stage);
    return runPipeline(kernels, path, "CUDA code generation",
                       [&](OpPassManager &pm) { buildCudaCodegenPipeline(pm, cuda); });
  }
  CpuCodegenOptions cpu;
  cpu.copyOptionValuesFrom(options.cpu);
  cpu.arch = options.cpuArchs.front();
  cpu.stopAfter = static_cast<CpuStage>(stage);
  return runCpuCodegen(kernels, path, cpu);
}

} // namespace

void mlir::catfish::registerCompilerDialects(DialectRegistry &registry) {
  registerCpuTargetDialects(registry);
  registerCudaTargetDialects(registry);
  registry.insert<CatfishDialect>();
}

ArrayRef<StringLiteral> mlir::catfish::compileStages(StringRef target) {
  if (target == "cpu")
    return kCpuStages;
  if (target == "cuda")
    return kCudaStages;
  return {};
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::compileToStage(MLIRContext &context, StringRef path, StringRef stage,
                              const CompileOptions &options) {
  ArrayRef<StringLiteral> stages = compileStages(options.target);
  const auto *found = llvm::find(stages, stage);
  if (found == stages.end())
    return llvm::createStringError("--target " + options.target + " has no stage '" + stage +
                                   "'");
  size_t last = found - stages.begin();
  if (auto error = options.target == "cuda" ? checkCudaArchs(options.cuda.archs)
                                            : checkCpuArchs(options.cpuArchs))
    return std::move(error);
  auto program = importProgram(context, path, options);
  if (!program || last == 0)
    return program;
  if (auto error = fuseProgram(**program, path, options))
    return std::move(error);
  if (last == 1)
    return program;
  StringRef moduleName = options.target == "cuda" ? kCudaKernelModule : kCpuKernelModule;
  auto kernels = outlineKernels(**program, path, moduleName);
  if (!kernels)
    return kernels.takeError();
  if (last >= kCommonStages)
    if (auto error =
            runTargetStages(*kernels, path, options.target, last - kCommonStages, options))
      return std::move(error);
  kernels->getOperation()->remove();
  return OwningOpRef<ModuleOp>(*kernels);
}

llvm::Expected<std::string> mlir::catfish::compileToPtx(MLIRContext &context, StringRef path,
                                                      const CompileOptions &options) {
  if (options.target != "cuda")
    return llvm::createStringError("--emit=ptx needs --target cuda");
  auto kernels = compileToStage(context, path, "nvvm", options);
  if (!kernels)
    return kernels.takeError();
  auto ptx = emitCudaPtx(**kernels, options.cuda);
  if (!ptx)
    return llvm::createStringError(path + ": " + toString(ptx.takeError()));
  std::string text;
  for (const auto &[arch, assembly] : *ptx)
    text += "// arch: " + arch + "\n" + assembly;
  return text;
}

llvm::Expected<ArtifactSummary>
mlir::catfish::compileToArtifact(MLIRContext &context, StringRef path, StringRef outputPath,
                                 const CompileOptions &options) {
  SmallVector<StringRef> names;
  for (StringRef name : llvm::split(options.target, ',')) {
    name = name.trim();
    if (name != "cpu" && name != "cuda")
      return llvm::createStringError("--target " + name +
                                     " is not supported by this compiler (supported: cpu, cuda, "
                                     "or both as cpu,cuda)");
    if (llvm::is_contained(names, name))
      return llvm::createStringError("--target lists " + name + " twice");
    names.push_back(name);
  }
  bool cuda = llvm::is_contained(names, "cuda");
  if (options.cudaEmulation && !cuda)
    return llvm::createStringError("--cuda-emulation needs --target cuda");
  if (cuda)
    if (auto error = checkCudaArchs(options.cuda.archs))
      return std::move(error);
  if (llvm::is_contained(names, "cpu") || options.cudaEmulation)
    if (auto error = checkCpuArchs(options.cpuArchs))
      return std::move(error);
  auto program = importProgram(context, path, options);
  if (!program)
    return program.takeError();
  if (auto error = fuseProgram(**program, path, options))
    return std::move(error);
  auto fail = [&](llvm::Error error) {
    return llvm::createStringError(path + ": " + toString(std::move(error)));
  };
  std::vector<TargetCode> targets;
  std::vector<std::string> warnings;
  // One kernel set per target, in the order given; the first one's kernels are the steps'.
  std::vector<SmallVector<KernelInfo>> kernelSets;
  SmallVector<uint32_t> setTargets;
  for (StringRef name : names) {
    auto kernels = outlineKernels(**program, path, name == "cuda" ? kCudaKernelModule
                                                                  : kCpuKernelModule);
    if (!kernels)
      return kernels.takeError();
    if (name == "cpu") {
      // One kernel set per arch, each compiled from its own copy of the outlined kernels.
      // LLVM optimizes and links each arch's code on a thread of its own while the next arch
      // goes through MLIR; every link started is waited for, whatever fails.
      std::vector<std::future<llvm::Expected<std::string>>> links;
      llvm::Error failure = llvm::Error::success();
      for (auto [i, arch] : llvm::enumerate(options.cpuArchs)) {
        OwningOpRef<ModuleOp> copy(i + 1 < options.cpuArchs.size() ? kernels->clone() : nullptr);
        ModuleOp module = copy ? *copy : *kernels;
        CpuCodegenOptions cpu;
        cpu.copyOptionValuesFrom(options.cpu);
        cpu.arch = arch;
        if (auto error = runCpuCodegen(module, path, cpu)) {
          failure = llvm::joinErrors(std::move(failure), std::move(error));
          break;
        }
        SmallVector<KernelInfo> infos = collectKernels(module);
        auto ir = translateCpuKernels(module, infos, arch);
        if (!ir) {
          failure = llvm::joinErrors(std::move(failure), fail(ir.takeError()));
          break;
        }
        links.push_back(std::async(std::launch::async, linkCpuKernels, std::move(*ir)));
        setTargets.push_back(static_cast<uint32_t>(targets.size()));
        targets.push_back(TargetCode{"cpu", arch, "elf-shared-object", ""});
        kernelSets.push_back(std::move(infos));
      }
      auto archTargets = llvm::make_range(targets.end() - links.size(), targets.end());
      for (auto [link, target] : llvm::zip(links, archTargets)) {
        llvm::Expected<std::string> code = link.get();
        if (code)
          target.bytes = std::move(*code);
        else
          failure = llvm::joinErrors(std::move(failure), fail(code.takeError()));
      }
      if (failure)
        return std::move(failure);
      continue;
    }
    setTargets.push_back(static_cast<uint32_t>(targets.size()));
    // The emulator compiles its own copy: the CUDA pipeline rewrites the kernels in place.
    OwningOpRef<ModuleOp> emulated(options.cudaEmulation ? kernels->clone() : nullptr);
    if (auto error = runTargetStages(*kernels, path, "cuda",
                                     static_cast<size_t>(CudaStage::Nvvm), options))
      return std::move(error);
    SmallVector<KernelInfo> infos = collectKernels(*kernels);
    if (auto error = collectCudaCalls(*kernels, infos))
      return fail(std::move(error));
    auto fatbin = emitCudaFatbin(*kernels, options.cuda, infos, warnings);
    if (!fatbin)
      return fail(fatbin.takeError());
    targets.push_back(std::move(*fatbin));
    if (emulated) {
      if (auto error = runPipeline(*emulated, path, "CUDA emulator code generation",
                                   [](OpPassManager &pm) { buildCudaEmulatorPipeline(pm); }))
        return std::move(error);
      SmallVector<KernelInfo> functions;
      for (const KernelInfo &info : infos)
        for (const CudaCall &call : info.calls)
          if (call.launch)
            functions.push_back(KernelInfo{call.launch->function, info.kind, info.location});
      auto code = emitCpuSharedObject(*emulated, functions, options.cpuArchs.front());
      if (!code)
        return fail(code.takeError());
      targets.push_back(TargetCode{::catfish::artifact::kCudaEmulatorTarget,
                                   options.cpuArchs.front(),
                                   "elf-shared-object", std::move(*code)});
    }
    kernelSets.push_back(std::move(infos));
  }
  SmallVector<TargetKernels> sets;
  for (auto [infos, target] : llvm::zip(kernelSets, setTargets))
    sets.push_back({infos, target});
  auto summary = writeArtifact(**program, sets, targets, path, outputPath);
  if (!summary)
    return fail(summary.takeError());
  summary->warnings = std::move(warnings);
  return summary;
}
