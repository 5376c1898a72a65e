//===- CPU.h - kernel functions -> x86-64 shared object ---------*- C++ -*-===//
#ifndef CATFISH_TARGET_CPU_H
#define CATFISH_TARGET_CPU_H

#include "catfish/Target/Kernels.h"

#include "llvm/Support/Error.h"

namespace mlir::catfish {

struct CpuTargetOptions {
  /// The x86-64 CPU level or name LLVM knows ("x86-64-v3", "x86-64-v4", "sapphirerapids").
  std::string arch = "x86-64-v3";
  /// The fewest loop iterations in one part of a kernel split for the runtime's threads.
  int64_t taskMinWork = 32768;
};

/// Lowers the outlined kernel functions (tensor bodies on memref arguments) through linalg,
/// bufferization and loops to LLVM, compiles them for `options.arch` and links one shared
/// object exporting each kernel's symbol with the CPU kernel ABI of artifact_format.h. Returns
/// the shared object's bytes and sets each kernel's `maxTasks`. The module is lowered in
/// place. Diagnostics go to the context.
llvm::Expected<std::string> buildCpuSharedObject(ModuleOp kernels,
                                                 MutableArrayRef<KernelInfo> infos,
                                                 const CpuTargetOptions &options);

/// Registers what buildCpuSharedObject needs in a context's registry (dialects, interfaces,
/// LLVM IR translations). Call before the context loads dialects.
void registerCpuTargetDialects(DialectRegistry &registry);

} // namespace mlir::catfish

#endif // CATFISH_TARGET_CPU_H
