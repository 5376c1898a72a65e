//===- CPU.h - LLVM dialect kernels -> x86-64 shared object -----*- C++ -*-===//
#ifndef CATFISH_TARGET_CPU_H
#define CATFISH_TARGET_CPU_H

#include "catfish/Target/Kernels.h"

#include "llvm/Support/Error.h"

namespace mlir::catfish {

/// Translates the kernel module, lowered to the LLVM dialect by buildCpuCodegenPipeline, to
/// LLVM IR, optimizes it for the x86-64 level or CPU `arch` and links one shared object
/// exporting each kernel's symbol with the CPU kernel ABI of artifact_format.h. Returns the
/// shared object's bytes.
llvm::Expected<std::string> emitCpuSharedObject(ModuleOp kernels, ArrayRef<KernelInfo> infos,
                                                StringRef arch);

/// Fails with a message listing the usual choices when LLVM knows no x86-64 CPU `arch`.
llvm::Error checkCpuArch(StringRef arch);

/// Registers what the CPU target needs in a context's registry (dialects, interfaces,
/// LLVM IR translations). Call before the context loads dialects.
void registerCpuTargetDialects(DialectRegistry &registry);

} // namespace mlir::catfish

#endif // CATFISH_TARGET_CPU_H
