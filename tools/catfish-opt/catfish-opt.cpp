//===- catfish-opt.cpp - mlir-opt with the catfish dialect and passes ----===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::catfish::registerCatfishPasses();
  mlir::catfish::registerCatfishPipelines();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::catfish::CatfishDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Catfish optimizer driver\n", registry));
}
