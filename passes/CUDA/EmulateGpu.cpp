//===- EmulateGpu.cpp - the catfish-emulate-gpu pass ----------------------===//
//
// Host code for the CUDA emulator: each gpu.func becomes a function that runs a share of the
// grid's blocks, every thread of a block in turn, with the launch's grid and block sizes read
// at run time.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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

/// Fails, at the op responsible, unless threads of `kernel` never communicate.
LogicalResult checkEmulatable(gpu::GPUFuncOp kernel) {
  if (!kernel.getWorkgroupAttributions().empty() || !kernel.getPrivateAttributions().empty())
    return kernel.emitError("the CUDA emulator cannot run kernels with shared or private memory "
                            "attributions yet");
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("the CUDA emulator expects a gpu.func with one block");
  WalkResult result = kernel.getBody().walk([](Operation *op) {
    if (op->getDialect() != op->getContext()->getLoadedDialect<gpu::GPUDialect>() ||
        isa<gpu::BlockIdOp, gpu::ThreadIdOp, gpu::BlockDimOp, gpu::GridDimOp, gpu::GlobalIdOp,
            gpu::ReturnOp>(op))
      return WalkResult::advance();
    op->emitError() << "the CUDA emulator cannot run '" << op->getName()
                    << "' yet (only kernels whose threads do not communicate)";
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

Value product(OpBuilder &b, Location loc, const Dim3 &sizes) {
  Value yz = arith::MulIOp::create(b, loc, sizes[1], sizes[2]);
  return arith::MulIOp::create(b, loc, sizes[0], yz);
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

/// The host function that runs `kernel`'s blocks [task * B / count, (task + 1) * B / count).
void emulate(gpu::GPUFuncOp kernel, OpBuilder &builder) {
  Location loc = kernel.getLoc();
  MLIRContext *context = kernel.getContext();
  SmallVector<Type> types(kernel.getArgumentTypes());
  types.push_back(MemRefType::get({6}, IntegerType::get(context, 32)));
  Type index = builder.getIndexType();
  types.append({index, index});
  auto func = func::FuncOp::create(builder, loc, kernel.getName(),
                                   builder.getFunctionType(types, {}));
  Block *entry = func.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  unsigned params = kernel.getNumArguments();
  Value dims = entry->getArgument(params);
  Value task = entry->getArgument(params + 1), count = entry->getArgument(params + 2);
  Dim3 grid, block;
  for (unsigned i = 0; i < 6; ++i) {
    Value position = arith::ConstantIndexOp::create(b, loc, i);
    Value size = memref::LoadOp::create(b, loc, dims, position);
    (i < 3 ? grid[i] : block[i - 3]) = arith::IndexCastUIOp::create(b, loc, index, size);
  }
  Value blocks = product(b, loc, grid);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value begin = arith::DivUIOp::create(b, loc, arith::MulIOp::create(b, loc, task, blocks), count);
  Value next = arith::AddIOp::create(b, loc, task, one);
  Value end = arith::DivUIOp::create(b, loc, arith::MulIOp::create(b, loc, next, blocks), count);
  auto blockLoop = scf::ForOp::create(b, loc, begin, end, one);
  b.setInsertionPointToStart(blockLoop.getBody());
  Dim3 blockId = delinearize(b, loc, blockLoop.getInductionVar(), grid);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  auto threadLoop = scf::ForOp::create(b, loc, zero, product(b, loc, block), one);
  b.setInsertionPointToStart(threadLoop.getBody());
  Dim3 threadId = delinearize(b, loc, threadLoop.getInductionVar(), block);

  IRMapping mapping;
  for (unsigned i = 0; i < params; ++i)
    mapping.map(kernel.getArgument(i), entry->getArgument(i));
  for (Operation &op : kernel.getBody().front().without_terminator())
    b.clone(op, mapping);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  replaceIndexing(func, grid, block, blockId, threadId);
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
