//===- StructureOps.cpp - fusion regions and control flow ----------------===//
#include "catfish/Dialect/Catfish.h"

using namespace mlir;
using namespace mlir::catfish;

/// The yield of a single-block region must produce exactly `types`.
static LogicalResult verifyYield(Operation *op, Region &region, TypeRange types,
                                 StringRef what) {
  auto yield = cast<YieldOp>(region.front().getTerminator());
  if (yield.getValues().getTypes() != types)
    return op->emitOpError() << what << " yields (" << yield.getValues().getTypes()
                             << ") but (" << types << ") is expected";
  return success();
}

LogicalResult FusionOp::verify() {
  Block &body = getBody().front();
  if (body.getArgumentTypes() != getInputs().getTypes())
    return emitOpError("region arguments (")
           << body.getArgumentTypes() << ") must match the inputs (" << getInputs().getTypes()
           << ")";
  for (Operation &op : body.without_terminator())
    if (!isa<CatfishDialect>(op.getDialect()))
      return emitOpError("may only contain catfish ops, found ") << op.getName();
  return verifyYield(*this, getBody(), getResultTypes(), "body");
}

LogicalResult IfOp::verify() {
  auto condition = getCondition().getType();
  if (condition.hasStaticShape() && condition.getNumElements() != 1)
    return emitOpError("condition must hold exactly one element, got ")
           << getCondition().getType();
  if (failed(verifyYield(*this, getThenRegion(), getResultTypes(), "then branch")))
    return failure();
  return verifyYield(*this, getElseRegion(), getResultTypes(), "else branch");
}

LogicalResult LoopOp::verify() {
  Block &body = getBody().front();
  size_t carried = getInitial().size();
  if (body.getNumArguments() != carried + 2)
    return emitOpError("body takes (iteration, condition, ")
           << carried << " carried values), got " << body.getNumArguments() << " arguments";
  if (TypeRange(body.getArgumentTypes()).drop_front(2) != TypeRange(getInitial().getTypes()))
    return emitOpError("carried body arguments must match the initial values");
  auto yield = cast<YieldOp>(body.getTerminator());
  TypeRange yielded = yield.getValues().getTypes();
  if (yielded.size() != getNumResults() + 1)
    return emitOpError("body must yield the condition, the carried values and the scan values");
  if (yielded.drop_front().take_front(carried) != TypeRange(getInitial().getTypes()))
    return emitOpError("yielded carried values must match the initial values");
  if (TypeRange(getResultTypes()).take_front(carried) != TypeRange(getInitial().getTypes()))
    return emitOpError("carried results must match the initial values");
  return success();
}
