//===- HoistLoopInvariants.cpp - the catfish-hoist-loop-invariants pass ---===//
//
// Loop bodies compute what does not change between iterations: an ONNX exporter writes a
// body as the Python code reads, and the recurrent ops' loop over time slices the recurrent
// weights in every step. Each such op would be a kernel run once per iteration; moved before
// the loop, it runs once.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHHOISTLOOPINVARIANTS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

struct HoistLoopInvariants final
    : catfish::impl::CatfishHoistLoopInvariantsBase<HoistLoopInvariants> {
  void runOnOperation() override {
    // Inner loops first, so what leaves an inner loop may leave the outer one too.
    getOperation().walk([](LoopOp loop) {
      Region &body = loop.getBody();
      moveLoopInvariantCode(
          {&body},
          [&](Value value, Region *) { return !body.isAncestor(value.getParentRegion()); },
          [](Operation *op, Region *) { return isMemoryEffectFree(op); },
          [&](Operation *op, Region *) { op->moveBefore(loop); });
    });
  }
};

} // namespace
