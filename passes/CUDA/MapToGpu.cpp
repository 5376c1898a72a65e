//===- MapToGpu.cpp - the catfish-map-to-gpu pass -------------------------===//
//
// A thread per point of each parallel loop nest: the linear thread index
// blockIdx.x * blockDim.x + threadIdx.x is delinearized into the nest's indices, innermost
// fastest, so neighbouring threads touch neighbouring elements.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "catfish-map-to-gpu"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMAPTOGPU
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Ops that may stay in the host function: they are recomputed in every gpu.func that uses them.
bool staysOnHost(Operation &op) {
  return isa<func::ReturnOp>(op) || op.hasTrait<OpTrait::ConstantLike>() ||
         isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::ReinterpretCastOp, memref::CastOp, memref::GetGlobalOp>(op);
}

/// The static iteration count of each loop of `loop`, or failure.
FailureOr<SmallVector<int64_t>> staticExtents(scf::ParallelOp loop) {
  SmallVector<int64_t> extents;
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> lb = getConstantIntValue(lower), ub = getConstantIntValue(upper),
                           st = getConstantIntValue(step);
    if (!lb || !ub || !st || *st <= 0)
      return failure();
    extents.push_back(*ub > *lb ? (*ub - *lb + *st - 1) / *st : 0);
  }
  return extents;
}

/// Why the CUDA target cannot map `func` yet, as an error at the op responsible.
LogicalResult checkMappable(func::FuncOp func) {
  auto kind = func->getAttrOfType<FusionKindAttr>("catfish.kind");
  if (kind && kind.getValue() != FusionKind::generated)
    return func.emitError() << "the CUDA target has no '" << stringifyFusionKind(kind.getValue())
                            << "' library step yet (cuBLASLt/cuDNN/attention steps are not built)";
  for (Operation &op : func.getBody().front()) {
    if (staysOnHost(op))
      continue;
    auto loop = dyn_cast<scf::ParallelOp>(op);
    if (!loop) {
      if (isa<memref::AllocOp, memref::AllocaOp>(op))
        return op.emitError("the CUDA target cannot give a kernel a temporary buffer yet");
      return op.emitError() << "the CUDA target cannot map '" << op.getName()
                            << "' to GPU threads yet";
    }
    if (failed(staticExtents(loop)))
      return loop.emitError("the CUDA target needs static loop bounds");
    WalkResult inner = loop.getBody()->walk([](Operation *nested) {
      if (isa<LoopLikeOpInterface>(nested) || isa<memref::AllocOp, memref::AllocaOp>(nested)) {
        nested->emitError("the CUDA target cannot generate reductions or inner loops yet "
                          "(warp and block reductions are not built)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (inner.wasInterrupted())
      return failure();
  }
  return success();
}

struct MapToGpu final : catfish::impl::CatfishMapToGpuBase<MapToGpu> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0) {
      module.emitError() << "block-size must be a multiple of 32 in [32, 1024], got "
                         << blockSize;
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("catfish.kind"))
        kernels.push_back(func);
    for (func::FuncOp func : kernels)
      if (failed(checkMappable(func)))
        return signalPassFailure();

    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(builder, module.getLoc(), "catfish_cuda");
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), builder.getUnitAttr());
    for (func::FuncOp func : kernels) {
      unsigned index = 0;
      for (auto loop : llvm::make_early_inc_range(func.getBody().getOps<scf::ParallelOp>()))
        mapLoop(func, loop, gpuModule, (func.getSymName() + "_" + Twine(index++)).str());
    }
  }

  /// Copies the constant `global` reads into the gpu.module (once), where the kernel reads it
  /// from device memory.
  void copyGlobal(memref::GetGlobalOp read, gpu::GPUModuleOp gpuModule) {
    if (gpuModule.lookupSymbol(read.getName()))
      return;
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(read, read.getNameAttr());
    OpBuilder builder = OpBuilder::atBlockBegin(gpuModule.getBody());
    builder.clone(*global);
  }

  /// Replaces `loop` by a launch of a new gpu.func `name` that computes one point per thread.
  void mapLoop(func::FuncOp func, scf::ParallelOp loop, gpu::GPUModuleOp gpuModule,
               StringRef name) {
    SmallVector<int64_t> extents = *staticExtents(loop);
    int64_t count = 1;
    for (int64_t extent : extents)
      count *= extent;
    int64_t blocks = std::max<int64_t>(1, (count + blockSize - 1) / blockSize);
    LLVM_DEBUG(llvm::dbgs() << name << ": " << count << " points, " << blocks << " blocks of "
                            << blockSize << " threads\n");
    Location loc = loop.getLoc();

    // The kernel: every memref argument of the host function, in order.
    SmallVector<Value> buffers;
    SmallVector<Type> bufferTypes;
    for (BlockArgument arg : func.getArguments())
      if (isa<MemRefType>(arg.getType())) {
        buffers.push_back(arg);
        bufferTypes.push_back(arg.getType());
      }
    OpBuilder builder = OpBuilder::atBlockEnd(gpuModule.getBody());
    auto kernel = gpu::GPUFuncOp::create(builder, loc, name,
                                         builder.getFunctionType(bufferTypes, {}));
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), builder.getUnitAttr());
    kernel.setKnownBlockSizeAttr(
        builder.getDenseI32ArrayAttr({static_cast<int32_t>(blockSize), 1, 1}));
    kernel.setKnownGridSizeAttr(builder.getDenseI32ArrayAttr({static_cast<int32_t>(blocks), 1, 1}));
    Block &entry = kernel.getBody().front();
    builder.setInsertionPointToStart(&entry);
    IRMapping mapping;
    for (auto [host, device] : llvm::zip(buffers, entry.getArguments()))
      mapping.map(host, device);
    // Host-side constants and views the loop reads are recomputed in the kernel.
    for (Operation &op : func.getBody().front()) {
      if (&op == loop.getOperation())
        break;
      if (!staysOnHost(op) || isa<func::ReturnOp>(op))
        continue;
      if (auto global = dyn_cast<memref::GetGlobalOp>(op))
        copyGlobal(global, gpuModule);
      builder.clone(op, mapping);
    }

    Value blockId = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
    Value threadId = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
    Value size = arith::ConstantIndexOp::create(builder, loc, blockSize);
    Value linear = arith::AddIOp::create(
        builder, loc, arith::MulIOp::create(builder, loc, blockId, size), threadId);
    Value total = arith::ConstantIndexOp::create(builder, loc, count);
    Value inRange =
        arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, linear, total);
    auto guard = scf::IfOp::create(builder, loc, inRange, /*withElseRegion=*/false);
    builder.setInsertionPointToStart(&guard.getThenRegion().front());
    SmallVector<OpFoldResult> basis = getAsIndexOpFoldResult(builder.getContext(), extents);
    auto indices = affine::AffineDelinearizeIndexOp::create(builder, loc, linear, basis,
                                                            /*hasOuterBound=*/true);
    for (auto [iv, index, lower, step] :
         llvm::zip(loop.getInductionVars(), indices.getResults(), loop.getLowerBound(),
                   loop.getStep())) {
      // iv = lower + index * step, with the bounds' constants rebuilt in the kernel.
      Value scaled = arith::MulIOp::create(builder, loc, index, mapping.lookupOrDefault(step));
      mapping.map(iv, arith::AddIOp::create(builder, loc, mapping.lookupOrDefault(lower), scaled));
    }
    for (Operation &op : loop.getBody()->without_terminator())
      builder.clone(op, mapping);
    builder.setInsertionPointToEnd(&entry);
    gpu::ReturnOp::create(builder, loc);

    // The host side: the launch.
    builder.setInsertionPoint(loop);
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    gpu::KernelDim3 grid{arith::ConstantIndexOp::create(builder, loc, blocks), one, one};
    gpu::KernelDim3 block{arith::ConstantIndexOp::create(builder, loc, blockSize), one, one};
    gpu::LaunchFuncOp::create(builder, loc, kernel, grid, block, /*dynamicSharedMemorySize=*/nullptr,
                              buffers);
    loop.erase();
  }
};

} // namespace
