//===- Artifact.h - memory planning and the .catfish writer -----*- C++ -*-===//
#ifndef CATFISH_ARTIFACT_ARTIFACT_H
#define CATFISH_ARTIFACT_ARTIFACT_H

#include "catfish/Target/Kernels.h"

#include "llvm/Support/Error.h"

namespace mlir::catfish {

/// Compiled code for one target, stored as one code section.
struct TargetCode {
  std::string name;   // "cpu", "cuda"
  std::string arch;   // "x86-64-v3", "sm_90a", "compute_80"
  std::string format; // "elf-shared-object", "cubin", "ptx"
  std::string bytes;
};

struct ArtifactSummary {
  uint64_t arenaSize = 0;
  uint64_t weightsSize = 0;
  uint64_t fileSize = 0;
  size_t kernels = 0;
  /// What the compile found worth telling (spills, launch limits), each naming its region.
  std::vector<std::string> warnings;
};

/// The kernels of one target: kernel i computes fusion region i of @main.
struct TargetKernels {
  ArrayRef<KernelInfo> kernels;
  /// Index into the artifact's targets.
  uint32_t target;
};

/// Plans memory for `program`'s @main (one step per catfish.fusion, in order, and the control
/// steps of each catfish.loop around its body's; arena offsets from buffer liveness, weights
/// 64-byte aligned) and writes the artifact to `outputPath`
/// (docs/artifact-format.md). Each step runs the first set's kernel, the other sets' kernels
/// are its alternatives; scratch buffers come from the one set that has them. Weights stream
/// from the constants' blobs (mapped from the model), never copied as a whole. The file
/// appears only when complete.
llvm::Expected<ArtifactSummary> writeArtifact(ModuleOp program,
                                              ArrayRef<TargetKernels> kernelSets,
                                              ArrayRef<TargetCode> targets,
                                              StringRef modelPath, StringRef outputPath);

} // namespace mlir::catfish

#endif // CATFISH_ARTIFACT_ARTIFACT_H
