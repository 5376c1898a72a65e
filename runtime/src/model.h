//===- model.h - the structs behind the C API handles -----------*- C++ -*-===//
#ifndef CATFISH_RUNTIME_SRC_MODEL_H
#define CATFISH_RUNTIME_SRC_MODEL_H

#include "catfish/artifact_file.h"
#include "catfish/runtime.h"
#include "cpu_code.h"
#include "cuda/backend.h"
#include "cuda_emulator.h"

#include <memory>
#include <vector>

/// Immutable after catfish_model_load(); shared read-only by all sessions.
struct catfish_model_t {
  std::unique_ptr<catfish::artifact::ArtifactFile> file;
  /// Per target index; null for targets no step uses.
  std::vector<std::unique_ptr<catfish::rt::SharedObject>> code;
  /// One call of host code: a CPU kernel, or one CUDA launch the emulator runs.
  struct Call {
    /// The CPU kernel (unused for an emulated launch).
    catfish::artifact::CpuKernelFn fn;
    /// The most parts the call's work may be split into.
    uint32_t maxTasks;
    /// An emulated call's arguments: the step's buffers at these positions of Step.args. A
    /// CPU kernel takes all of the step's buffers.
    std::vector<uint32_t> stepArgs;
    /// Set for a CUDA launch run by the emulator.
    std::shared_ptr<const catfish::rt::EmulatedLaunch> launch;
    /// Set for a library matrix product run by the emulator.
    std::shared_ptr<const catfish::rt::EmulatedMatmul> matmul;
  };
  /// Per step, the kernel it runs on this device (Step.kernel or one of its alternatives);
  /// kNoKernel for a control step.
  std::vector<uint32_t> stepKernels;
  static constexpr uint32_t kNoKernel = UINT32_MAX;
  /// The kernel of the first step that runs one; kNoKernel if none does.
  uint32_t firstKernel() const {
    for (uint32_t k : stepKernels)
      if (k != kNoKernel)
        return k;
    return kNoKernel;
  }
  /// Per kernel index, the calls that run it, in order; empty for kernels no step uses.
  std::vector<std::vector<Call>> calls;
  /// "cpu", "cuda:N" or "cuda-emulator".
  std::string device;
  /// Device cpu: which of the artifact's CPU codes the steps run ("x86-64-v4 code (the
  /// artifact has x86-64-v3, x86-64-v4)"); empty otherwise.
  std::string cpuDescription;
  /// The plan on the GPU, for a CUDA device.
  catfish::rt::cuda::GpuModelPtr gpu;
  std::vector<catfish_tensor_info_t> inputs;
  std::vector<catfish_tensor_info_t> outputs;
  std::vector<catfish_target_info_t> targets;
  /// Threads a session runs a step on (the caller included).
  uint32_t numThreads = 1;
  /// The most tasks any call runs at once: min(maxTasks, numThreads) over the calls.
  uint32_t maxStepTasks = 1;
};

#endif // CATFISH_RUNTIME_SRC_MODEL_H
