//===- catfish-opt.cpp - mlir-opt with the catfish dialect and passes ----===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::catfish::registerCatfishPasses();
  mlir::DialectRegistry registry;
  registry.insert<mlir::catfish::CatfishDialect, mlir::func::FuncDialect,
                  mlir::tensor::TensorDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Catfish optimizer driver\n", registry));
}
