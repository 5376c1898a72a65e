//===- CatfishOps.cpp - generated op definitions -------------------------===//
//
// Only the generated code lives here, so editing an op's logic in the per-category files does
// not recompile the large generated translation unit.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"

#define GET_OP_CLASSES
#include "catfish/Dialect/CatfishOps.cpp.inc"
