//===- CudaCodegenPipeline.cpp - the CUDA target's pipeline builder ------===//
//
// attention regions -> flash-attention gpu.funcs; the rest: linalg on tensors -> one-shot bufferization -> parallel loops -> a thread per point in
// gpu.funcs of one gpu.module (catfish-map-to-gpu) -> NVVM, one target per arch, libdevice
// linked. PTX, ptxas and the fatbin follow in lib/Target/CUDA. The emulator's pipeline runs the
// same stages up to the gpu.funcs, then turns them into host code.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::catfish;

namespace {

void addBufferizedStage(OpPassManager &pm) {
  buildKernelBufferizePipeline(pm);
  pm.addPass(createCatfishCopiesToLinalg());
}

void addGpuStage(OpPassManager &pm) {
  pm.addPass(createCatfishMatmulsToLibrary());
  pm.addPass(createCatfishScratchBuffers());
  pm.addPass(createCatfishMapReductionsToGpu());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCatfishMapToGpu());
  // In the gpu stage, so that the emulator runs the expanded math too.
  pm.addNestedPass<gpu::GPUModuleOp>(createCatfishExpandGpuMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void addNvvmStage(OpPassManager &pm, const CudaCodegenOptions &options) {
  SmallString<128> libdevice(options.cudaPath);
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  for (const std::string &arch : options.archs) {
    GpuNVVMAttachTargetOptions target;
    target.chip = arch;
    // PTX ISA 8.0 (CUDA 12.0) is the oldest that knows sm_90a and every ptxas since reads it.
    target.features = "+ptx80";
    target.optLevel = 3;
    target.linkLibs.push_back(libdevice.str().str());
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createLowerAffinePass());
  device.addPass(createSCFToControlFlowPass());
  device.addPass(memref::createExpandStridedMetadataPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  device.addPass(arith::createArithExpandOpsPass(expand));
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true;
  device.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());
}

} // namespace

void mlir::catfish::buildCudaCodegenPipeline(OpPassManager &pm,
                                             const CudaCodegenOptions &options) {
  CudaStage last = options.stopAfter;
  pm.addPass(createCatfishAttentionToGpu());
  // Scatters without a reduction run as selections: a GPU runs the elements in parallel, not
  // one loop over the updates.
  CatfishConvertToLinalgOptions conversion;
  conversion.scatterAsSelections = true;
  buildKernelLinalgPipeline(pm, conversion);
  if (last == CudaStage::Linalg)
    return;
  addBufferizedStage(pm);
  if (last == CudaStage::Bufferized)
    return;
  addGpuStage(pm);
  if (last == CudaStage::Gpu)
    return;
  addNvvmStage(pm, options);
}

void mlir::catfish::buildCudaEmulatorPipeline(OpPassManager &pm) {
  CudaCodegenOptions cuda;
  cuda.stopAfter = CudaStage::Gpu;
  buildCudaCodegenPipeline(pm, cuda);
  pm.addPass(createCatfishEmulateGpu());
  pm.addPass(createSymbolDCEPass());
  pm.addPass(createCanonicalizerPass());
  buildCpuLoweringPipeline(pm);
}
