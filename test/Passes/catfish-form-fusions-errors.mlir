// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-form-fusions))' -verify-diagnostics

// A loop the importer could not unroll (its trip count is an input) is refused by name.
func.func @runtime_loop(%n: tensor<i64>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{control flow whose condition or trip count is known only at run time is not supported by code generation yet}}
  %r = "catfish.loop"(%n, %x) <{operandSegmentSizes = array<i32: 1, 0, 1>}> ({
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %d = catfish.add %v, %v : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    "catfish.yield"(%c, %d) : (tensor<i1>, tensor<2xf32>) -> ()
  }) : (tensor<i64>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}
