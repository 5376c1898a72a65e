//===- CPU.h - LLVM dialect kernels -> x86-64 shared object -----*- C++ -*-===//
#ifndef CATFISH_TARGET_CPU_H
#define CATFISH_TARGET_CPU_H

#include "catfish/Target/Kernels.h"

#include "llvm/Support/Error.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir::catfish {

/// CPU kernels as LLVM IR for one arch, with their ABI wrappers: what `linkCpuKernels` turns
/// into a shared object without touching MLIR, so compiles for several archs can link on
/// threads of their own.
struct CpuKernelsIR {
  CpuKernelsIR();
  ~CpuKernelsIR();
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::Module> module;
};

/// The first half of emitCpuSharedObject: the kernel module in LLVM IR for `arch`.
llvm::Expected<std::unique_ptr<CpuKernelsIR>>
translateCpuKernels(ModuleOp kernels, ArrayRef<KernelInfo> infos, StringRef arch);

/// The second half: O3 for the arch, object code, `cc -shared`; the shared object's bytes.
llvm::Expected<std::string> linkCpuKernels(std::unique_ptr<CpuKernelsIR> ir);

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
