//===- CopiesToLinalg.cpp - the catfish-copies-to-linalg pass -------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHCOPIESTOLINALG
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;

namespace {

struct CopiesToLinalg final : catfish::impl::CatfishCopiesToLinalgBase<CopiesToLinalg> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp op) { copies.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp op : copies) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(), op.getTarget());
    }
  }
};

} // namespace
