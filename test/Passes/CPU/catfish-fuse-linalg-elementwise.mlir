// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-fuse-linalg-elementwise))' | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>

// Two elementwise generics become one.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.negf
// CHECK-NOT: linalg.generic
func.func @chain(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %init = tensor.empty() : tensor<4x8xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %0 = math.exp %a : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%e : tensor<4x8xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An elementwise producer (such as the im2col copy of a convolution) does not fuse into a
// contraction, which must stay a contraction for the micro-kernels.
// CHECK-LABEL: func.func @into_contraction
// CHECK: %[[E:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[E]], %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>)
func.func @into_contraction(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %init = tensor.empty() : tensor<4x8xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %0 = math.exp %a : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %m = linalg.generic {
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>,
                       affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%e, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%c : tensor<4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %0 = arith.mulf %p, %q : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<4x16xf32>
  return %m : tensor<4x16xf32>
}

// -----

// The epilogue of a contraction on a grid of column panels (a packed matmul) moves onto the
// grid: the bias is expanded to [panel, column] and the collapse comes after the epilogue.
// CHECK-LABEL: func.func @panel_epilogue
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: } -> tensor<2x4x2x8xf32>
// CHECK: %[[B:.*]] = tensor.expand_shape %arg2 {{\[}}[0, 1]] output_shape [2, 8] : tensor<16xf32> into tensor<2x8xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[B]] : tensor<2x4x2x8xf32>, tensor<2x8xf32>)
// CHECK: arith.addf
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[E]] {{\[}}[0], [1], [2, 3]] : tensor<2x4x2x8xf32> into tensor<2x4x16xf32>
// CHECK: return %[[C]]
func.func @panel_epilogue(%x: tensor<2x4x8xf32>, %w: tensor<2x8x8xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x2x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x2x8xf32>) -> tensor<2x4x2x8xf32>
  %g = linalg.generic {
      indexing_maps = [affine_map<(b, m, p, c, k) -> (b, m, k)>, affine_map<(b, m, p, c, k) -> (p, k, c)>,
                       affine_map<(b, m, p, c, k) -> (b, m, p, c)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x4x8xf32>, tensor<2x8x8xf32>) outs(%init : tensor<2x4x2x8xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %0 = arith.mulf %p, %q : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x4x2x8xf32>
  %c = tensor.collapse_shape %g [[0], [1], [2, 3]] : tensor<2x4x2x8xf32> into tensor<2x4x16xf32>
  %out = tensor.empty() : tensor<2x4x16xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c, %b : tensor<2x4x16xf32>, tensor<16xf32>) outs(%out : tensor<2x4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %0 = arith.addf %p, %q : f32
    linalg.yield %0 : f32
  } -> tensor<2x4x16xf32>
  return %r : tensor<2x4x16xf32>
}

// -----

// Any other collapse stays where it is.
// CHECK-LABEL: func.func @other_collapse
// CHECK: %[[C:.*]] = tensor.collapse_shape %arg0
// CHECK: linalg.generic {{.*}} ins(%[[C]] : tensor<4x16xf32>)
func.func @other_collapse(%x: tensor<4x2x8xf32>) -> tensor<4x16xf32> {
  %c = tensor.collapse_shape %x [[0], [1, 2]] : tensor<4x2x8xf32> into tensor<4x16xf32>
  %out = tensor.empty() : tensor<4x16xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%c : tensor<4x16xf32>) outs(%out : tensor<4x16xf32>) {
  ^bb0(%p: f32, %o: f32):
    %0 = math.exp %p : f32
    linalg.yield %0 : f32
  } -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}
