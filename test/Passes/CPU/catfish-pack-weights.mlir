// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-pack-weights{panel=8}))' | FileCheck %s
// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-pack-weights{panel=32}))' | FileCheck %s --check-prefix=WIDE
// RUN: not catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-pack-weights{panel=12}))' 2>&1 | FileCheck %s --check-prefix=BAD

// A [2, 16] weight in panels of 8 columns: panel j holds columns 8j..8j+7 of both rows. With
// panel=32 the widest panel dividing 16 columns is 16.
// CHECK-LABEL: func.func @panels
// CHECK: %[[P:.*]] = catfish.constant dense<{{\[}}{{\[}}[0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00], [1.600000e+01, 1.700000e+01, 1.800000e+01, 1.900000e+01, 2.000000e+01, 2.100000e+01, 2.200000e+01, 2.300000e+01]], {{\[}}[8.000000e+00, 9.000000e+00, 1.000000e+01, 1.100000e+01, 1.200000e+01, 1.300000e+01, 1.400000e+01, 1.500000e+01], [2.400000e+01, 2.500000e+01, 2.600000e+01, 2.700000e+01, 2.800000e+01, 2.900000e+01, 3.000000e+01, 3.100000e+01]]]> : tensor<2x2x8xf32>
// CHECK: %[[Y:.*]] = catfish.packed_matmul %arg0, %[[P]] : (tensor<1x3x2xf32>, tensor<2x2x8xf32>) -> tensor<1x3x16xf32>
// CHECK-NOT: catfish.matmul
// CHECK: return %[[Y]]
// WIDE-LABEL: func.func @panels
// WIDE: catfish.packed_matmul %arg0, %{{.*}} : (tensor<1x3x2xf32>, tensor<1x2x16xf32>) -> tensor<1x3x16xf32>
func.func @panels(%x: tensor<1x3x2xf32>) -> tensor<1x3x16xf32> {
  %w = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0],
                               [16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0]]> : tensor<2x16xf32>
  %y = catfish.matmul %x, %w : (tensor<1x3x2xf32>, tensor<2x16xf32>) -> tensor<1x3x16xf32>
  return %y : tensor<1x3x16xf32>
}

// -----

// A Gemm with transB: the transpose of an [8, 2] constant is packed from the constant itself
// (packed[0, k, n] = w[n, k]); the transpose goes too.
// CHECK-LABEL: func.func @transposed
// CHECK: %[[P:.*]] = catfish.constant dense<{{\[}}{{\[}}[0.000000e+00, 2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00, 1.000000e+01, 1.200000e+01, 1.400000e+01], [1.000000e+00, 3.000000e+00, 5.000000e+00, 7.000000e+00, 9.000000e+00, 1.100000e+01, 1.300000e+01, 1.500000e+01]]]> : tensor<1x2x8xf32>
// CHECK-NOT: catfish.transpose
// CHECK: catfish.packed_matmul %arg0, %[[P]] : (tensor<4x2xf32>, tensor<1x2x8xf32>) -> tensor<4x8xf32>
func.func @transposed(%x: tensor<4x2xf32>) -> tensor<4x8xf32> {
  %w = catfish.constant dense<[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]> : tensor<8x2xf32>
  %t = catfish.transpose %w {perm = array<i64: 1, 0>} : (tensor<8x2xf32>) -> tensor<2x8xf32>
  %y = catfish.matmul %x, %t : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// One weight read by two matmuls: packed once, both read the copy.
// CHECK-LABEL: func.func @shared
// CHECK: %[[P:.*]] = catfish.constant {{.*}} : tensor<1x2x8xf32>
// CHECK-NOT: catfish.constant
// CHECK: catfish.packed_matmul %arg0, %[[P]]
// CHECK: catfish.packed_matmul %arg1, %[[P]]
func.func @shared(%x: tensor<4x2xf32>, %z: tensor<3x2xf32>) -> (tensor<4x8xf32>, tensor<3x8xf32>) {
  %w = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<2x8xf32>
  %y = catfish.matmul %x, %w : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %v = catfish.matmul %z, %w : (tensor<3x2xf32>, tensor<2x8xf32>) -> tensor<3x8xf32>
  return %y, %v : tensor<4x8xf32>, tensor<3x8xf32>
}

// -----

// 66 columns, which no panel divides, fill at least 8 panels of 8: packed in 9 panels, the
// last one padded with zero columns, and the padded product sliced back to 66 columns. With
// panel=32 they fill fewer than 8 panels of 32: left alone.
// CHECK-LABEL: func.func @padded
// CHECK: %[[P:.*]] = catfish.constant dense<{{.*}}, {{\[}}[6.400000e+01, 6.500000e+01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]]> : tensor<9x1x8xf32>
// CHECK: %[[Y:.*]] = catfish.packed_matmul %arg0, %[[P]] : (tensor<3x1xf32>, tensor<9x1x8xf32>) -> tensor<3x72xf32>
// CHECK: %[[S:.*]] = catfish.slice %[[Y]], %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> tensor<3x66xf32>
// CHECK: return %[[S]]
// WIDE-LABEL: func.func @padded
// WIDE-NOT: catfish.packed_matmul
// WIDE: catfish.matmul
func.func @padded(%x: tensor<3x1xf32>) -> tensor<3x66xf32> {
  %w = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0]]> : tensor<1x66xf32>
  %y = catfish.matmul %x, %w : (tensor<3x1xf32>, tensor<1x66xf32>) -> tensor<3x66xf32>
  return %y : tensor<3x66xf32>
}

// -----

// Left alone: a weight something else reads too (packing would store it twice), one read both
// as it is and transposed (two packed layouts), a transpose something else reads, columns no
// panel divides (12), f16, a matrix-vector product, a weight that is an input, and a splat
// (one value, not a blob).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: catfish.packed_matmul
// CHECK-COUNT-10: catfish.matmul
// CHECK-NOT: catfish.packed_matmul
func.func @left_alone(%x: tensor<4x2xf32>, %x8: tensor<4x8xf32>, %h: tensor<4x2xf16>, %v: tensor<2xf32>, %win: tensor<2x8xf32>)
    -> (tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>, tensor<4x2xf32>, tensor<4x8xf32>, tensor<8x8xf32>,
        tensor<4x12xf32>, tensor<4x8xf16>, tensor<8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %w = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<2x8xf32>
  %a = catfish.matmul %x, %w : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %both = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0], [32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0], [40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0], [48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0], [56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]]> : tensor<8x8xf32>
  %bt = catfish.transpose %both {perm = array<i64: 1, 0>} : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %b1 = catfish.matmul %x8, %both : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b2 = catfish.matmul %x8, %bt : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %other = catfish.constant dense<[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]> : tensor<8x2xf32>
  %ot = catfish.transpose %other {perm = array<i64: 1, 0>} : (tensor<8x2xf32>) -> tensor<2x8xf32>
  %o = catfish.matmul %x, %ot : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %w12 = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0]]> : tensor<2x12xf32>
  %b = catfish.matmul %x, %w12 : (tensor<4x2xf32>, tensor<2x12xf32>) -> tensor<4x12xf32>
  %wh = catfish.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]> : tensor<2x8xf16>
  %c = catfish.matmul %h, %wh : (tensor<4x2xf16>, tensor<2x8xf16>) -> tensor<4x8xf16>
  %wv = catfish.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]> : tensor<2x8xf32>
  %d = catfish.matmul %v, %wv : (tensor<2xf32>, tensor<2x8xf32>) -> tensor<8xf32>
  %e = catfish.matmul %x, %win : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %ws = catfish.constant dense<2.0> : tensor<2x8xf32>
  %f = catfish.matmul %x, %ws : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %g = catfish.transpose %ot {perm = array<i64: 1, 0>} : (tensor<2x8xf32>) -> tensor<8x2xf32>
  %gx = catfish.matmul %x8, %g : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return %a, %w, %b1, %gx, %b2, %both, %b, %c, %d, %e, %f
      : tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>, tensor<4x2xf32>, tensor<4x8xf32>, tensor<8x8xf32>,
        tensor<4x12xf32>, tensor<4x8xf16>, tensor<8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A convolution's [16, 1, 1, 2] weight packed by output channel: in panels of 8 with
// panel=8, in one panel of 16 with panel=32 (packed[0, 0, 0, k, f] = w[f, 0, 0, k]).
// CHECK-LABEL: func.func @conv
// CHECK: %[[P:.*]] = catfish.constant {{.*}} : tensor<2x1x1x2x8xf32>
// CHECK: catfish.packed_conv %arg0, %[[P]], %arg1 {{.*}} : (tensor<1x1x3x4xf32>, tensor<2x1x1x2x8xf32>, tensor<16xf32>) -> tensor<1x16x3x3xf32>
// WIDE-LABEL: func.func @conv
// WIDE: %[[P:.*]] = catfish.constant dense<{{\[}}{{\[}}{{\[}}{{\[}}[0.000000e+00, 2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00, 1.000000e+01, 1.200000e+01, 1.400000e+01, 1.600000e+01, 1.800000e+01, 2.000000e+01, 2.200000e+01, 2.400000e+01, 2.600000e+01, 2.800000e+01, 3.000000e+01], [1.000000e+00, 3.000000e+00, 5.000000e+00, 7.000000e+00, 9.000000e+00, 1.100000e+01, 1.300000e+01, 1.500000e+01, 1.700000e+01, 1.900000e+01, 2.100000e+01, 2.300000e+01, 2.500000e+01, 2.700000e+01, 2.900000e+01, 3.100000e+01]]]]]> : tensor<1x1x1x2x16xf32>
// WIDE: %[[Y:.*]] = catfish.packed_conv %arg0, %[[P]], %arg1 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x4xf32>, tensor<1x1x1x2x16xf32>, tensor<16xf32>) -> tensor<1x16x3x3xf32>
// WIDE-NOT: catfish.conv
// WIDE: return %[[Y]]
func.func @conv(%x: tensor<1x1x3x4xf32>, %b: tensor<16xf32>) -> tensor<1x16x3x3xf32> {
  %w = catfish.constant dense<[[[[0.0, 1.0]]], [[[2.0, 3.0]]], [[[4.0, 5.0]]], [[[6.0, 7.0]]], [[[8.0, 9.0]]], [[[10.0, 11.0]]], [[[12.0, 13.0]]], [[[14.0, 15.0]]], [[[16.0, 17.0]]], [[[18.0, 19.0]]], [[[20.0, 21.0]]], [[[22.0, 23.0]]], [[[24.0, 25.0]]], [[[26.0, 27.0]]], [[[28.0, 29.0]]], [[[30.0, 31.0]]]]> : tensor<16x1x1x2xf32>
  %y = catfish.conv %x, %w, %b {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x4xf32>, tensor<16x1x1x2xf32>, tensor<16xf32>) -> tensor<1x16x3x3xf32>
  return %y : tensor<1x16x3x3xf32>
}

// -----

// Convolutions left alone: groups, a weight that is an input, output channels no panel
// divides (12). The first one is packed.
// WIDE-LABEL: func.func @conv_left_alone
// WIDE: catfish.packed_conv %arg0
// WIDE-NOT: catfish.packed_conv
// WIDE-COUNT-3: catfish.conv
// WIDE-NOT: catfish.packed_conv
func.func @conv_left_alone(%wide: tensor<1x2x1x32xf32>, %x: tensor<1x2x3x4xf32>, %win: tensor<8x2x1x1xf32>)
    -> (tensor<1x8x1x32xf32>, tensor<1x8x3x4xf32>, tensor<1x8x3x4xf32>, tensor<1x12x3x4xf32>) {
  %w = catfish.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]], [[[7.0]], [[8.0]]], [[[9.0]], [[10.0]]], [[[11.0]], [[12.0]]], [[[13.0]], [[14.0]]], [[[15.0]], [[16.0]]]]> : tensor<8x2x1x1xf32>
  %wg = catfish.constant dense<[[[[1.0]]], [[[2.0]]], [[[3.0]]], [[[4.0]]], [[[5.0]]], [[[6.0]]], [[[7.0]]], [[[8.0]]]]> : tensor<8x1x1x1xf32>
  %w12 = catfish.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]], [[[7.0]], [[8.0]]], [[[9.0]], [[10.0]]], [[[11.0]], [[12.0]]], [[[13.0]], [[14.0]]], [[[15.0]], [[16.0]]], [[[17.0]], [[18.0]]], [[[19.0]], [[20.0]]], [[[21.0]], [[22.0]]], [[[23.0]], [[24.0]]]]> : tensor<12x2x1x1xf32>
  %a = catfish.conv %wide, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x1x32xf32>, tensor<8x2x1x1xf32>) -> tensor<1x8x1x32xf32>
  %b = catfish.conv %x, %wg {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x3x4xf32>, tensor<8x1x1x1xf32>) -> tensor<1x8x3x4xf32>
  %c = catfish.conv %x, %win {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x3x4xf32>, tensor<8x2x1x1xf32>) -> tensor<1x8x3x4xf32>
  %d = catfish.conv %x, %w12 {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x3x4xf32>, tensor<12x2x1x1xf32>) -> tensor<1x12x3x4xf32>
  return %a, %b, %c, %d : tensor<1x8x1x32xf32>, tensor<1x8x3x4xf32>, tensor<1x8x3x4xf32>, tensor<1x12x3x4xf32>
}

// BAD: catfish-pack-weights: panel must be a positive multiple of 8, got 12
