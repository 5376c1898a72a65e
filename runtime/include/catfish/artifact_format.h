//===- artifact_format.h - the fixed layout of a .catfish file --*- C++ -*-===//
//
// Shared by the compiler (which writes artifacts) and the runtime (which reads them). Plain C++,
// no dependencies. docs/artifact-format.md is the prose version of this header.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_ARTIFACT_FORMAT_H
#define CATFISH_ARTIFACT_FORMAT_H

#include <cstdint>

namespace catfish::artifact {

/// The first 8 bytes of every artifact.
inline constexpr char kMagic[8] = {'C', 'A', 'T', 'F', 'I', 'S', 'H', '\0'};
/// Bumped on every change an older runtime cannot read. Writers write the lowest version that
/// describes the artifact: 2 for outputs with data-dependent dims (TensorInfo.
/// data_dependent_dims), which a version-1 runtime would return padded, as if static; 3 for
/// control steps (Step.control), which a version-2 runtime would run as kernels.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kFirstFormatVersion = 1;
inline constexpr uint32_t kDataDependentDimsFormatVersion = 2;
inline constexpr uint32_t kControlStepsFormatVersion = 3;
/// Every section starts at a multiple of this.
inline constexpr uint64_t kSectionAlignment = 64;
/// The weights section starts at a multiple of this, so it can be mapped page by page.
inline constexpr uint64_t kWeightsSectionAlignment = 4096;
/// Every weight starts at a multiple of this inside the weights section.
inline constexpr uint64_t kWeightAlignment = 64;
/// Every arena buffer starts at a multiple of this inside the arena.
inline constexpr uint64_t kArenaAlignment = 64;

enum class SectionKind : uint32_t {
  /// The FlatBuffers manifest (runtime/schema/artifact.fbs).
  Manifest = 1,
  /// Code for one target (a shared object, a cubin, PTX); Target.section points here.
  Code = 2,
  /// All weights, each 64-byte aligned.
  Weights = 3,
};

/// At offset 0. All integers are little-endian.
struct FileHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t sectionCount;
  /// Total file size in bytes; a shorter file is truncated.
  uint64_t fileSize;
  /// XXH64 (seed 0) of this header with `headerChecksum` set to 0, followed by the section
  /// table.
  uint64_t headerChecksum;
};
static_assert(sizeof(FileHeader) == 32, "FileHeader layout");

/// `sectionCount` entries follow the header directly.
struct SectionEntry {
  uint32_t kind;
  uint32_t reserved;
  uint64_t offset;
  uint64_t size;
  /// XXH64 (seed 0) of the section's bytes.
  uint64_t checksum;
};
static_assert(sizeof(SectionEntry) == 32, "SectionEntry layout");

/// The signature every CPU kernel exports. `args` points to the step's buffers, operands first,
/// then results. A kernel's work is split into `taskCount` independent parts (at most
/// Kernel.max_tasks of the manifest); a call computes part `task`. The runtime's thread pool runs
/// the parts of one step concurrently and all of them before the next step.
using CpuKernelFn = void (*)(void *const *args, int64_t task, int64_t taskCount);

/// The target that holds host code for a cuda target's functions (compiled with
/// --cuda-emulation). Each CudaLaunch.function is exported with the CPU kernel signature,
/// called once per thread: `args` holds the launch's parameters, then pointers to
/// `uint32_t dims[6]` (grid x, y, z, then block x, y, z), to the block's shared memory
/// (CudaLaunch.static_shared_bytes, at least 1 byte) and to the thread's CudaEmulatorThread;
/// `task` is the linear block index and `taskCount` the linear thread index (x fastest).
inline constexpr const char kCudaEmulatorTarget[] = "cuda-emulator";

/// gpu.shuffle's modes, as emulated code passes them.
enum class CudaShuffleMode : uint32_t { Xor = 0, Down = 1, Up = 2, Idx = 3 };

/// What emulated code calls for the operations that make threads wait for each other. The
/// runtime runs a cooperative launch's threads as fibers and switches between them here.
struct CudaEmulatorThread {
  /// __syncthreads(): returns once every thread of the block that has not exited arrived.
  void (*barrier)(CudaEmulatorThread *self);
  /// A 32-bit warp shuffle: returns the value of the source lane in the low 32 bits and
  /// whether the source lane was in range in bit 32 (otherwise the caller's own value).
  uint64_t (*shuffle)(CudaEmulatorThread *self, uint32_t value, uint32_t offset, uint32_t width,
                      uint32_t mode);
};

} // namespace catfish::artifact

#endif // CATFISH_ARTIFACT_FORMAT_H
