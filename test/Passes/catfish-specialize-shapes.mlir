// RUN: catfish-opt %s --catfish-specialize-shapes -split-input-file | FileCheck %s

// A reshape with a constant shape gets the static result type it can infer.
// CHECK-LABEL: func.func @refine_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x16xf32>) -> tensor<2x64xf32>
func.func @refine_reshape(%x: tensor<2x4x16xf32>) -> tensor<?x?xf32> {
  // CHECK: %[[S:.*]] = catfish.constant dense<[2, 64]> : tensor<2xi64>
  // CHECK: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<2x64xf32>
  // CHECK: return %[[R]] : tensor<2x64xf32>
  %s = catfish.constant dense<[2, 64]> : tensor<2xi64>
  %r = catfish.reshape %x, %s : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// -1 is resolved from the element count.
// CHECK-LABEL: func.func @refine_inferred_dim
// CHECK-SAME: -> tensor<8x16xf32>
func.func @refine_inferred_dim(%x: tensor<2x4x16xf32>) -> tensor<?x16xf32> {
  // CHECK: catfish.reshape {{.*}} -> tensor<8x16xf32>
  %s = catfish.constant dense<[-1, 16]> : tensor<2xi64>
  %r = catfish.reshape %x, %s : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// -----

// The refined type flows through users (elementwise, broadcasting, transpose), shape
// arithmetic on the now-static value folds to constants, and the signature follows.
// CHECK-LABEL: func.func @propagate
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x16xf32>, %[[B:.*]]: tensor<64xf32>) -> (tensor<64x2xf32>, tensor<128xi64>)
func.func @propagate(%x: tensor<2x4x16xf32>, %b: tensor<64xf32>) -> (tensor<?x?xf32>, tensor<?xi64>) {
  // CHECK-DAG: %[[ZEROS:.*]] = catfish.constant dense<0> : tensor<128xi64>
  // CHECK-DAG: %[[S:.*]] = catfish.constant dense<[2, 64]> : tensor<2xi64>
  // CHECK: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<2x64xf32>
  // CHECK: %[[E:.*]] = catfish.exp %[[R]] : (tensor<2x64xf32>) -> tensor<2x64xf32>
  // CHECK: %[[A:.*]] = catfish.add %[[E]], %[[B]] : (tensor<2x64xf32>, tensor<64xf32>) -> tensor<2x64xf32>
  // CHECK: %[[T:.*]] = catfish.transpose %[[A]] {perm = array<i64: 1, 0>} : (tensor<2x64xf32>) -> tensor<64x2xf32>
  // CHECK-NOT: catfish.shape
  // CHECK-NOT: catfish.fill
  // CHECK: return %[[T]], %[[ZEROS]] : tensor<64x2xf32>, tensor<128xi64>
  %s = catfish.constant dense<[2, 64]> : tensor<2xi64>
  %r = catfish.reshape %x, %s : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %e = catfish.exp %r : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %a = catfish.add %e, %b : (tensor<?x?xf32>, tensor<64xf32>) -> tensor<?x?xf32>
  %t = catfish.transpose %a {perm = array<i64: 1, 0>} : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %sh = catfish.shape %t : (tensor<?x?xf32>) -> tensor<2xi64>
  %f = catfish.fill %sh {value = 0 : i64} : (tensor<2xi64>) -> tensor<?x?xi64>
  %flat_shape = catfish.constant dense<[-1]> : tensor<1xi64>
  %flat = catfish.reshape %f, %flat_shape : (tensor<?x?xi64>, tensor<1xi64>) -> tensor<?xi64>
  return %t, %flat : tensor<?x?xf32>, tensor<?xi64>
}

// -----

// The exporter's Shape -> Concat -> Reshape subgraph folds once the input is static.
// CHECK-LABEL: func.func @shape_subgraph
// CHECK-SAME: (%[[X:.*]]: tensor<3x128xf32>) -> tensor<3x4x32xf32>
func.func @shape_subgraph(%x: tensor<3x128xf32>) -> tensor<?x?x?xf32> {
  // CHECK: %[[S:.*]] = catfish.constant dense<[3, 4, 32]> : tensor<3xi64>
  // CHECK-NOT: catfish.shape
  // CHECK-NOT: catfish.concat
  // CHECK: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<3x128xf32>, tensor<3xi64>) -> tensor<3x4x32xf32>
  // CHECK: return %[[R]]
  %sh = catfish.shape %x {end = 1 : i64} : (tensor<3x128xf32>) -> tensor<1xi64>
  %c = catfish.constant dense<[4, 32]> : tensor<2xi64>
  %cat = catfish.concat %sh, %c {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %r = catfish.reshape %x, %cat : (tensor<3x128xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// -----

// A result type that is already more static than inference stays as it is.
// CHECK-LABEL: func.func @keep_more_static
// CHECK-SAME: (%[[X:.*]]: tensor<?x16xf32>, %[[S:.*]]: tensor<2xi64>) -> tensor<4x?xf32>
func.func @keep_more_static(%x: tensor<?x16xf32>, %s: tensor<2xi64>) -> tensor<4x?xf32> {
  // CHECK: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<?x16xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  // CHECK: return %[[R]] : tensor<4x?xf32>
  %r = catfish.reshape %x, %s : (tensor<?x16xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  return %r : tensor<4x?xf32>
}

// -----

// Nothing is known: the shape operand is not constant.
// CHECK-LABEL: func.func @dynamic_unchanged
// CHECK-SAME: (%[[X:.*]]: tensor<?x128xf32>, %[[S:.*]]: tensor<2xi64>) -> tensor<?x?xf32>
func.func @dynamic_unchanged(%x: tensor<?x128xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  // CHECK-NEXT: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK-NEXT: %[[E:.*]] = catfish.exp %[[R]] : (tensor<?x?xf32>) -> tensor<?x?xf32>
  // CHECK-NEXT: return %[[E]] : tensor<?x?xf32>
  %r = catfish.reshape %x, %s : (tensor<?x128xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %e = catfish.exp %r : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %e : tensor<?x?xf32>
}

// -----

// Already fully static IR comes out unchanged.
// CHECK-LABEL: func.func @static_unchanged
// CHECK-SAME: (%[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<8x4xf32>) -> tensor<2x4xf32>
func.func @static_unchanged(%a: tensor<2x8xf32>, %b: tensor<8x4xf32>) -> tensor<2x4xf32> {
  // CHECK-NEXT: %[[M:.*]] = catfish.matmul %[[A]], %[[B]] : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  // CHECK-NEXT: %[[R:.*]] = catfish.relu %[[M]] : (tensor<2x4xf32>) -> tensor<2x4xf32>
  // CHECK-NEXT: return %[[R]] : tensor<2x4xf32>
  %m = catfish.matmul %a, %b : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %r = catfish.relu %m : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// External functions keep their declared signature.
// CHECK-LABEL: func.func private @external
// CHECK-SAME: (tensor<?xf32>) -> tensor<?xf32>
func.func private @external(tensor<?xf32>) -> tensor<?xf32>
