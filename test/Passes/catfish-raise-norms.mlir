// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-raise-norms))' | FileCheck %s

// LayerNorm as torch.onnx writes it below opset 17: the weight and the bias follow.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x32xf32>, %[[G:.*]]: tensor<32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[Y:.*]] = catfish.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm(%x: tensor<2x4x32xf32>, %gamma: tensor<32xf32>, %beta: tensor<32xf32>) -> tensor<2x4x32xf32> {
  %m = catfish.reduce %x {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<2x4x32xf32>) -> tensor<2x4x1xf32>
  %d = catfish.sub %x, %m : (tensor<2x4x32xf32>, tensor<2x4x1xf32>) -> tensor<2x4x32xf32>
  %two = catfish.constant dense<2.0> : tensor<f32>
  %p = catfish.pow %d, %two : (tensor<2x4x32xf32>, tensor<f32>) -> tensor<2x4x32xf32>
  %v = catfish.reduce %p {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<2x4x32xf32>) -> tensor<2x4x1xf32>
  %eps = catfish.constant dense<1.0e-12> : tensor<f32>
  %e = catfish.add %v, %eps : (tensor<2x4x1xf32>, tensor<f32>) -> tensor<2x4x1xf32>
  %s = catfish.sqrt %e : (tensor<2x4x1xf32>) -> tensor<2x4x1xf32>
  %n = catfish.div %d, %s : (tensor<2x4x32xf32>, tensor<2x4x1xf32>) -> tensor<2x4x32xf32>
  %w = catfish.mul %n, %gamma : (tensor<2x4x32xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  %y = catfish.add %beta, %w : (tensor<32xf32>, tensor<2x4x32xf32>) -> tensor<2x4x32xf32>
  return %y : tensor<2x4x32xf32>
}

// -----

// Over the last two dims, the square as d * d, no weight: the scale is 1.
// CHECK-LABEL: func.func @layer_norm_2d
// CHECK: %[[ONE:.*]] = catfish.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT: %[[Y:.*]] = catfish.layer_norm %arg0, %[[ONE]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32}
// CHECK-NOT: catfish.reduce
// CHECK: return %[[Y]]
func.func @layer_norm_2d(%x: tensor<3x4x8xf32>) -> tensor<3x4x8xf32> {
  %m = catfish.reduce %x {axes = array<i64: 2, 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<3x4x8xf32>) -> tensor<3x1x1xf32>
  %d = catfish.sub %x, %m : (tensor<3x4x8xf32>, tensor<3x1x1xf32>) -> tensor<3x4x8xf32>
  %p = catfish.mul %d, %d : (tensor<3x4x8xf32>, tensor<3x4x8xf32>) -> tensor<3x4x8xf32>
  %v = catfish.reduce %p {axes = array<i64: 1, 2>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<3x4x8xf32>) -> tensor<3x1x1xf32>
  %eps = catfish.constant dense<1.0e-5> : tensor<f32>
  %e = catfish.add %eps, %v : (tensor<f32>, tensor<3x1x1xf32>) -> tensor<3x1x1xf32>
  %s = catfish.sqrt %e : (tensor<3x1x1xf32>) -> tensor<3x1x1xf32>
  %n = catfish.div %d, %s : (tensor<3x4x8xf32>, tensor<3x1x1xf32>) -> tensor<3x4x8xf32>
  return %n : tensor<3x4x8xf32>
}

// -----

// RMSNorm as Llama's exporters write it: rsqrt as Sqrt and Reciprocal, the weight in front;
// in f16, epsilon is the f16 constant's value.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x32xf16>, %[[W:.*]]: tensor<32xf16>)
// CHECK-NEXT: %[[Y:.*]] = catfish.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 1.01327896E-6 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm(%x: tensor<1x4x32xf16>, %weight: tensor<32xf16>) -> tensor<1x4x32xf16> {
  %two = catfish.constant dense<2.0> : tensor<f16>
  %p = catfish.pow %x, %two : (tensor<1x4x32xf16>, tensor<f16>) -> tensor<1x4x32xf16>
  %v = catfish.reduce %p {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<1x4x32xf16>) -> tensor<1x4x1xf16>
  %eps = catfish.constant dense<1.0e-6> : tensor<f16>
  %e = catfish.add %v, %eps : (tensor<1x4x1xf16>, tensor<f16>) -> tensor<1x4x1xf16>
  %s = catfish.sqrt %e : (tensor<1x4x1xf16>) -> tensor<1x4x1xf16>
  %r = catfish.reciprocal %s : (tensor<1x4x1xf16>) -> tensor<1x4x1xf16>
  %n = catfish.mul %x, %r : (tensor<1x4x32xf16>, tensor<1x4x1xf16>) -> tensor<1x4x32xf16>
  %y = catfish.mul %weight, %n : (tensor<32xf16>, tensor<1x4x32xf16>) -> tensor<1x4x32xf16>
  return %y : tensor<1x4x32xf16>
}

// -----

// An Rsqrt factor on the left; a following Add is no part of RMSNorm and stays.
// CHECK-LABEL: func.func @rms_norm_rsqrt
// CHECK: %[[N:.*]] = catfish.rms_norm %arg0, %arg1 {axis = 1 : i64
// CHECK-NEXT: %[[Y:.*]] = catfish.add %[[N]], %arg1
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm_rsqrt(%x: tensor<4x16xf32>, %weight: tensor<16xf32>) -> tensor<4x16xf32> {
  %two = catfish.constant dense<2.0> : tensor<f32>
  %p = catfish.pow %x, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v = catfish.reduce %p {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %eps = catfish.constant dense<1.0e-6> : tensor<f32>
  %e = catfish.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = catfish.rsqrt %e : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = catfish.mul %r, %x : (tensor<4x1xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %w = catfish.mul %n, %weight : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %y = catfish.add %w, %weight : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Left alone: a mean over a leading dim; a variance that is also returned; a centered value
// with another use; an epsilon that is an input; a weight over the rows.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: catfish.layer_norm
// CHECK-NOT: catfish.rms_norm
// CHECK: return
func.func @left_alone(%x: tensor<4x16xf32>, %eps_in: tensor<f32>, %rows: tensor<4x1xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %two = catfish.constant dense<2.0> : tensor<f32>
  %eps = catfish.constant dense<1.0e-6> : tensor<f32>
  %p0 = catfish.pow %x, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v0 = catfish.reduce %p0 {axes = array<i64: 0>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<1x16xf32>
  %e0 = catfish.add %v0, %eps : (tensor<1x16xf32>, tensor<f32>) -> tensor<1x16xf32>
  %s0 = catfish.sqrt %e0 : (tensor<1x16xf32>) -> tensor<1x16xf32>
  %n0 = catfish.div %x, %s0 : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  %p1 = catfish.pow %x, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v1 = catfish.reduce %p1 {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %e1 = catfish.add %v1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s1 = catfish.sqrt %e1 : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n1 = catfish.div %x, %s1 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %m2 = catfish.reduce %x {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %d2 = catfish.sub %x, %m2 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %p2 = catfish.pow %d2, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v2 = catfish.reduce %p2 {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %e2 = catfish.add %v2, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s2 = catfish.sqrt %e2 : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n2 = catfish.div %d2, %s2 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %p3 = catfish.pow %x, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v3 = catfish.reduce %p3 {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %e3 = catfish.add %v3, %eps_in : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s3 = catfish.sqrt %e3 : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n3 = catfish.div %x, %s3 : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %n0, %n1, %v1, %n2, %d2, %n3, %n3 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x1xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// The normalization is raised but a weight over the rows is no scale of it and stays.
// CHECK-LABEL: func.func @row_weight
// CHECK: %[[N:.*]] = catfish.rms_norm %arg0, %{{.*}} {axis = 1 : i64
// CHECK-NEXT: catfish.mul %[[N]], %arg1
func.func @row_weight(%x: tensor<4x16xf32>, %rows: tensor<4x1xf32>) -> tensor<4x16xf32> {
  %two = catfish.constant dense<2.0> : tensor<f32>
  %eps = catfish.constant dense<1.0e-6> : tensor<f32>
  %p = catfish.pow %x, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v = catfish.reduce %p {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %e = catfish.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = catfish.sqrt %e : (tensor<4x1xf32>) -> tensor<4x1xf32>
  %n = catfish.div %x, %s : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %y = catfish.mul %n, %rows : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
