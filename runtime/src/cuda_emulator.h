//===- cuda_emulator.h - running CUDA launches on the host ------*- C++ -*-===//
//
// The CUDA emulator executes an artifact's CUDA plan launch by launch with the host code of
// its cuda-emulator target: every thread of every block runs the function's host code once.
// The threads of a cooperative launch (barriers, shuffles, shared memory) run as fibers of one
// OS thread per block, switching where they wait for each other, so a missing barrier or a
// wrong shuffle lane changes the numbers as it would on a GPU; lanes of a warp that wait at a
// shuffle while others exited or wait at a barrier are reported, not hung on. A barrier waits
// for the threads that have not exited, as on the GPU.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_CUDA_EMULATOR_H
#define CATFISH_RUNTIME_SRC_CUDA_EMULATOR_H

#include "catfish/artifact_format.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace catfish::rt {

/// One CUDA launch of a model as the emulator runs it (from the manifest's launch table).
struct EmulatedLaunch {
  /// The function's host code for one thread (artifact_format.h, kCudaEmulatorTarget).
  artifact::CpuKernelFn thread;
  /// The function's name, for errors.
  std::string function;
  /// Grid x, y, z, then block x, y, z.
  uint32_t dims[6];
  bool cooperative;
  uint32_t sharedBytes;

  uint64_t blockCount() const { return uint64_t(dims[0]) * dims[1] * dims[2]; }
};

/// The element types of the matrix products the plan hands to cuBLASLt.
enum class MatmulElement : uint8_t { F32, F16, BF16 };

/// A matrix product the plan hands to cuBLASLt (the manifest's CudaMatmul), which the emulator
/// computes on the host as cuBLASLt is asked to: elements widened to f32, f32 products and
/// sums, the result rounded to the element type once (to nearest even), row-major,
/// transposes, leading dimensions and batch strides as given.
struct EmulatedMatmul {
  MatmulElement element;
  uint64_t m, n, k, batch;
  bool transposeA, transposeB;
  uint64_t lda, ldb, ldc, strideA, strideB, strideC, offsetA, offsetB, offsetC;
  float alpha, beta;
};

/// A launch or a library call bound to one session's buffers (exactly one of `launch` and
/// `matmul` is set). The first error of any of its blocks is kept.
struct EmulatedCall {
  const EmulatedLaunch *launch = nullptr;
  const EmulatedMatmul *matmul = nullptr;
  /// The device addresses of the launch's parameters, or of A, B and C.
  std::vector<void *> params;
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string error;

  void fail(const std::string &message);
};

/// The CpuKernelFn that runs an EmulatedCall (args[0]): blocks [task * B / taskCount,
/// (task + 1) * B / taskCount) of a launch's B blocks, one after another, or that share of the
/// rows of all batches of a matrix product.
void runEmulatedCall(void *const *args, int64_t task, int64_t taskCount);

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_SRC_CUDA_EMULATOR_H
