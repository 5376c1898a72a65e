//===- Passes.h - catfish passes and pipelines ------------------*- C++ -*-===//
#ifndef CATFISH_PASSES_PASSES_H
#define CATFISH_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::catfish {

/// The fewest loop iterations in one part of a CPU kernel split across threads: the one default
/// of catfish-tile-for-tasks' `min-work` and the CPU pipeline's `task-min-work`.
inline constexpr int64_t kDefaultTaskMinWork = 32768;

#define GEN_PASS_DECL
#include "catfish/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "catfish/Passes/Passes.h.inc"

/// The import-time cleanup pipeline: specialize shapes, canonicalize, CSE.
void buildImportCleanupPipeline(OpPassManager &pm);

/// Options of the fusion pipeline (`catfish-fusion`), anchored on the program module.
struct FusionPipelineOptions : PassPipelineOptions<FusionPipelineOptions> {
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("Fuse ops; false gives every op a region of its own"),
                    llvm::cl::init(true)};
  Option<bool> raiseAttention{
      *this, "raise-attention",
      llvm::cl::desc("Raise attention written out op by op to catfish.attention (for targets "
                     "with an attention kernel)"),
      llvm::cl::init(false)};
  Option<int64_t> weightPanel{
      *this, "weight-panel",
      llvm::cl::desc("Pack constant matmul weights into panels of this many columns "
                     "(catfish-pack-weights; for the CPU micro-kernel), 0 to keep them as they are"),
      llvm::cl::init(0)};
};

/// Folds batch norms into their convolutions (catfish-fold-batch-norm), raises norms written
/// out op by op (catfish-raise-norms), merges matmuls of one input when fusing
/// (catfish-merge-matmuls), raises attention (catfish-raise-attention) when asked, packs
/// matmul weights (catfish-pack-weights) when a weight panel is given, then
/// groups every op of @main into catfish.fusion regions (catfish-form-fusions). Composite ops
/// (`catfish.attention`) keep a region of their own, which each target lowers its way.
void buildFusionPipeline(OpPassManager &pm, const FusionPipelineOptions &options);

/// The first stage of every target's code generation (anchored on a kernel module): kernels
/// lowered to linalg on tensors (catfish-convert-to-linalg with `conversion`), elementwise
/// generics fused.
void buildKernelLinalgPipeline(OpPassManager &pm, const CatfishConvertToLinalgOptions &conversion);

/// One-shot bufferization of a kernel module on linalg tensors (identity layouts, results
/// computed in the output buffers), shared by every target.
void buildKernelBufferizePipeline(OpPassManager &pm);

/// The stages of the CPU code generation pipeline, in the order it runs them.
enum class CpuStage {
  /// Kernels on linalg tensors, elementwise generics fused.
  Linalg,
  /// Root ops split into scf.forall parts for threads, contractions register-blocked.
  Tiled,
  /// Kernels on memrefs.
  Bufferized,
  /// Parts assigned to tasks, everything else scf/cf loops and 1-D vectors.
  Loops,
  /// The LLVM dialect, ready for translation to LLVM IR.
  LLVM,
};

/// The nested module catfish-outline-kernels fills for the CPU target.
inline constexpr llvm::StringLiteral kCpuKernelModule = "cpu_kernels";

/// Options of the CPU code generation pipeline (`catfish-cpu-codegen`).
struct CpuCodegenOptions : PassPipelineOptions<CpuCodegenOptions> {
  Option<std::string> arch{
      *this, "arch",
      llvm::cl::desc("x86-64 level or CPU name the kernels are compiled for (x86-64-v3: any "
                     "AVX2 machine; x86-64-v4, znver4, sapphirerapids, ...)"),
      llvm::cl::init("x86-64-v3")};
  Option<int64_t> taskMinWork{
      *this, "task-min-work",
      llvm::cl::desc("Fewest loop iterations in one part of a kernel split across threads"),
      llvm::cl::init(kDefaultTaskMinWork)};
  Option<CpuStage> stopAfter{
      *this, "stop-after", llvm::cl::desc("Last stage to run"), llvm::cl::init(CpuStage::LLVM),
      llvm::cl::values(clEnumValN(CpuStage::Linalg, "linalg", "kernels on linalg tensors"),
                       clEnumValN(CpuStage::Tiled, "tiled", "parts for threads, micro-kernels"),
                       clEnumValN(CpuStage::Bufferized, "bufferized", "kernels on memrefs"),
                       clEnumValN(CpuStage::Loops, "loops", "scf/cf loops and 1-D vectors"),
                       clEnumValN(CpuStage::LLVM, "llvm", "the LLVM dialect"))};
};

/// The width of the vector registers the CPU code for `arch` uses: 512 where the arch has
/// AVX-512, else 256 (also for a name LLVM's x86 CPU table lacks, such as "generic").
int64_t cpuVectorBits(StringRef arch);

/// Lowers the kernel functions of a module filled by catfish-outline-kernels (anchored on that
/// module) to the LLVM dialect, stage by stage up to `options.stopAfter`. Each kernel function
/// gets `catfish.max_tasks` when its work splits into parts (artifact_format.h).
void buildCpuCodegenPipeline(OpPassManager &pm, const CpuCodegenOptions &options);

/// From bufferized kernels to the LLVM dialect: task partitions, scf/cf loops, 1-D vectors,
/// then LLVM with bare-pointer functions. The CPU pipeline's last two stages; the CUDA
/// emulator's host code takes the same way.
void buildCpuLoweringPipeline(OpPassManager &pm);

/// The stages of the CUDA code generation pipeline, in the order it runs them.
enum class CudaStage {
  /// Kernels on linalg tensors, elementwise generics fused.
  Linalg,
  /// Kernels on memrefs.
  Bufferized,
  /// Host functions launching gpu.funcs of one gpu.module, a thread per point.
  Gpu,
  /// The gpu.module in the NVVM and LLVM dialects, one NVVM target per arch.
  Nvvm,
};

/// The nested module catfish-outline-kernels fills for the CUDA target.
inline constexpr llvm::StringLiteral kCudaKernelModule = "cuda_kernels";

/// Options of the CUDA code generation pipeline (`catfish-cuda-codegen`).
struct CudaCodegenOptions : PassPipelineOptions<CudaCodegenOptions> {
  ListOption<std::string> archs{
      *this, "archs",
      llvm::cl::desc("GPU archs to build cubins for (sm_80 ... sm_90a); the lowest one's PTX is "
                     "shipped too, so newer GPUs JIT it (default sm_80,sm_90a)"),
      llvm::cl::list_init<std::string>({"sm_80", "sm_90a"})};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit root: libdevice, ptxas and fatbinary are taken from it"),
      llvm::cl::init("/usr/local/cuda")};
  Option<CudaStage> stopAfter{
      *this, "stop-after", llvm::cl::desc("Last stage to run"), llvm::cl::init(CudaStage::Nvvm),
      llvm::cl::values(clEnumValN(CudaStage::Linalg, "linalg", "kernels on linalg tensors"),
                       clEnumValN(CudaStage::Bufferized, "bufferized", "kernels on memrefs"),
                       clEnumValN(CudaStage::Gpu, "gpu", "launches of gpu.funcs"),
                       clEnumValN(CudaStage::Nvvm, "nvvm", "the NVVM dialect"))};
};

/// Lowers the kernel functions of a module filled by catfish-outline-kernels (anchored on that
/// module) for CUDA, stage by stage up to `options.stopAfter`: each kernel function keeps its
/// host side (gpu.launch_func ops over its buffers) and its GPU code lands in one gpu.module,
/// lowered to NVVM with an NVVM target per arch and libdevice linked.
void buildCudaCodegenPipeline(OpPassManager &pm, const CudaCodegenOptions &options);

/// The CUDA emulator's host code for the kernel module (`catfish-cuda-emulator`): the CUDA
/// pipeline up to its gpu stage, catfish-emulate-gpu, then buildCpuLoweringPipeline. The
/// functions it exports are the gpu.funcs the CUDA pipeline makes from the same module.
void buildCudaEmulatorPipeline(OpPassManager &pm);

/// Registers the named pipelines `catfish-fusion`, `catfish-cpu-codegen`,
/// `catfish-cuda-codegen` and `catfish-cuda-emulator`.
void registerCatfishPipelines();

} // namespace mlir::catfish

#endif // CATFISH_PASSES_PASSES_H
