//===- Compile.h - the compile pipeline the tools share ---------*- C++ -*-===//
#ifndef CATFISH_DRIVER_COMPILE_H
#define CATFISH_DRIVER_COMPILE_H

#include "catfish/Artifact/Artifact.h"
#include "catfish/Import/OnnxImporter.h"

namespace mlir::catfish {

struct CompileOptions {
  ImportOptions import;
  /// Run shape specialization, canonicalization and CSE after import.
  bool cleanup = true;
  /// Group ops into fusion regions; false wraps every op alone.
  bool fuse = true;
  /// Code generation target ("cpu") and its arch.
  std::string target = "cpu";
  std::string arch;
  /// cpu: the fewest loop iterations in one part of a kernel split across threads.
  int64_t taskMinWork = 32768;
};

/// Imports `path` and runs the import cleanup pipeline. Errors are "FILE: reason".
llvm::Expected<OwningOpRef<ModuleOp>> compileToCatfish(MLIRContext &context, StringRef path,
                                                       const CompileOptions &options);

/// Expands the composite ops the CPU target has no kernel for (catfish-expand-composites), then
/// groups the ops of an imported program into fusion regions.
llvm::Error formFusions(ModuleOp program, StringRef path, const CompileOptions &options);

/// Outlines the fusion regions of `program` into kernel functions on linalg (the IR the
/// target code generators start from).
llvm::Expected<OwningOpRef<ModuleOp>> lowerKernelsToLinalg(ModuleOp program, StringRef path,
                                                           SmallVectorImpl<KernelInfo> &kernels);

/// The whole pipeline: import, clean up, fuse, generate code, write `outputPath`.
llvm::Expected<ArtifactSummary> compileToArtifact(MLIRContext &context, StringRef path,
                                                  StringRef outputPath,
                                                  const CompileOptions &options);

/// A registry holding every dialect and translation the pipeline uses.
void registerCompilerDialects(DialectRegistry &registry);

} // namespace mlir::catfish

#endif // CATFISH_DRIVER_COMPILE_H
