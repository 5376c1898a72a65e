// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-form-fusions))' -verify-diagnostics

// An If the importer could not select between (its results have dynamic types) is refused by
// name.
func.func @runtime_if(%c: tensor<i1>, %x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{an If whose condition is known only at run time and whose branches give results of different or dynamic types is not supported by code generation yet}}
  %r = catfish.if %c : tensor<i1> -> tensor<?xf32> {
    catfish.yield %x : tensor<?xf32>
  } else {
    %d = catfish.add %x, %x : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
    catfish.yield %d : tensor<?xf32>
  }
  return %r : tensor<?xf32>
}
