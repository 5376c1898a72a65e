//===- CUDA.h - NVVM kernels -> PTX, cubins and one fatbin ------*- C++ -*-===//
#ifndef CATFISH_TARGET_CUDA_H
#define CATFISH_TARGET_CUDA_H

#include "catfish/Artifact/Artifact.h"
#include "catfish/Passes/Passes.h"

#include "llvm/Support/Error.h"

namespace mlir::catfish {

/// Fills `infos[i].calls` from kernel function `infos[i].symbol` (after buildCudaCodegenPipeline's
/// gpu stage), in order: each gpu.launch_func (function, static grid and block, each parameter
/// as the position of the step's buffer it passes) and each library call (catfish.matmul).
llvm::Error collectCudaCalls(ModuleOp kernels, MutableArrayRef<KernelInfo> infos);

/// The kernel module lowered to NVVM by buildCudaCodegenPipeline -> PTX per arch (LLVM's NVPTX
/// backend) -> a cubin per arch (`ptxas -v`, its resource report kept in each launch of
/// `infos`) -> one fatbin holding every cubin and the PTX of the lowest arch without an 'a'
/// suffix, for newer GPUs to JIT. A spill, or a block that cannot get its registers or shared
/// memory, adds a message naming the region to `warnings`.
llvm::Expected<TargetCode> emitCudaFatbin(ModuleOp kernels, const CudaCodegenOptions &options,
                                          MutableArrayRef<KernelInfo> infos,
                                          std::vector<std::string> &warnings);

/// The PTX of each arch ("sm_80" -> text) for `catfish-compile --emit=ptx`.
llvm::Expected<SmallVector<std::pair<std::string, std::string>>>
emitCudaPtx(ModuleOp kernels, const CudaCodegenOptions &options);

/// Registers what the CUDA target needs in a context's registry (the NVVM target attribute's
/// serialization, the GPU and NVVM dialects' LLVM IR translations).
void registerCudaTargetDialects(DialectRegistry &registry);

} // namespace mlir::catfish

#endif // CATFISH_TARGET_CUDA_H
