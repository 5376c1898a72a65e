// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-fold-constant-quantize))' | FileCheck %s

// Per output channel (axis 0) with zero points: x / scale rounded half to even, plus the zero
// point, clamped: row 0 (scale 0.5, zp 0): 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2,
// 100 -> 127; row 1 (scale 2, zp 10): -1 -> -0.5 -> -0 + 10 = 10, 3 -> 1.5 -> 2 + 10 = 12,
// -1000 -> -128.
// CHECK-LABEL: func.func @per_axis
// CHECK: %[[Q:.*]] = catfish.constant dense<{{\[\[}}0, 2, 127], [10, 12, -128]]> : tensor<2x3xi8>
// CHECK-NOT: catfish.quantize
// CHECK: catfish.dequantize %[[Q]]
func.func @per_axis() -> tensor<2x3xf32> {
  %w = catfish.constant dense<[[0.25, 0.75, 100.0], [-1.0, 3.0, -1000.0]]> : tensor<2x3xf32>
  %s = catfish.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %z = catfish.constant dense<[0, 10]> : tensor<2xi8>
  %q = catfish.quantize %w, %s, %z {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xi8>
  %d = catfish.dequantize %q, %s, %z {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// Blocks of 2 along axis 1 (the last block partial), to uint4 without a zero point; inf
// saturates.
// CHECK-LABEL: func.func @blocked_uint4
// CHECK: catfish.constant dense<{{\[\[}}1, 15, 0], [4, 3, 15]]> : tensor<2x3xui4>
// CHECK-NOT: catfish.quantize
func.func @blocked_uint4() -> tensor<2x3xui4> {
  %w = catfish.constant dense<[[1.0, 100.0, -5.0], [4.0, 3.0, 0x7F800000]]> : tensor<2x3xf32>
  %s = catfish.constant dense<[[1.0, 1.0], [1.0, 0.5]]> : tensor<2x2xf32>
  %q = catfish.quantize %w, %s {axis = 1 : i64, block_size = 2 : i64} : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x3xui4>
  return %q : tensor<2x3xui4>
}

// -----

// A 16-bit type, per tensor.
// CHECK-LABEL: func.func @int16
// CHECK: catfish.constant dense<[-32768, 3, 32767]> : tensor<3xi16>
func.func @int16() -> tensor<3xi16> {
  %w = catfish.constant dense<[-1.0e9, 0.75, 1.0e9]> : tensor<3xf32>
  %s = catfish.constant dense<0.25> : tensor<f32>
  %q = catfish.quantize %w, %s : (tensor<3xf32>, tensor<f32>) -> tensor<3xi16>
  return %q : tensor<3xi16>
}

// -----

// Not folded: a run-time input, a float8 result, NaN in the input and NaN made by the
// division (0 / 0 with a zero scale): NaN's integer value is unspecified.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-4: catfish.quantize
func.func @kept(%x: tensor<2xf32>) -> (tensor<2xi8>, tensor<2xf8E4M3FN>, tensor<2xi8>, tensor<2xi8>) {
  %s = catfish.constant dense<1.0> : tensor<f32>
  %zero = catfish.constant dense<0.0> : tensor<f32>
  %c = catfish.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %nan = catfish.constant dense<[1.0, 0x7FC00000]> : tensor<2xf32>
  %z = catfish.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %a = catfish.quantize %x, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xi8>
  %b = catfish.quantize %c, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xf8E4M3FN>
  %n = catfish.quantize %nan, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xi8>
  %d = catfish.quantize %z, %zero : (tensor<2xf32>, tensor<f32>) -> tensor<2xi8>
  return %a, %b, %n, %d : tensor<2xi8>, tensor<2xf8E4M3FN>, tensor<2xi8>, tensor<2xi8>
}
