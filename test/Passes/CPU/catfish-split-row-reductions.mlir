// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-split-row-reductions,canonicalize))' | FileCheck %s

// A sum along rows of 64 contiguous elements: 16 partial sums per row, each step of the 4 a
// vector add of 16 contiguous elements, then one vector reduction per row adds the lanes.
// CHECK-LABEL: func.func @row_sum
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [4, 4, 16] : tensor<4x64xf32> into tensor<4x4x16xf32>
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<4x16xf32>
// CHECK: %[[PARTIAL:.*]] = scf.for %[[ROW:.*]] = %c0 to %c4 step %c1 iter_args(%{{.*}} = %[[ZERO]]) -> (tensor<4x16xf32>)
// CHECK:   scf.for %[[STEP:.*]] = %c0 to %c4 step %c1
// CHECK:     tensor.extract_slice %[[X]][%[[ROW]], %[[STEP]], 0] [1, 1, 16]
// CHECK:     vector.transfer_read {{.*}} vector<1x1x16xf32>
// CHECK:     arith.addf {{.*}} : vector<1x16xf32>
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %arg1) -> (tensor<4xf32>)
// CHECK:   tensor.extract_slice %[[PARTIAL]]
// CHECK:   vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<1x16xf32> to vector<1xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[SUM]]
func.func @row_sum(%x: tensor<4x64xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A row max of x - bias (a body around the combiner): the partial maxima start at -inf.
// CHECK-LABEL: func.func @row_max
// CHECK: %[[LOWEST:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[LOWEST]] : f32) outs(%{{.*}} : tensor<2x16xf32>)
// CHECK: arith.subf {{.*}} : vector<1x1x16xf32>
// CHECK: arith.maximumf {{.*}} : vector<1x16xf32>
// CHECK: vector.multi_reduction <maximumf>
func.func @row_max(%x: tensor<2x32xf32>, %bias: tensor<2xf32>, %init: tensor<2xf32>) -> tensor<2xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x, %bias : tensor<2x32xf32>, tensor<2xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %d = arith.subf %a, %b : f32
    %m = arith.maximumf %d, %acc : f32
    linalg.yield %m : f32
  } -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Left alone: a column sum (the reduced dim is not the rows' contiguous end), rows of 40
// (not a multiple of 16), rows of 16 (one vector), a matmul, and a row sum of x + a bias
// shared by every row through a constant index (its steps would not vectorize).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tensor.expand_shape
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT: linalg.generic
func.func @left_alone(%c: tensor<64x4xf32>, %c0: tensor<4xf32>, %r40: tensor<2x40xf32>, %r16: tensor<2x16xf32>,
                      %i2: tensor<2xf32>, %a: tensor<4x64xf32>, %b: tensor<64x4xf32>, %m: tensor<4x4xf32>,
                      %shared: tensor<1x32xf32>, %r32: tensor<2x32xf32>)
    -> (tensor<4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<4x4xf32>, tensor<2xf32>) {
  %cols = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>],
                          iterator_types = ["parallel", "reduction"]}
      ins(%c : tensor<64x4xf32>) outs(%c0 : tensor<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %s40 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                         iterator_types = ["parallel", "reduction"]}
      ins(%r40 : tensor<2x40xf32>) outs(%i2 : tensor<2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  %s16 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                         iterator_types = ["parallel", "reduction"]}
      ins(%r16 : tensor<2x16xf32>) outs(%i2 : tensor<2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x64xf32>, tensor<64x4xf32>) outs(%m : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %sb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0)>],
                        iterator_types = ["parallel", "reduction"]}
      ins(%r32, %shared : tensor<2x32xf32>, tensor<1x32xf32>) outs(%i2 : tensor<2xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.addf %x, %y : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  return %cols, %s40, %s16, %mm, %sb : tensor<4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<4x4xf32>, tensor<2xf32>
}
