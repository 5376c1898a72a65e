#ifndef CATFISH_PASSES_TD
#define CATFISH_PASSES_TD

include "mlir/Pass/PassBase.td"

def CatfishSpecializeShapes : Pass<"catfish-specialize-shapes", "mlir::ModuleOp"> {
  let summary = "Refine result types from constant shape operands and fold shape subgraphs";
  let description = [{
    Re-infers every catfish op's result types from its operands, so a dim that became known
    (e.g. after `--shape` fixed an input dim and a shape subgraph folded) propagates to its
    users and to the function signature; then folds what became constant. Runs to a fixpoint.

    Before:
    ```mlir
    %s = catfish.constant dense<[2, 64]> : tensor<2xi64>
    %r = catfish.reshape %x, %s : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
    ```
    After: `%r` has type `tensor<2x64xf32>`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

#endif // CATFISH_PASSES_TD
