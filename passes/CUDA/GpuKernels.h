//===- GpuKernels.h - building gpu.funcs from kernel functions --*- C++ -*-===//
//
// What catfish-map-to-gpu and catfish-map-reductions-to-gpu share: the gpu.module, a gpu.func
// taking every buffer of its kernel function, the host-side values it recomputes, the launch.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_PASSES_CUDA_GPUKERNELS_H
#define CATFISH_PASSES_CUDA_GPUKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::catfish {

/// Ops that may stay in a kernel's host function: constants, views of its buffers and reads of
/// constant globals, recomputed in every gpu.func that uses them; launches and library calls;
/// the return.
bool staysOnHost(Operation &op);

/// The gpu.module @catfish_cuda of `module`, created (and `module` marked as a GPU container)
/// on first use.
gpu::GPUModuleOp getOrCreateGpuModule(ModuleOp module);

/// "<func>_<n>" for the first n no kernel of `gpuModule` has.
std::string nextKernelName(gpu::GPUModuleOp gpuModule, func::FuncOp func);

/// A new kernel `name` in `gpuModule` whose parameters are the memref arguments of `func`, in
/// order, with `blockSize` threads per block and `blocks` blocks. `mapping` maps the host
/// function's arguments and the host-side values defined before `before` to their copies in
/// the kernel (constant globals are copied into the gpu.module). The builder is left before
/// the kernel's gpu.return.
gpu::GPUFuncOp createKernel(func::FuncOp func, Operation *before, gpu::GPUModuleOp gpuModule,
                            StringRef name, int64_t blockSize, int64_t blocks, IRMapping &mapping,
                            OpBuilder &builder);

/// The byte offset of each workgroup buffer of `kernel` in its block's shared memory (each
/// 16-byte aligned, in order), and the total in `bytes`.
SmallVector<int64_t> sharedMemoryLayout(gpu::GPUFuncOp kernel, int64_t &bytes);

/// Whether threads of `kernel` exchange values: barriers, shuffles or shared memory.
bool isCooperative(gpu::GPUFuncOp kernel);

/// Replaces `op` (in `func`) by a launch of `kernel` over `blocks` blocks of `blockSize` threads
/// with every memref argument of `func`. The launch carries `catfish.cooperative` and
/// `catfish.static_shared_bytes` for the artifact's launch table.
void replaceByLaunch(Operation *op, func::FuncOp func, gpu::GPUFuncOp kernel, int64_t blocks,
                     int64_t blockSize);

} // namespace mlir::catfish

#endif // CATFISH_PASSES_CUDA_GPUKERNELS_H
