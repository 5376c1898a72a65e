//===- EmulateGpu.cpp - the catfish-emulate-gpu pass ----------------------===//
//
// Host code for the CUDA emulator: each gpu.func becomes a function that runs one thread of a
// launch, with the launch's grid and block sizes read at run time. Barriers and shuffles call
// back into the runtime, which runs the threads of a block as fibers.
//
//===----------------------------------------------------------------------===//
#include "GpuKernels.h"

#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHEMULATEGPU
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Fails, at the op responsible, on what the emulator cannot run.
LogicalResult checkEmulatable(gpu::GPUFuncOp kernel) {
  if (!kernel.getPrivateAttributions().empty())
    return kernel.emitError("the CUDA emulator cannot run kernels with private memory "
                            "attributions yet");
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("the CUDA emulator expects a gpu.func with one block");
  WalkResult result = kernel.getBody().walk([](Operation *op) {
    if (op->getDialect() != op->getContext()->getLoadedDialect<gpu::GPUDialect>() ||
        isa<gpu::BlockIdOp, gpu::ThreadIdOp, gpu::BlockDimOp, gpu::GridDimOp, gpu::GlobalIdOp,
            gpu::BarrierOp, gpu::ReturnOp>(op))
      return WalkResult::advance();
    if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op);
        shuffle && shuffle.getValue().getType().getIntOrFloatBitWidth() == 32)
      return WalkResult::advance();
    op->emitError() << "the CUDA emulator cannot run '" << op->getName() << "' yet";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

/// The x, y, z values of one kind of index.
using Dim3 = std::array<Value, 3>;

Value pick(const Dim3 &values, gpu::Dimension dimension) {
  return values[static_cast<unsigned>(dimension)];
}

/// `linear` split into x, y, z over `sizes`, x fastest.
Dim3 delinearize(OpBuilder &b, Location loc, Value linear, const Dim3 &sizes) {
  auto split = affine::AffineDelinearizeIndexOp::create(
      b, loc, linear, ValueRange{sizes[2], sizes[1], sizes[0]}, /*hasOuterBound=*/true);
  return {split.getResult(2), split.getResult(1), split.getResult(0)};
}

/// Replaces the thread-indexing ops inside `root` by the emulation's values.
void replaceIndexing(Operation *root, const Dim3 &grid, const Dim3 &block, const Dim3 &blockId,
                     const Dim3 &threadId) {
  SmallVector<Operation *> indexing;
  root->walk([&](Operation *op) {
    if (isa<gpu::BlockIdOp, gpu::ThreadIdOp, gpu::BlockDimOp, gpu::GridDimOp, gpu::GlobalIdOp>(
            op))
      indexing.push_back(op);
  });
  for (Operation *op : indexing) {
    OpBuilder b(op);
    Value value;
    if (auto id = dyn_cast<gpu::BlockIdOp>(op))
      value = pick(blockId, id.getDimension());
    else if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
      value = pick(threadId, id.getDimension());
    else if (auto dim = dyn_cast<gpu::BlockDimOp>(op))
      value = pick(block, dim.getDimension());
    else if (auto dim = dyn_cast<gpu::GridDimOp>(op))
      value = pick(grid, dim.getDimension());
    else {
      gpu::Dimension d = cast<gpu::GlobalIdOp>(op).getDimension();
      value = arith::AddIOp::create(
          b, op->getLoc(), arith::MulIOp::create(b, op->getLoc(), pick(blockId, d), pick(block, d)),
          pick(threadId, d));
    }
    op->getResult(0).replaceAllUsesWith(value);
    op->erase();
  }
}

/// The function pointer in field `field` of the CudaEmulatorThread at `state`.
Value threadService(OpBuilder &b, Location loc, Value state, int32_t field) {
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  Value address = LLVM::GEPOp::create(b, loc, ptr, ptr, state, ArrayRef<LLVM::GEPArg>{field});
  return LLVM::LoadOp::create(b, loc, ptr, address);
}

/// gpu.barrier and gpu.shuffle inside `root` become calls of the runtime's CudaEmulatorThread
/// services (artifact_format.h), which switch to the other threads' fibers.
void replaceCommunication(Operation *root, Value state) {
  MLIRContext *context = root->getContext();
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i32 = IntegerType::get(context, 32), i64 = IntegerType::get(context, 64);
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<gpu::BarrierOp, gpu::ShuffleOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (isa<gpu::BarrierOp>(op)) {
      auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {ptr});
      LLVM::CallOp::create(b, loc, type, ValueRange{threadService(b, loc, state, 0), state});
      op->erase();
      continue;
    }
    auto shuffle = cast<gpu::ShuffleOp>(op);
    Value value = shuffle.getValue();
    Type valueType = value.getType();
    if (valueType != i32)
      value = arith::BitcastOp::create(b, loc, i32, value);
    auto mode = arith::ConstantIntOp::create(
        b, loc, i32, static_cast<int64_t>(shuffle.getMode()));
    auto type = LLVM::LLVMFunctionType::get(i64, {ptr, i32, i32, i32, i32});
    Value packed =
        LLVM::CallOp::create(b, loc, type,
                             ValueRange{threadService(b, loc, state, 1), state, value,
                                        shuffle.getOffset(), shuffle.getWidth(), mode})
            .getResult();
    Value result = arith::TruncIOp::create(b, loc, i32, packed);
    if (valueType != i32)
      result = arith::BitcastOp::create(b, loc, valueType, result);
    Value valid = arith::TruncIOp::create(
        b, loc, b.getI1Type(),
        arith::ShRUIOp::create(b, loc, packed, arith::ConstantIntOp::create(b, loc, i64, 32)));
    shuffle.getShuffleResult().replaceAllUsesWith(result);
    shuffle.getValid().replaceAllUsesWith(valid);
    op->erase();
  }
}

/// The host function that runs thread `thread` of block `block` of a launch of `kernel`.
void emulate(gpu::GPUFuncOp kernel, OpBuilder &builder) {
  Location loc = kernel.getLoc();
  MLIRContext *context = kernel.getContext();
  int64_t sharedBytes;
  SmallVector<int64_t> offsets = sharedMemoryLayout(kernel, sharedBytes);
  auto i8 = IntegerType::get(context, 8);
  SmallVector<Type> types(kernel.getArgumentTypes());
  types.push_back(MemRefType::get({6}, IntegerType::get(context, 32)));
  types.push_back(MemRefType::get({std::max<int64_t>(1, sharedBytes)}, i8));
  types.push_back(LLVM::LLVMPointerType::get(context));
  Type index = builder.getIndexType();
  types.append({index, index});
  auto func = func::FuncOp::create(builder, loc, kernel.getName(),
                                   builder.getFunctionType(types, {}));
  Block *entry = func.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  unsigned params = kernel.getNumArguments();
  Value dims = entry->getArgument(params), shared = entry->getArgument(params + 1);
  Value state = entry->getArgument(params + 2);
  Value blockIndex = entry->getArgument(params + 3), threadIndex = entry->getArgument(params + 4);
  Dim3 grid, block;
  for (unsigned i = 0; i < 6; ++i) {
    Value position = arith::ConstantIndexOp::create(b, loc, i);
    Value size = memref::LoadOp::create(b, loc, dims, position);
    (i < 3 ? grid[i] : block[i - 3]) = arith::IndexCastUIOp::create(b, loc, index, size);
  }
  Dim3 blockId = delinearize(b, loc, blockIndex, grid);
  Dim3 threadId = delinearize(b, loc, threadIndex, block);

  IRMapping mapping;
  for (unsigned i = 0; i < params; ++i)
    mapping.map(kernel.getArgument(i), entry->getArgument(i));
  // Each workgroup buffer is a view of the block's shared memory.
  for (auto [buffer, offset] : llvm::zip(kernel.getWorkgroupAttributions(), offsets)) {
    auto type = cast<MemRefType>(buffer.getType());
    auto view = memref::ViewOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), shared,
        arith::ConstantIndexOp::create(b, loc, offset), ValueRange{});
    mapping.map(buffer, view);
  }
  for (Operation &op : kernel.getBody().front().without_terminator())
    b.clone(op, mapping);
  func::ReturnOp::create(b, loc);
  replaceIndexing(func, grid, block, blockId, threadId);
  replaceCommunication(func, state);
}

struct EmulateGpu final : catfish::impl::CatfishEmulateGpuBase<EmulateGpu> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules)
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>())
        if (failed(checkEmulatable(kernel)))
          return signalPassFailure();

    // The host side of the plan goes: the runtime launches from the artifact's launch table.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (func->hasAttr("catfish.kind"))
        func.erase();
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      for (Operation &op : llvm::make_early_inc_range(gpuModule.getBody()->getOperations())) {
        if (auto kernel = dyn_cast<gpu::GPUFuncOp>(op))
          emulate(kernel, builder);
        else if (auto global = dyn_cast<memref::GlobalOp>(op);
                 global && !module.lookupSymbol(global.getSymName()))
          op.moveBefore(module.getBody(), module.getBody()->begin());
      }
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
