// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-merge-matmuls))' | FileCheck %s

// Q, K and V projections of one input: one matmul by the weights side by side (row k of the
// merged weight is row k of each), each result a slice of its columns.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[W:.*]] = catfish.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 5.000000e+00, 7.000000e+00], [3.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00]]> : tensor<2x4xf32>
// CHECK-NEXT: %[[P:.*]] = catfish.matmul %arg0, %[[W]] : (tensor<1x3x2xf32>, tensor<2x4xf32>) -> tensor<1x3x4xf32>
// CHECK: %[[Q:.*]] = catfish.slice %[[P]], {{.*}} : (tensor<1x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x3x2xf32>
// CHECK: %[[K:.*]] = catfish.slice %[[P]], {{.*}} -> tensor<1x3x1xf32>
// CHECK: %[[V:.*]] = catfish.slice %[[P]], {{.*}} -> tensor<1x3x1xf32>
// CHECK-NOT: catfish.matmul
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv(%x: tensor<1x3x2xf32>) -> (tensor<1x3x2xf32>, tensor<1x3x1xf32>, tensor<1x3x1xf32>) {
  %wq = catfish.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wk = catfish.constant dense<[[5.0], [6.0]]> : tensor<2x1xf32>
  %wv = catfish.constant dense<[[7.0], [8.0]]> : tensor<2x1xf32>
  %q = catfish.matmul %x, %wq : (tensor<1x3x2xf32>, tensor<2x2xf32>) -> tensor<1x3x2xf32>
  %k = catfish.matmul %x, %wk : (tensor<1x3x2xf32>, tensor<2x1xf32>) -> tensor<1x3x1xf32>
  %v = catfish.matmul %x, %wv : (tensor<1x3x2xf32>, tensor<2x1xf32>) -> tensor<1x3x1xf32>
  return %q, %k, %v : tensor<1x3x2xf32>, tensor<1x3x1xf32>, tensor<1x3x1xf32>
}

// -----

// Left alone: a constant weight whose sibling's weight is an input, and splat weights (they
// would have to be expanded first).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-4: catfish.matmul
// CHECK-NOT: catfish.slice
func.func @left_alone(%x: tensor<3x2xf32>, %y: tensor<3x2xf16>, %w: tensor<2x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf16>) {
  %wq = catfish.constant dense<1.0> : tensor<2x2xf32>
  %q = catfish.matmul %x, %wq : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %k = catfish.matmul %x, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %wh = catfish.constant dense<1.0> : tensor<2x2xf16>
  %h = catfish.matmul %y, %wh : (tensor<3x2xf16>, tensor<2x2xf16>) -> tensor<3x2xf16>
  %e = catfish.matmul %y, %wh : (tensor<3x2xf16>, tensor<2x2xf16>) -> tensor<3x2xf16>
  return %q, %k, %h : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf16>
}
