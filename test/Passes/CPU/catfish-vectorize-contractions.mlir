// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-vectorize-contractions,canonicalize,loop-invariant-subset-hoisting,canonicalize))' | FileCheck %s
// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-vectorize-contractions{vector-bits=512},canonicalize,loop-invariant-subset-hoisting,canonicalize))' | FileCheck %s --check-prefix=WIDE

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// 8x32 result in 4x16 register blocks, the column blocks outside the row blocks; the k loop
// is innermost and carries the 4x16 accumulator as a vector, read before and written after.
// CHECK-LABEL: func.func @matmul
// CHECK: scf.for %[[N:.*]] = %c0 to %c32 step %c16
// CHECK:   scf.for %[[M:.*]] = %c0 to %c8 step %c4
// CHECK:     %[[INIT:.*]] = vector.transfer_read {{.*}} vector<4x16xf32>
// CHECK:     %[[ACC:.*]] = scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args(%[[V:.*]] = %[[INIT]]) -> (vector<4x16xf32>)
// CHECK:       vector.transfer_read {{.*}} vector<4x16x1xf32>
// CHECK:       vector.transfer_read {{.*}} vector<4x16x1xf32>
// CHECK:       arith.mulf
// CHECK:       arith.addf %[[V]]
// CHECK:     vector.transfer_write %[[ACC]]
// With 512-bit vectors the block is 8 x 32: the whole result, one k loop.
// WIDE-LABEL: func.func @matmul
// WIDE-NOT: step %c16
// WIDE: scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// WIDE-LABEL: func.func @odd_columns
func.func @matmul(%a: tensor<8x64xf32>, %b: tensor<64x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x64xf32>, tensor<64x32xf32>) outs(%init : tensor<8x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// n = 17: no divisor from 4 to 16 and wider than 16: left alone.
// CHECK-LABEL: func.func @odd_columns
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @odd_columns(%a: tensor<8x64xf32>, %b: tensor<64x17xf32>) -> tensor<8x17xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x17xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8x17xf32>) -> tensor<8x17xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x64xf32>, tensor<64x17xf32>) outs(%init : tensor<8x17xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x17xf32>
  return %r : tensor<8x17xf32>
}

// f16 contractions are left alone.
// CHECK-LABEL: func.func @half
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @half(%a: tensor<8x64xf16>, %b: tensor<64x32xf16>, %init: tensor<8x32xf16>) -> tensor<8x32xf16> {
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x64xf16>, tensor<64x32xf16>) outs(%init : tensor<8x32xf16>) {
  ^bb0(%x: f16, %y: f16, %acc: f16):
    %p = arith.mulf %x, %y : f16
    %s = arith.addf %acc, %p : f16
    linalg.yield %s : f16
  } -> tensor<8x32xf16>
  return %r : tensor<8x32xf16>
}
