//===- model.h - the structs behind the C API handles -----------*- C++ -*-===//
#ifndef CATFISH_RUNTIME_SRC_MODEL_H
#define CATFISH_RUNTIME_SRC_MODEL_H

#include "catfish/artifact_file.h"
#include "catfish/runtime.h"
#include "cpu_code.h"

#include <memory>
#include <vector>

/// Immutable after catfish_model_load(); shared read-only by all sessions.
struct catfish_model_t {
  std::unique_ptr<catfish::artifact::ArtifactFile> file;
  /// Per target index; null for targets no step uses.
  std::vector<std::unique_ptr<catfish::rt::SharedObject>> code;
  /// Per kernel index; null for kernels no step uses.
  std::vector<catfish::artifact::CpuKernelFn> kernels;
  std::vector<catfish_tensor_info_t> inputs;
  std::vector<catfish_tensor_info_t> outputs;
  std::vector<catfish_target_info_t> targets;
  /// Threads a session runs a step on (the caller included).
  uint32_t numThreads = 1;
  /// The most tasks any step runs at once: min(max_tasks, numThreads) over the steps.
  uint32_t maxStepTasks = 1;
};

#endif // CATFISH_RUNTIME_SRC_MODEL_H
