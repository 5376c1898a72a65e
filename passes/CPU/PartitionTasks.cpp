//===- PartitionTasks.cpp - the catfish-partition-tasks pass --------------===//
//
// The runtime calls a CPU kernel once per task, `task` in [0, count), all tasks at once on
// its thread pool (artifact_format.h). A kernel whose work is one scf.forall (made by
// TileForTasks.cpp and bufferized) gives task t the iterations
// [t * n / count, (t + 1) * n / count): every iteration runs exactly once, the shares differ
// by at most one iteration, and any count from 1 to n is correct.
//
//===----------------------------------------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHPARTITIONTASKS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Whether `value` is (a view of) memory that `func` allocates, which each task has its own
/// copy of.
bool isTaskLocal(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      return true;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    value = view.getViewSource();
  }
  return false;
}

/// Ops that may stay outside the forall: every task runs them, so they must write nothing the
/// tasks share: pure ops such as constants and views, allocations, and loops without
/// reductions (copies and elementwise ops, not products) that only write memory the kernel
/// allocates: a producer that every part reads whole, such as an im2col copy, computed once
/// per task (TileForTasks.cpp).
bool isSetUp(Operation &op) {
  if (op.getNumRegions() == 0 && isMemoryEffectFree(&op))
    return true;
  if (auto structured = dyn_cast<linalg::LinalgOp>(op))
    return structured.hasPureBufferSemantics() && structured.getNumReductionLoops() == 0 &&
           llvm::all_of(structured.getDpsInits(), isTaskLocal);
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp, memref::AssumeAlignmentOp,
             func::ReturnOp>(op);
}

struct PartitionTasks final : catfish::impl::CatfishPartitionTasksBase<PartitionTasks> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    unsigned numArgs = func.getNumArguments();
    if (func.isExternal() || numArgs < 2 ||
        !func.getArgument(numArgs - 1).getType().isIndex() ||
        !func.getArgument(numArgs - 2).getType().isIndex())
      return;
    scf::ForallOp forall;
    for (Operation &op : func.getBody().front()) {
      if (isSetUp(op))
        continue;
      auto loop = dyn_cast<scf::ForallOp>(op);
      if (!loop || forall)
        return;
      forall = loop;
    }
    if (!forall || forall.getRank() != 1 || forall->getNumResults() != 0)
      return;
    std::optional<int64_t> lower = getConstantIntValue(forall.getMixedLowerBound()[0]);
    std::optional<int64_t> upper = getConstantIntValue(forall.getMixedUpperBound()[0]);
    std::optional<int64_t> step = getConstantIntValue(forall.getMixedStep()[0]);
    if (!lower || !upper || !step || *step <= 0 || *upper <= *lower)
      return;
    int64_t iterations = llvm::divideCeil(*upper - *lower, *step);

    OpBuilder b(forall);
    Location loc = forall.getLoc();
    Value task = func.getArgument(numArgs - 2);
    Value count = func.getArgument(numArgs - 1);
    auto constant = [&](int64_t value) {
      return arith::ConstantIndexOp::create(b, loc, value).getResult();
    };
    Value n = constant(iterations);
    Value one = constant(1);
    Value first = arith::DivUIOp::create(b, loc, arith::MulIOp::create(b, loc, task, n), count);
    Value next = arith::AddIOp::create(b, loc, task, one);
    Value end = arith::DivUIOp::create(b, loc, arith::MulIOp::create(b, loc, next, n), count);
    auto loop = scf::ForOp::create(b, loc, first, end, one);
    b.setInsertionPointToStart(loop.getBody());
    Value scaled = arith::MulIOp::create(b, loc, loop.getInductionVar(), constant(*step));
    Value iv = arith::AddIOp::create(b, loc, scaled, constant(*lower));
    IRMapping mapping;
    mapping.map(forall.getInductionVar(0), iv);
    for (Operation &op : forall.getBody()->without_terminator())
      b.clone(op, mapping);
    forall.erase();
    func->setAttr("catfish.max_tasks", b.getI64IntegerAttr(iterations));
  }
};

} // namespace
