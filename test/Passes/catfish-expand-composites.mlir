// RUN: catfish-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(catfish-expand-composites))' | FileCheck %s

// Grouped-query attention: query head h reads key/value head h / 2. The causal mask is the
// upper-left triangle of [queries, keys]; the softcap follows the mask.
// CHECK-LABEL: func.func @gqa_causal_softcap
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x2x5x6xf32>)
// CHECK: %[[HEADS:.*]] = catfish.constant dense<[0, 0, 1, 1]> : tensor<4xi64>
// CHECK: %[[K4:.*]] = catfish.gather %[[K]], %[[HEADS]] {axis = 1 : i64} {{.*}} -> tensor<1x4x5x8xf32>
// CHECK: %[[V4:.*]] = catfish.gather %[[V]], %{{.*}} {axis = 1 : i64} {{.*}} -> tensor<1x4x5x6xf32>
// CHECK: %[[QS:.*]] = catfish.mul %[[Q]], %{{.*}} : (tensor<1x4x3x8xf32>, tensor<f32>)
// CHECK: %[[KT:.*]] = catfish.transpose %[[K4]] {perm = array<i64: 0, 1, 3, 2>}
// CHECK: %[[S:.*]] = catfish.matmul %[[QS]], %[[KT]] {{.*}} -> tensor<1x4x3x5xf32>
// CHECK: %[[NEGINF:.*]] = catfish.constant dense<0xFF800000> : tensor<f32>
// CHECK: %[[TRI:.*]] = catfish.constant dense<{{\[}}[true, false, false, false, false], [true, true, false, false, false], [true, true, true, false, false]]> : tensor<3x5xi1>
// CHECK: %[[M:.*]] = catfish.select %[[TRI]], %[[S]], %[[NEGINF]]
// CHECK: %[[CAP:.*]] = catfish.constant dense<3.000000e+01> : tensor<f32>
// CHECK: %[[D:.*]] = catfish.div %[[M]], %[[CAP]]
// CHECK: %[[T:.*]] = catfish.tanh %[[D]]
// CHECK: %[[C:.*]] = catfish.mul %[[T]], %[[CAP]]
// CHECK: %[[P:.*]] = catfish.softmax %[[C]] {axis = 3 : i64}
// CHECK: %[[Y:.*]] = catfish.matmul %[[P]], %[[V4]] {{.*}} -> tensor<1x4x3x6xf32>
// CHECK: return %[[Y]]
// CHECK-NOT: catfish.attention
func.func @gqa_causal_softcap(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<1x4x3x6xf32> {
  %y = catfish.attention %q, %k, %v {is_causal = true, scale = 0.5 : f32, softcap = 30.0 : f32} : (tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x6xf32>) -> tensor<1x4x3x6xf32>
  return %y : tensor<1x4x3x6xf32>
}

// -----

// A boolean mask keeps scores where true and gives -inf elsewhere; an additive mask is added.
// CHECK-LABEL: func.func @masks
// CHECK: %[[S:.*]] = catfish.matmul
// CHECK: catfish.select %arg3, %[[S]], %{{.*}} : (tensor<4x4xi1>, tensor<2x2x4x4xf32>, tensor<f32>)
// CHECK: catfish.softmax
// CHECK: catfish.matmul
// CHECK: %[[S2:.*]] = catfish.matmul
// CHECK-NOT: catfish.matmul
// CHECK: catfish.add %[[S2]], %arg4 : (tensor<2x2x4x4xf32>, tensor<2x1x4x4xf32>)
// CHECK-NOT: catfish.attention
func.func @masks(%q: tensor<2x2x4x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>, %m: tensor<4x4xi1>, %bias: tensor<2x1x4x4xf32>) -> (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) {
  %y = catfish.attention %q, %k, %v, %m {is_causal = false, scale = 0.125 : f32} : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<4x4xi1>) -> tensor<2x2x4x8xf32>
  %z = catfish.attention %q, %k, %v, %bias {is_causal = false, scale = 0.125 : f32} : (tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x1x4x4xf32>) -> tensor<2x2x4x8xf32>
  return %y, %z : tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>
}

// -----

// The causal mask needs static sequence lengths.
func.func @dynamic_causal(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  // expected-error @+1 {{causal attention needs static sequence lengths}}
  %y = catfish.attention %q, %k, %v {is_causal = true, scale = 0.125 : f32} : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %y : tensor<1x2x?x8xf32>
}
