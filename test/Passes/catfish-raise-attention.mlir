// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-raise-attention))' | FileCheck %s

// BERT as exported: K^T straight from the heads split ([B, S, H, D] -> [B, H, D, S]), the
// scores divided by sqrt(D), the padding mask added. K is the composed transpose; the
// transpose that made K^T goes.
// CHECK-LABEL: func.func @bert
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x8x16xf32>, %[[KR:.*]]: tensor<2x8x4x16xf32>, %[[V:.*]]: tensor<2x4x8x16xf32>, %[[M:.*]]: tensor<2x1x1x8xf32>)
// CHECK-NOT: catfish.transpose
// CHECK: %[[K:.*]] = catfish.transpose %[[KR]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: catfish.matmul
// CHECK: %[[Y:.*]] = catfish.attention %[[Q]], %[[K]], %[[V]], %[[M]] {is_causal = false, scale = 2.500000e-01 : f32}
// CHECK-SAME: -> tensor<2x4x8x16xf32>
// CHECK-NOT: catfish.softmax
// CHECK: return %[[Y]]
func.func @bert(%q: tensor<2x4x8x16xf32>, %kr: tensor<2x8x4x16xf32>, %v: tensor<2x4x8x16xf32>, %mask: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %kt = catfish.transpose %kr {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x8x4x16xf32>) -> tensor<2x4x16x8xf32>
  %s = catfish.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %c = catfish.constant dense<4.0> : tensor<f32>
  %d = catfish.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %a = catfish.add %d, %mask : (tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32>
  %p = catfish.softmax %a {axis = -1 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %y = catfish.matmul %p, %v : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// GPT-2 as exported: Where(the causal triangle, scores, the lowest f32) is ONNX's causal
// attention, since every row keeps a key.
// CHECK-LABEL: func.func @gpt2
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x8xf32>, %[[K:.*]]: tensor<1x2x3x8xf32>, %[[V:.*]]: tensor<1x2x3x8xf32>)
// CHECK-NOT: catfish.matmul
// CHECK: %[[Y:.*]] = catfish.attention %[[Q]], %[[K]], %[[V]] {is_causal = true, scale = 5.000000e-01 : f32}
// CHECK-NOT: catfish.softmax
// CHECK: return %[[Y]]
func.func @gpt2(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %kt = catfish.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x8xf32>) -> tensor<1x2x8x3xf32>
  %s = catfish.matmul %q, %kt : (tensor<1x2x3x8xf32>, tensor<1x2x8x3xf32>) -> tensor<1x2x3x3xf32>
  %c = catfish.constant dense<2.0> : tensor<f32>
  %d = catfish.div %s, %c : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %keep = catfish.constant dense<[[[[true, false, false], [true, true, false], [true, true, true]]]]> : tensor<1x1x3x3xi1>
  %fill = catfish.constant dense<-3.40282347E+38> : tensor<f32>
  %w = catfish.select %keep, %d, %fill : (tensor<1x1x3x3xi1>, tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %p = catfish.softmax %w {axis = 3 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %y = catfish.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Llama as exported, in f16: the scale a multiplication (the constant on either side), then
// an additive causal constant of 0 and the lowest f16.
// CHECK-LABEL: func.func @llama
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x4x8xf16>, %[[K:.*]]: tensor<1x2x4x8xf16>, %[[V:.*]]: tensor<1x2x4x6xf16>)
// CHECK-NOT: catfish.matmul
// CHECK: %[[Y:.*]] = catfish.attention %[[Q]], %[[K]], %[[V]] {is_causal = true, scale = 1.250000e-01 : f32}
// CHECK-NOT: catfish.softmax
// CHECK: return %[[Y]]
func.func @llama(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x6xf16>) -> tensor<1x2x4x6xf16> {
  %kt = catfish.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf16>) -> tensor<1x2x8x4xf16>
  %s = catfish.matmul %q, %kt : (tensor<1x2x4x8xf16>, tensor<1x2x8x4xf16>) -> tensor<1x2x4x4xf16>
  %c = catfish.constant dense<0.125> : tensor<f16>
  %d = catfish.mul %c, %s : (tensor<f16>, tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %causal = catfish.constant dense<[[[[0.0, -65504.0, -65504.0, -65504.0], [0.0, 0.0, -65504.0, -65504.0], [0.0, 0.0, 0.0, -65504.0], [0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x4xf16>
  %a = catfish.add %causal, %d : (tensor<1x1x4x4xf16>, tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %p = catfish.softmax %a {axis = 3 : i64} : (tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %y = catfish.matmul %p, %v : (tensor<1x2x4x4xf16>, tensor<1x2x4x6xf16>) -> tensor<1x2x4x6xf16>
  return %y : tensor<1x2x4x6xf16>
}

// -----

// A boolean keep that is an input, with -inf as the fill, is the attention's boolean mask.
// K^T that is no transpose gets one. No scale: 1.
// CHECK-LABEL: func.func @bool_mask
// CHECK-SAME: (%[[Q:.*]]: tensor<1x1x4x8xf32>, %[[KT:.*]]: tensor<1x1x8x5xf32>, %[[V:.*]]: tensor<1x1x5x8xf32>, %[[KEEP:.*]]: tensor<4x5xi1>)
// CHECK: %[[K:.*]] = catfish.transpose %[[KT]] {perm = array<i64: 0, 1, 3, 2>}
// CHECK-NEXT: catfish.attention %[[Q]], %[[K]], %[[V]], %[[KEEP]] {is_causal = false, scale = 1.000000e+00 : f32
func.func @bool_mask(%q: tensor<1x1x4x8xf32>, %kt: tensor<1x1x8x5xf32>, %v: tensor<1x1x5x8xf32>, %keep: tensor<4x5xi1>) -> tensor<1x1x4x8xf32> {
  %s = catfish.matmul %q, %kt : (tensor<1x1x4x8xf32>, tensor<1x1x8x5xf32>) -> tensor<1x1x4x5xf32>
  %fill = catfish.constant dense<0xFF800000> : tensor<f32>
  %w = catfish.select %keep, %s, %fill : (tensor<4x5xi1>, tensor<1x1x4x5xf32>, tensor<f32>) -> tensor<1x1x4x5xf32>
  %p = catfish.softmax %w {axis = 3 : i64} : (tensor<1x1x4x5xf32>) -> tensor<1x1x4x5xf32>
  %y = catfish.matmul %p, %v : (tensor<1x1x4x5xf32>, tensor<1x1x5x8xf32>) -> tensor<1x1x4x8xf32>
  return %y : tensor<1x1x4x8xf32>
}

// -----

// Left alone: a finite fill with a keep that is not a constant (a row that keeps no key would
// be uniform there but not in attention); scores with another use; softmax over the queries.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: catfish.attention
// CHECK-COUNT-3: catfish.softmax
// CHECK-NOT: catfish.attention
func.func @left_alone(%q: tensor<1x1x4x8xf32>, %kt: tensor<1x1x8x4xf32>, %v: tensor<1x1x4x8xf32>, %keep: tensor<4x4xi1>) -> (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>) {
  %s0 = catfish.matmul %q, %kt : (tensor<1x1x4x8xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x4x4xf32>
  %fill = catfish.constant dense<-1.0e9> : tensor<f32>
  %w = catfish.select %keep, %s0, %fill : (tensor<4x4xi1>, tensor<1x1x4x4xf32>, tensor<f32>) -> tensor<1x1x4x4xf32>
  %p0 = catfish.softmax %w {axis = 3 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y0 = catfish.matmul %p0, %v : (tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  %s1 = catfish.matmul %q, %kt : (tensor<1x1x4x8xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x4x4xf32>
  %p1 = catfish.softmax %s1 {axis = 3 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y1 = catfish.matmul %p1, %v : (tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  %s2 = catfish.matmul %q, %kt : (tensor<1x1x4x8xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x4x4xf32>
  %p2 = catfish.softmax %s2 {axis = 2 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y2 = catfish.matmul %p2, %v : (tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return %y0, %y1, %s1, %y2 : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>
}

// -----

// A constant keep with a row that keeps no key and a finite fill: that row is uniform here,
// NaN in attention, so it stays.
// CHECK-LABEL: func.func @empty_row
// CHECK-NOT: catfish.attention
// CHECK: catfish.softmax
func.func @empty_row(%q: tensor<1x1x2x8xf32>, %kt: tensor<1x1x8x2xf32>, %v: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %s = catfish.matmul %q, %kt : (tensor<1x1x2x8xf32>, tensor<1x1x8x2xf32>) -> tensor<1x1x2x2xf32>
  %keep = catfish.constant dense<[[true, false], [false, false]]> : tensor<2x2xi1>
  %fill = catfish.constant dense<-1.0e9> : tensor<f32>
  %w = catfish.select %keep, %s, %fill : (tensor<2x2xi1>, tensor<1x1x2x2xf32>, tensor<f32>) -> tensor<1x1x2x2xf32>
  %p = catfish.softmax %w {axis = 3 : i64} : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %y = catfish.matmul %p, %v : (tensor<1x1x2x2xf32>, tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32>
  return %y : tensor<1x1x2x8xf32>
}
