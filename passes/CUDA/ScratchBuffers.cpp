//===- ScratchBuffers.cpp - the catfish-scratch-buffers pass --------------===//
//
// Temporary buffers of a kernel become arguments: the memory plan gives them arena space for
// the step that runs the kernel.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHSCRATCHBUFFERS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

LogicalResult makeScratchArguments(func::FuncOp func) {
  SmallVector<memref::AllocOp> allocs(func.getBody().front().getOps<memref::AllocOp>());
  for (memref::AllocOp alloc : allocs) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return alloc.emitError() << "a kernel's temporary buffer needs a static shape and the "
                                  "identity layout, got "
                               << type;
  }
  // Scratch arguments go after the results, before task and task_count.
  unsigned position = func.getNumArguments() - 2;
  for (memref::AllocOp alloc : allocs) {
    if (failed(func.insertArgument(position, alloc.getType(), {}, alloc.getLoc())))
      return failure();
    BlockArgument scratch = func.getArgument(position++);
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    alloc.replaceAllUsesWith(scratch);
    alloc.erase();
  }
  if (!allocs.empty())
    func->setAttr("catfish.scratch", Builder(func).getI64IntegerAttr(allocs.size()));
  return success();
}

struct ScratchBuffers final : catfish::impl::CatfishScratchBuffersBase<ScratchBuffers> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr("catfish.kind") && failed(makeScratchArguments(func)))
        return signalPassFailure();
  }
};

} // namespace
