//===- CatfishDialect.cpp - dialect registration -------------------------===//
#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::catfish;

#include "catfish/Dialect/CatfishDialect.cpp.inc"
#include "catfish/Dialect/CatfishEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "catfish/Dialect/CatfishAttrs.cpp.inc"

void CatfishDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "catfish/Dialect/CatfishOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "catfish/Dialect/CatfishAttrs.cpp.inc"
      >();
}

Operation *CatfishDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                               Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
