//===- GpuKernels.cpp - building gpu.funcs from kernel functions ----------===//
#include "GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::catfish;

namespace {

constexpr int64_t kArgumentAlignment = 64;

/// Copies the constant `read` reads into the gpu.module (once), where the kernel reads it from
/// device memory.
void copyGlobal(memref::GetGlobalOp read, gpu::GPUModuleOp gpuModule) {
  if (gpuModule.lookupSymbol(read.getName()))
    return;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(read, read.getNameAttr());
  OpBuilder builder = OpBuilder::atBlockBegin(gpuModule.getBody());
  builder.clone(*global);
}

SmallVector<Value> memrefArguments(func::FuncOp func) {
  SmallVector<Value> buffers;
  for (BlockArgument arg : func.getArguments())
    if (isa<MemRefType>(arg.getType()))
      buffers.push_back(arg);
  return buffers;
}

} // namespace

bool mlir::catfish::staysOnHost(Operation &op) {
  return isa<func::ReturnOp, gpu::LaunchFuncOp>(op) || op.hasAttr("catfish.matmul") ||
         op.hasTrait<OpTrait::ConstantLike>() ||
         isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::ReinterpretCastOp, memref::CastOp, memref::GetGlobalOp>(op);
}

gpu::GPUModuleOp mlir::catfish::getOrCreateGpuModule(ModuleOp module) {
  if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>("catfish_cuda"))
    return existing;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), builder.getUnitAttr());
  return gpu::GPUModuleOp::create(builder, module.getLoc(), "catfish_cuda");
}

std::string mlir::catfish::nextKernelName(gpu::GPUModuleOp gpuModule, func::FuncOp func) {
  for (unsigned index = 0;; ++index) {
    std::string name = (func.getSymName() + "_" + Twine(index)).str();
    if (!gpuModule.lookupSymbol(name))
      return name;
  }
}

gpu::GPUFuncOp mlir::catfish::createKernel(func::FuncOp func, Operation *before,
                                           gpu::GPUModuleOp gpuModule, StringRef name,
                                           int64_t blockSize, int64_t blocks,
                                           IRMapping &mapping, OpBuilder &builder) {
  Location loc = before->getLoc();
  SmallVector<Value> buffers = memrefArguments(func);
  builder.setInsertionPointToEnd(gpuModule.getBody());
  auto kernel = gpu::GPUFuncOp::create(
      builder, loc, name, builder.getFunctionType(ValueRange(buffers).getTypes(), {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), builder.getUnitAttr());
  // Every buffer of a step starts 64-byte aligned (arena, weights, inputs): saying so lets
  // LLVM merge neighbouring accesses into 128-bit ones.
  for (unsigned i = 0; i < kernel.getNumArguments(); ++i)
    kernel.setArgAttr(i, "llvm.align", builder.getI64IntegerAttr(kArgumentAlignment));
  kernel.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(blockSize), 1, 1}));
  kernel.setKnownGridSizeAttr(builder.getDenseI32ArrayAttr({static_cast<int32_t>(blocks), 1, 1}));
  Block &entry = kernel.getBody().front();
  builder.setInsertionPointToStart(&entry);
  builder.setInsertionPoint(gpu::ReturnOp::create(builder, loc));
  for (auto [host, device] : llvm::zip(buffers, entry.getArguments()))
    mapping.map(host, device);
  for (Operation &op : func.getBody().front()) {
    if (&op == before)
      break;
    if (!staysOnHost(op) || isa<func::ReturnOp, func::CallOp, gpu::LaunchFuncOp>(op))
      continue;
    if (auto global = dyn_cast<memref::GetGlobalOp>(op))
      copyGlobal(global, gpuModule);
    builder.clone(op, mapping);
  }
  return kernel;
}

SmallVector<int64_t> mlir::catfish::sharedMemoryLayout(gpu::GPUFuncOp kernel, int64_t &bytes) {
  SmallVector<int64_t> offsets;
  bytes = 0;
  for (BlockArgument buffer : kernel.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    offsets.push_back(bytes);
    int64_t size = type.getNumElements() * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    bytes += (size + 15) / 16 * 16;
  }
  return offsets;
}

bool mlir::catfish::isCooperative(gpu::GPUFuncOp kernel) {
  if (!kernel.getWorkgroupAttributions().empty())
    return true;
  return kernel.walk([](Operation *op) {
                 return isa<gpu::BarrierOp, gpu::ShuffleOp>(op) ? WalkResult::interrupt()
                                                                : WalkResult::advance();
               })
      .wasInterrupted();
}

void mlir::catfish::replaceByLaunch(Operation *op, func::FuncOp func, gpu::GPUFuncOp kernel,
                                    int64_t blocks, int64_t blockSize) {
  OpBuilder builder(op);
  Location loc = op->getLoc();
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  gpu::KernelDim3 grid{arith::ConstantIndexOp::create(builder, loc, blocks), one, one};
  gpu::KernelDim3 block{arith::ConstantIndexOp::create(builder, loc, blockSize), one, one};
  auto launch = gpu::LaunchFuncOp::create(builder, loc, kernel, grid, block,
                                          /*dynamicSharedMemorySize=*/nullptr,
                                          memrefArguments(func));
  int64_t sharedBytes;
  sharedMemoryLayout(kernel, sharedBytes);
  if (isCooperative(kernel))
    launch->setAttr("catfish.cooperative", builder.getUnitAttr());
  if (sharedBytes)
    launch->setAttr("catfish.static_shared_bytes", builder.getI64IntegerAttr(sharedBytes));
  op->erase();
}
