//===- Passes.cpp - target-independent pipeline builders, registration ---===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::catfish::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCatfishSpecializeShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::catfish::buildFusionPipeline(OpPassManager &pm, const FusionPipelineOptions &options) {
  OpPassManager &funcs = pm.nest<func::FuncOp>();
  funcs.addPass(createCatfishHoistLoopInvariants());
  funcs.addPass(createCatfishFoldConstantQuantize());
  funcs.addPass(createCatfishFoldBatchNorm());
  funcs.addPass(createCatfishRaiseNorms());
  // The merged product's slices only cost nothing when they fuse into their consumers.
  if (options.fuse)
    funcs.addPass(createCatfishMergeMatmuls());
  if (options.raiseAttention)
    funcs.addPass(createCatfishRaiseAttention());
  // Elementwise ops after a product's reshape join its epilogue only once they run before it.
  if (options.fuse)
    funcs.addPass(createCatfishSinkReshapes());
  if (options.weightPanel > 0) {
    CatfishPackWeightsOptions pack;
    pack.panel = options.weightPanel;
    funcs.addPass(createCatfishPackWeights(pack));
  }
  funcs.addPass(createCanonicalizerPass());
  CatfishFormFusionsOptions fusion;
  fusion.fuse = options.fuse;
  funcs.addPass(createCatfishFormFusions(fusion));
}

void mlir::catfish::buildKernelLinalgPipeline(OpPassManager &pm,
                                              const CatfishConvertToLinalgOptions &conversion) {
  OpPassManager &funcs = pm.nest<func::FuncOp>();
  funcs.addPass(createCatfishConvertToLinalg(conversion));
  funcs.addPass(createCanonicalizerPass());
  funcs.addPass(createCatfishFuseLinalgElementwise());
  funcs.addPass(createCanonicalizerPass());
  funcs.addPass(createCSEPass());
}

void mlir::catfish::buildKernelBufferizePipeline(OpPassManager &pm) {
  // Empty-tensor elimination first, so results are computed in their output buffers.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.unknownTypeConversion = bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::catfish::registerCatfishPipelines() {
  PassPipelineRegistration<FusionPipelineOptions>(
      "catfish-fusion", "Form catfish.fusion regions (on the program)",
      buildFusionPipeline);
  PassPipelineRegistration<CpuCodegenOptions>(
      "catfish-cpu-codegen",
      "Lower outlined kernels to the LLVM dialect for the CPU (on the kernel module)",
      buildCpuCodegenPipeline);
  PassPipelineRegistration<CudaCodegenOptions>(
      "catfish-cuda-codegen",
      "Lower outlined kernels to gpu.funcs in NVVM for CUDA (on the kernel module)",
      buildCudaCodegenPipeline);
  PassPipelineRegistration<>(
      "catfish-cuda-emulator",
      "Lower outlined kernels to host code that runs their CUDA launches (on the kernel module)",
      buildCudaEmulatorPipeline);
}
