// RUN: catfish-opt %s --split-input-file --catfish-sink-reshapes | FileCheck %s

// GPT-2's Conv1D as the TorchScript exporter writes it: the Gemm's [128, N] result is given a
// leading unit dim, then the bias-free residual add and GELU-like ops run on [1, 128, N]. The
// elementwise ops move above the reshape (the residual read through a view of [128, N]), so
// the product's whole epilogue is elementwise on its own shape and the two reshapes around
// the next matmul cancel.
// CHECK-LABEL: func.func @conv1d
// CHECK-SAME: (%[[X:.*]]: tensor<128x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>, %[[R:.*]]: tensor<1x128x32xf32>, %[[W2:.*]]: tensor<32x16xf32>)
// CHECK: %[[M:.*]] = catfish.matmul %[[X]], %[[W]]
// CHECK: %[[BIAS:.*]] = catfish.add %[[M]], %[[B]] : (tensor<128x32xf32>, tensor<32xf32>) -> tensor<128x32xf32>
// CHECK: %[[RV:.*]] = catfish.reshape %[[R]], %{{.*}} : (tensor<1x128x32xf32>, tensor<2xi64>) -> tensor<128x32xf32>
// CHECK: %[[SUM:.*]] = catfish.add %[[BIAS]], %[[RV]] : (tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<128x32xf32>
// CHECK: %[[T:.*]] = catfish.tanh %[[SUM]] : (tensor<128x32xf32>) -> tensor<128x32xf32>
// CHECK: %[[OUT:.*]] = catfish.reshape %[[T]], %{{.*}} : (tensor<128x32xf32>, tensor<3xi64>) -> tensor<1x128x32xf32>
// CHECK: %[[NEXT:.*]] = catfish.matmul %[[T]], %[[W2]]
// CHECK: return %[[OUT]], %[[NEXT]]
func.func @conv1d(%x: tensor<128x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>, %r: tensor<1x128x32xf32>, %w2: tensor<32x16xf32>) -> (tensor<1x128x32xf32>, tensor<128x16xf32>) {
  %m = catfish.matmul %x, %w : (tensor<128x64xf32>, tensor<64x32xf32>) -> tensor<128x32xf32>
  %bias = catfish.add %m, %b : (tensor<128x32xf32>, tensor<32xf32>) -> tensor<128x32xf32>
  %s3 = catfish.constant dense<[1, 128, 32]> : tensor<3xi64>
  %u = catfish.reshape %bias, %s3 : (tensor<128x32xf32>, tensor<3xi64>) -> tensor<1x128x32xf32>
  %sum = catfish.add %u, %r : (tensor<1x128x32xf32>, tensor<1x128x32xf32>) -> tensor<1x128x32xf32>
  %t = catfish.tanh %sum : (tensor<1x128x32xf32>) -> tensor<1x128x32xf32>
  %s2 = catfish.constant dense<[128, 32]> : tensor<2xi64>
  %flat = catfish.reshape %t, %s2 : (tensor<1x128x32xf32>, tensor<2xi64>) -> tensor<128x32xf32>
  %next = catfish.matmul %flat, %w2 : (tensor<128x32xf32>, tensor<32x16xf32>) -> tensor<128x16xf32>
  return %t, %next : tensor<1x128x32xf32>, tensor<128x16xf32>
}

// -----

// Scalars and operands broadcast along trailing dims stay as they are; a comparison keeps its
// i1 result type.
// CHECK-LABEL: func.func @broadcasts
// CHECK: %[[MUL:.*]] = catfish.mul %arg0, %arg1 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
// CHECK: %[[GT:.*]] = catfish.greater %[[MUL]], %arg2 : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xi1>
// CHECK: catfish.reshape %[[GT]], %{{.*}} : (tensor<4x8xi1>, tensor<4xi64>) -> tensor<1x1x4x8xi1>
func.func @broadcasts(%x: tensor<4x8xf32>, %s: tensor<f32>, %row: tensor<1x8xf32>) -> tensor<1x1x4x8xi1> {
  %shape = catfish.constant dense<[1, 1, 4, 8]> : tensor<4xi64>
  %u = catfish.reshape %x, %shape : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<1x1x4x8xf32>
  %m = catfish.mul %u, %s : (tensor<1x1x4x8xf32>, tensor<f32>) -> tensor<1x1x4x8xf32>
  %g = catfish.greater %m, %row : (tensor<1x1x4x8xf32>, tensor<1x8xf32>) -> tensor<1x1x4x8xi1>
  return %g : tensor<1x1x4x8xi1>
}

// -----

// Left alone: a reshape that moves elements between dims (not only leading unit dims), and an
// elementwise op whose result is wider than the reshaped operand (it broadcasts it).
// CHECK-LABEL: func.func @not_sunk
// CHECK: %[[A:.*]] = catfish.reshape %arg0
// CHECK-NEXT: catfish.neg %[[A]] : (tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK: %[[B:.*]] = catfish.reshape %arg1
// CHECK-NEXT: catfish.add %[[B]], %arg2 : (tensor<1x1x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
func.func @not_sunk(%x: tensor<4x8xf32>, %y: tensor<1x4xf32>, %z: tensor<1x3x4xf32>) -> (tensor<8x4xf32>, tensor<1x3x4xf32>) {
  %s1 = catfish.constant dense<[8, 4]> : tensor<2xi64>
  %a = catfish.reshape %x, %s1 : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<8x4xf32>
  %n = catfish.neg %a : (tensor<8x4xf32>) -> tensor<8x4xf32>
  %s2 = catfish.constant dense<[1, 1, 4]> : tensor<3xi64>
  %b = catfish.reshape %y, %s2 : (tensor<1x4xf32>, tensor<3xi64>) -> tensor<1x1x4xf32>
  %c = catfish.add %b, %z : (tensor<1x1x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  return %n, %c : tensor<8x4xf32>, tensor<1x3x4xf32>
}
