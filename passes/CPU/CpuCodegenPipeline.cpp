//===- CpuCodegenPipeline.cpp - the CPU target's pipeline builder --------===//
//
// linalg on tensors -> elementwise fusion -> parts for threads and register-blocked
// contractions -> one-shot bufferization -> tasks and scf loops -> the LLVM dialect. The
// translation to LLVM IR, O3 for the requested x86-64 level and the link into a shared object
// follow in lib/Target/CPU.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/TargetParser/X86TargetParser.h"

using namespace mlir;
using namespace mlir::catfish;

namespace {

void addTiledStage(OpPassManager &pm, const CpuCodegenOptions &options) {
  OpPassManager &funcs = pm.nest<func::FuncOp>();
  CatfishTileForTasksOptions tasks;
  tasks.minWork = options.taskMinWork;
  funcs.addPass(createCatfishTileForTasks(tasks));
  funcs.addPass(createCanonicalizerPass());
  // A producer that two ops of a part read (softmax's row max) was fused once per reader.
  funcs.addPass(createCSEPass());
  CatfishVectorizeContractionsOptions registers;
  registers.vectorBits = cpuVectorBits(options.arch);
  funcs.addPass(createCatfishVectorizeContractions(registers));
  funcs.addPass(createCatfishSplitRowReductions());
  funcs.addPass(createCanonicalizerPass());
  // Keeps each micro-kernel's accumulator block (and each row's partial results) in
  // registers across the reduction loop.
  funcs.addPass(createLoopInvariantSubsetHoistingPass());
  funcs.addPass(createCatfishContractionLoopOrder());
  funcs.addPass(createCanonicalizerPass());
}

void addBufferizedStage(OpPassManager &pm) {
  buildKernelBufferizePipeline(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCatfishCopiesToLinalg());
}

void addLoopsStage(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createCatfishPartitionTasks());
  // Foralls that could not become tasks run all their iterations in one task.
  pm.addPass(createForallToForLoopPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createCatfishLowerVectors());
  pm.addPass(createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCatfishApproximateMath());
}

void addLLVMStage(OpPassManager &pm) {
  pm.addPass(createConvertMathToFuncs());
  // x86-64 has no bf16 arithmetic, and LLVM would promote it through libgcc's
  // __truncsfbf2, which Debian's GCC 12 lacks: compute in f32, then round with integer ops.
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  ConvertFuncToLLVMPassOptions funcs;
  funcs.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcs));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

} // namespace

int64_t mlir::catfish::cpuVectorBits(StringRef arch) {
  if (llvm::X86::parseArchX86(arch, /*Only64Bit=*/true) == llvm::X86::CK_None)
    return 256;
  SmallVector<StringRef> features;
  llvm::X86::getFeaturesForCPU(arch, features);
  // The list names the features the CPU adds, not those they imply (x86-64-v4 lists
  // avx512vl and avx512bw but not avx512f).
  return llvm::any_of(features, [](StringRef f) { return f.starts_with("avx512"); }) ? 512 : 256;
}

void mlir::catfish::buildCpuLoweringPipeline(OpPassManager &pm) {
  addLoopsStage(pm);
  addLLVMStage(pm);
}

void mlir::catfish::buildCpuCodegenPipeline(OpPassManager &pm,
                                            const CpuCodegenOptions &options) {
  CpuStage last = options.stopAfter;
  // The CPU has no attention kernel: attention regions compute its primitive ops in order.
  pm.addNestedPass<func::FuncOp>(createCatfishExpandComposites());
  buildKernelLinalgPipeline(pm, {});
  if (last == CpuStage::Linalg)
    return;
  addTiledStage(pm, options);
  if (last == CpuStage::Tiled)
    return;
  addBufferizedStage(pm);
  if (last == CpuStage::Bufferized)
    return;
  addLoopsStage(pm);
  if (last == CpuStage::Loops)
    return;
  addLLVMStage(pm);
}
