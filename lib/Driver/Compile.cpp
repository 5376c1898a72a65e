//===- Compile.cpp - import + cleanup pipeline ---------------------------===//
#include "catfish/Driver/Compile.h"

#include "catfish/Passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::catfish;

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::catfish::compileToCatfish(MLIRContext &context, StringRef path,
                                const CompileOptions &options) {
  auto module = importOnnxModel(context, path, options.import);
  if (!module || !options.cleanup)
    return module;
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diagnostic.empty())
      diagnostic = diag.str();
    return success();
  });
  PassManager pm(&context);
  buildImportCleanupPipeline(pm);
  if (failed(pm.run(**module)))
    return llvm::createStringError(path + ": " + diagnostic);
  return module;
}
