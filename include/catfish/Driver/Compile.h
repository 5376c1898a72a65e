//===- Compile.h - the compile pipeline the tools share ---------*- C++ -*-===//
#ifndef CATFISH_DRIVER_COMPILE_H
#define CATFISH_DRIVER_COMPILE_H

#include "catfish/Artifact/Artifact.h"
#include "catfish/Import/OnnxImporter.h"
#include "catfish/Passes/Passes.h"

namespace mlir::catfish {

/// Everything a compile needs: the import options and one options struct per pipeline.
struct CompileOptions {
  ImportOptions import;
  /// Run shape specialization, canonicalization and CSE after import.
  bool cleanup = true;
  FusionPipelineOptions fusion;
  /// Code generation target: "cpu", "cuda", or both ("cpu,cuda": one artifact that runs on
  /// either; compileToStage takes one).
  std::string target = "cpu";
  /// The CPU archs an artifact holds code for, one shared object each over the same plan and
  /// weights; the runtime runs the best one the machine supports. The CPU pipeline runs once
  /// per arch with `cpu.arch` set to it (whatever `cpu.arch` held); --emit stages and the CUDA
  /// emulator's host code take the first.
  SmallVector<std::string> cpuArchs = {"x86-64-v3", "x86-64-v4"};
  CpuCodegenOptions cpu;
  CudaCodegenOptions cuda;
  /// Target cuda: also put host code for the CUDA emulator in the artifact.
  bool cudaEmulation = false;
};

/// The stages `compileToStage` can stop after for `target`, in order: import ("mlir"),
/// fusion ("fused"), outlining ("kernels"), then the target pipeline's own stages. Empty for
/// an unknown target.
ArrayRef<StringLiteral> compileStages(StringRef target);

/// Imports `path`, runs every stage up to and including `stage` (one of compileStages) and
/// returns the IR there: the program up to "fused", the target's kernel module from
/// "kernels" on. Errors are "FILE: reason", naming the ONNX node where there is one.
llvm::Expected<OwningOpRef<ModuleOp>> compileToStage(MLIRContext &context, StringRef path,
                                                     StringRef stage,
                                                     const CompileOptions &options);

/// Target cuda: every stage, then the PTX of each arch, each after a line "// arch: sm_XX".
llvm::Expected<std::string> compileToPtx(MLIRContext &context, StringRef path,
                                         const CompileOptions &options);

/// The whole pipeline: import, clean up, fuse, generate code, write `outputPath`.
llvm::Expected<ArtifactSummary> compileToArtifact(MLIRContext &context, StringRef path,
                                                  StringRef outputPath,
                                                  const CompileOptions &options);

/// A registry holding every dialect and translation the pipeline uses.
void registerCompilerDialects(DialectRegistry &registry);

} // namespace mlir::catfish

#endif // CATFISH_DRIVER_COMPILE_H
