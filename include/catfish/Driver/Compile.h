//===- Compile.h - the compile pipeline the tools share ---------*- C++ -*-===//
#ifndef CATFISH_DRIVER_COMPILE_H
#define CATFISH_DRIVER_COMPILE_H

#include "catfish/Import/OnnxImporter.h"

namespace mlir::catfish {

struct CompileOptions {
  ImportOptions import;
  /// Run shape specialization, canonicalization and CSE after import.
  bool cleanup = true;
};

/// Imports `path` and runs the import cleanup pipeline. Errors are "FILE: reason".
llvm::Expected<OwningOpRef<ModuleOp>> compileToCatfish(MLIRContext &context, StringRef path,
                                                       const CompileOptions &options);

} // namespace mlir::catfish

#endif // CATFISH_DRIVER_COMPILE_H
