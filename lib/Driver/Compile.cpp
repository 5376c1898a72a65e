//===- Compile.cpp - import, fuse, generate code, write the artifact -----===//
#include "catfish/Driver/Compile.h"

#include "catfish/Passes/Passes.h"
#include "catfish/Target/CPU.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

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

} // namespace

void mlir::catfish::registerCompilerDialects(DialectRegistry &registry) {
  registerCpuTargetDialects(registry);
  registry.insert<CatfishDialect>();
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::compileToCatfish(MLIRContext &context, StringRef path,
                                const CompileOptions &options) {
  auto module = importOnnxModel(context, path, options.import);
  if (!module || !options.cleanup)
    return module;
  FirstDiagnostic diagnostic(&context);
  PassManager pm(&context);
  buildImportCleanupPipeline(pm);
  if (failed(pm.run(**module)))
    return diagnostic.error(path, "shape specialization failed");
  return module;
}

llvm::Error mlir::catfish::formFusions(ModuleOp program, StringRef path,
                                       const CompileOptions &options) {
  FirstDiagnostic diagnostic(program.getContext());
  PassManager pm(program.getContext());
  CatfishFormFusionsOptions fusionOptions;
  fusionOptions.fuse = options.fuse;
  // The CPU target has no attention kernel of its own.
  pm.addNestedPass<func::FuncOp>(createCatfishExpandComposites());
  pm.addNestedPass<func::FuncOp>(createCatfishFormFusions(fusionOptions));
  if (failed(pm.run(program)))
    return diagnostic.error(path, "forming fusion regions failed");
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::lowerKernelsToLinalg(ModuleOp program, StringRef path,
                                    SmallVectorImpl<KernelInfo> &kernels) {
  FirstDiagnostic diagnostic(program.getContext());
  auto module = outlineKernels(program, kernels);
  if (failed(module))
    return diagnostic.error(path, "outlining kernels failed");
  PassManager pm(program.getContext());
  pm.addNestedPass<func::FuncOp>(createCatfishConvertToLinalg());
  if (failed(pm.run(**module)))
    return diagnostic.error(path, "lowering to linalg failed");
  return std::move(*module);
}

llvm::Expected<ArtifactSummary>
mlir::catfish::compileToArtifact(MLIRContext &context, StringRef path, StringRef outputPath,
                                 const CompileOptions &options) {
  if (options.target != "cpu")
    return llvm::createStringError("--target " + options.target +
                                   " is not supported by this compiler (supported: cpu)");
  auto program = compileToCatfish(context, path, options);
  if (!program)
    return program.takeError();
  if (auto error = formFusions(**program, path, options))
    return std::move(error);
  SmallVector<KernelInfo> kernels;
  FirstDiagnostic diagnostic(&context);
  auto module = outlineKernels(**program, kernels);
  if (failed(module))
    return diagnostic.error(path, "outlining kernels failed");
  CpuTargetOptions cpu;
  if (!options.arch.empty())
    cpu.arch = options.arch;
  cpu.taskMinWork = options.taskMinWork;
  auto code = buildCpuSharedObject(**module, kernels, cpu);
  if (!code) {
    std::string reason = toString(code.takeError());
    return diagnostic.error(path, reason);
  }
  TargetCode target{"cpu", cpu.arch, "elf-shared-object", std::move(*code)};
  auto summary = writeArtifact(**program, kernels, target, path, outputPath);
  if (!summary)
    return llvm::createStringError(path + ": " + toString(summary.takeError()));
  return summary;
}
