// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-hoist-loop-invariants))' | FileCheck %s

// The transpose of an outer weight and the op that reads only it leave the loop (the inner
// loop's first, then the outer one's); the matmul by the carried value stays, and so does the
// add of the iteration number.
// CHECK-LABEL: func.func @hoist
// CHECK: %[[WT:.*]] = catfish.transpose %arg1
// CHECK-NEXT: %[[W2:.*]] = catfish.mul %[[WT]], %[[WT]]
// CHECK-NEXT: catfish.loop
// CHECK-NEXT: ^bb0(%[[I:.*]]: tensor<i64>, %[[C:.*]]: tensor<i1>, %[[V:.*]]: tensor<2x4xf32>):
// CHECK-NEXT: catfish.loop
// CHECK-NEXT: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %[[U:.*]]: tensor<2x4xf32>):
// CHECK-NEXT: %[[M:.*]] = catfish.matmul %[[U]], %[[W2]]
// CHECK-NEXT: catfish.yield
// CHECK: %[[F:.*]] = catfish.cast %[[I]]
// CHECK-NEXT: catfish.add
// CHECK-NEXT: catfish.yield
func.func @hoist(%n: tensor<i64>, %w: tensor<4x4xf32>, %x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %r = catfish.loop(%n : tensor<i64>) iter_args(%x : tensor<2x4xf32>) -> (tensor<2x4xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2x4xf32>):
    %s = catfish.loop(%n : tensor<i64>) iter_args(%v : tensor<2x4xf32>) -> (tensor<2x4xf32>) {
    ^bb0(%j: tensor<i64>, %d: tensor<i1>, %u: tensor<2x4xf32>):
      %wt = catfish.transpose %w {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
      %w2 = catfish.mul %wt, %wt : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
      %m = catfish.matmul %u, %w2 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
      catfish.yield %d, %m : tensor<i1>, tensor<2x4xf32>
    }
    %f = catfish.cast %i : (tensor<i64>) -> tensor<f32>
    %t = catfish.add %s, %f : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
    catfish.yield %c, %t : tensor<i1>, tensor<2x4xf32>
  }
  return %r : tensor<2x4xf32>
}
