//===- ExpandComposites.cpp - composite ops into primitive catfish ops ---===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHEXPANDCOMPOSITES
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

struct ExpandComposites : catfish::impl::CatfishExpandCompositesBase<ExpandComposites> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp op) { attentions.push_back(op); });
    for (AttentionOp op : attentions) {
      OpBuilder builder(op);
      FailureOr<AttentionExpansion> parts = expandAttention(builder, op);
      if (failed(parts))
        return signalPassFailure();
      op.replaceAllUsesWith(parts->output);
      op.erase();
    }
  }
};

} // namespace
