//===- Passes.h - catfish passes and pipelines ------------------*- C++ -*-===//
#ifndef CATFISH_PASSES_PASSES_H
#define CATFISH_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::catfish {

#define GEN_PASS_DECL
#include "catfish/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "catfish/Passes/Passes.h.inc"

/// The import-time cleanup pipeline: specialize shapes, canonicalize, CSE.
void buildImportCleanupPipeline(OpPassManager &pm);

} // namespace mlir::catfish

#endif // CATFISH_PASSES_PASSES_H
