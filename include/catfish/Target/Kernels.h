//===- Kernels.h - the kernel table of a lowered kernel module --*- C++ -*-===//
#ifndef CATFISH_TARGET_KERNELS_H
#define CATFISH_TARGET_KERNELS_H

#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <array>
#include <optional>
#include <vector>
#include <string>

namespace mlir::catfish {

/// What ptxas reports for one CUDA function on one arch.
struct CudaResources {
  std::string arch;
  unsigned registers = 0;
  unsigned spillStoreBytes = 0;
  unsigned spillLoadBytes = 0;
  unsigned stackBytes = 0;
  /// Static shared memory.
  unsigned sharedBytes = 0;
};

/// One launch of a generated CUDA function (the artifact's CudaLaunch).
struct CudaLaunch {
  std::string function;
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::array<uint32_t, 3> block = {1, 1, 1};
  uint32_t dynamicSharedBytes = 0;
  /// Each parameter is the step's buffer args[i].
  SmallVector<uint32_t> args;
  /// One entry per cubin.
  std::vector<CudaResources> resources;
  /// Threads exchange values (barriers, shuffles, shared memory).
  bool cooperative = false;
  /// Shared memory the function declares (catfish.static_shared_bytes of the launch).
  uint32_t staticSharedBytes = 0;
};

/// A matrix product for cuBLASLt (the artifact's CudaMatmul; fields as there).
struct CudaMatmul {
  uint32_t a = 0, b = 0, c = 0;
  uint64_t m = 0, n = 0, k = 0, batch = 1;
  bool transposeA = false, transposeB = false;
  uint64_t lda = 0, ldb = 0, ldc = 0;
  uint64_t strideA = 0, strideB = 0, strideC = 0;
  uint64_t offsetA = 0, offsetB = 0, offsetC = 0;
  /// The element type of A, B and C.
  Type elementType;
  float alpha = 1, beta = 0;
};

/// One thing a CUDA plan does: a launch or a library call (exactly one is set).
struct CudaCall {
  std::optional<CudaLaunch> launch;
  std::optional<CudaMatmul> matmul;
};

/// One kernel: the function outlined from one catfish.fusion region (catfish-outline-kernels).
struct KernelInfo {
  /// The exported symbol the runtime calls.
  std::string symbol;
  FusionKind kind;
  /// The ONNX node(s) of the region ("onnx.MatMul 'node'").
  std::string location;
  /// How many parts the kernel's work may be split into (see artifact_format.h).
  unsigned maxTasks = 1;
  /// Bytes of each scratch buffer the kernel takes after its results (catfish-scratch-buffers).
  std::vector<uint64_t> scratchBytes;
  /// Target cuda: the launches and library calls that compute the region, in order.
  std::vector<CudaCall> calls;
};

/// The kernels of a module filled by catfish-outline-kernels, in order (kernel i computes
/// fusion region i of @main), at any stage of a target's pipeline: each top-level function that
/// carries `catfish.kind`, with its location, `catfish.max_tasks` and the sizes of the
/// `catfish.scratch` buffers.
SmallVector<KernelInfo> collectKernels(ModuleOp kernelModule);

/// The function the program runs: @main.
func::FuncOp getMainFunction(ModuleOp program);

/// "onnx.Op 'name'" for a location built by the importer; the printed location otherwise.
std::string describeLocation(Location loc);

} // namespace mlir::catfish

#endif // CATFISH_TARGET_KERNELS_H
