//===- onnx_import_fuzzer.cpp - the ONNX importer ---------------------------===//
//
// Any bytes as an .onnx model: the importer returns a module that verifies (it checks that
// itself) or an error with a message; never a crash. External data locations resolve in an
// empty directory, so no input makes the fuzzer read files.
//
//===----------------------------------------------------------------------===//

#include "catfish/Dialect/Catfish.h"
#include "catfish/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>

namespace {

std::string emptyDirectory;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("catfish-fuzz-import", dir))
    std::abort();
  emptyDirectory = dir.str().str();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context per input, as catfish-compile has one per model: an input's interned types and
  // attributes cannot reach the next one.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.loadDialect<mlir::catfish::CatfishDialect, mlir::func::FuncDialect>();
  mlir::catfish::ImportOptions options;
  auto module = mlir::catfish::importOnnxModelBytes(
      context, llvm::ArrayRef<char>(reinterpret_cast<const char *>(data), size), "<fuzz>",
      emptyDirectory, options);
  if (!module) {
    std::string message = llvm::toString(module.takeError());
    if (message.empty())
      std::abort();
  }
  return 0;
}
