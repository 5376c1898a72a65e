//===- Passes.cpp - pipeline builders ------------------------------------===//
#include "catfish/Passes/Passes.h"

#include "mlir/Transforms/Passes.h"

void mlir::catfish::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCatfishSpecializeShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}
