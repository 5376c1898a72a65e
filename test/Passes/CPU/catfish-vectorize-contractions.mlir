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

// n = 17: cut into 16 columns in whole vectors and 1, each with its own k loop, the second
// writing after the first into the same result.
// CHECK-LABEL: func.func @odd_columns
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [64, 16] [1, 1] : tensor<64x17xf32> to tensor<64x16xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}}) -> (vector<4x16xf32>)
// CHECK: %[[FIRST:.*]] = tensor.insert_slice %{{.*}}[0, 0] [8, 16] [1, 1] : tensor<8x16xf32> into tensor<8x17xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 16] [64, 1] [1, 1] : tensor<64x17xf32> to tensor<64x1xf32>
// CHECK: tensor.extract_slice %[[FIRST]][0, 16] [8, 1] [1, 1]
// CHECK: scf.for %{{.*}} iter_args(%{{.*}}) -> (vector<4x1xf32>)
// CHECK: tensor.insert_slice %{{.*}} into %[[FIRST]][0, 16] [8, 1] [1, 1]
// CHECK-NOT: linalg.generic
// CHECK: return
// (The WIDE label of @odd_columns is above, where it ends @matmul's checks.)
// WIDE: -> (vector<8x16xf32>)
// WIDE: -> (vector<8x1xf32>)
// WIDE-NOT: linalg.generic
// WIDE: return
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

// 7 rows and 40 columns with 512-bit vectors: rows 4 + 2 + 1 and columns 32 + 8, six blocks.
// WIDE-LABEL: func.func @ragged_rows
// WIDE-COUNT-6: iter_args(%{{.*}}) -> (vector<{{[421]}}x{{(32|8)}}xf32>)
// WIDE-NOT: linalg.generic
// WIDE: return
func.func @ragged_rows(%a: tensor<7x64xf32>, %b: tensor<64x40xf32>) -> tensor<7x40xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x40xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<7x40xf32>) -> tensor<7x40xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<7x64xf32>, tensor<64x40xf32>) outs(%init : tensor<7x40xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<7x40xf32>
  return %r : tensor<7x40xf32>
}
