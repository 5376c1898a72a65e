// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-fold-batch-norm))' | FileCheck %s

// s = scale / sqrt(var + eps) = [4 / sqrt(3 + 1), 3 / sqrt(8 + 1)] = [2, 1];
// W' = W * s per output channel; b' = (b - mean) * s + shift = [(1 - 0.5) * 2 + 10, (2 - 4) * 1 - 1].
// CHECK-LABEL: func.func @with_bias
// CHECK-DAG: %[[W:.*]] = catfish.constant dense<{{\[\[\[}}[2.000000e+00, 4.000000e+00]]], {{\[\[}}[3.000000e+00, 4.000000e+00]]]]> : tensor<2x1x1x2xf32>
// CHECK-DAG: %[[B:.*]] = catfish.constant dense<[1.100000e+01, -3.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = catfish.conv %arg0, %[[W]], %[[B]] {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
// CHECK-NOT: catfish.batch_norm
// CHECK: return %[[Y]]
func.func @with_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %w = catfish.constant dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> : tensor<2x1x1x2xf32>
  %b = catfish.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %c = catfish.conv %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x2x4x3xf32>
  %scale = catfish.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %shift = catfish.constant dense<[10.0, -1.0]> : tensor<2xf32>
  %mean = catfish.constant dense<[0.5, 4.0]> : tensor<2xf32>
  %var = catfish.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %y = catfish.batch_norm %c, %scale, %shift, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x4x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// Without a bias the folded bias is (0 - mean) * s + shift.
// CHECK-LABEL: func.func @without_bias
// CHECK-DAG: %[[B:.*]] = catfish.constant dense<[-1.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK: catfish.conv %arg0, %{{.*}}, %[[B]]
// CHECK-NOT: catfish.batch_norm
func.func @without_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = catfish.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = catfish.conv %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %scale = catfish.constant dense<1.0> : tensor<2xf32>
  %shift = catfish.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %mean = catfish.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %var = catfish.constant dense<0.0> : tensor<2xf32>
  %y = catfish.batch_norm %c, %scale, %shift, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Left alone: a convolution with another use; statistics that are inputs; weights that are
// an input.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: catfish.batch_norm
func.func @left_alone(%x: tensor<1x1x4x4xf32>, %mean_in: tensor<2xf32>, %w_in: tensor<2x1x1x1xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = catfish.constant dense<1.0> : tensor<2x1x1x1xf32>
  %scale = catfish.constant dense<1.0> : tensor<2xf32>
  %shift = catfish.constant dense<0.0> : tensor<2xf32>
  %var = catfish.constant dense<1.0> : tensor<2xf32>
  %c0 = catfish.conv %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y0 = catfish.batch_norm %c0, %scale, %shift, %shift, %var {epsilon = 1.0e-5 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %c1 = catfish.conv %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y1 = catfish.batch_norm %c1, %scale, %shift, %mean_in, %var {epsilon = 1.0e-5 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %c2 = catfish.conv %x, %w_in {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y2 = catfish.batch_norm %c2, %scale, %shift, %shift, %var {epsilon = 1.0e-5 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y0, %c0, %y1, %y2 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
