// RUN: catfish-opt %s | catfish-opt | FileCheck %s
// RUN: catfish-opt %s -mlir-print-op-generic | catfish-opt | FileCheck %s

// Round trip: each op family prints and parses back unchanged.

// CHECK-LABEL: func.func @constant
func.func @constant() -> (tensor<2xi64>, tensor<4xf16>, tensor<2x2xi1>) {
  // CHECK: %[[A:.*]] = catfish.constant dense<[1, 2]> : tensor<2xi64>
  %a = catfish.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK: %[[B:.*]] = catfish.constant dense<1.500000e+00> : tensor<4xf16>
  %b = catfish.constant dense<1.5> : tensor<4xf16>
  // CHECK: %[[C:.*]] = catfish.constant dense<{{\[\[}}true, false], [false, true]]> : tensor<2x2xi1>
  %c = catfish.constant dense<[[true, false], [false, true]]> : tensor<2x2xi1>
  // CHECK: return %[[A]], %[[B]], %[[C]]
  return %a, %b, %c : tensor<2xi64>, tensor<4xf16>, tensor<2x2xi1>
}

// -----

// CHECK-LABEL: func.func @cast
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xbf16>)
func.func @cast(%x: tensor<2x?xbf16>) -> (tensor<2x?xf8E4M3FN>, tensor<2x?xi4>) {
  // CHECK: %[[F8:.*]] = catfish.cast %[[X]] : (tensor<2x?xbf16>) -> tensor<2x?xf8E4M3FN>
  %0 = catfish.cast %x : (tensor<2x?xbf16>) -> tensor<2x?xf8E4M3FN>
  // CHECK: %[[I4:.*]] = catfish.cast %[[X]] {saturate = false} : (tensor<2x?xbf16>) -> tensor<2x?xi4>
  %1 = catfish.cast %x {saturate = false} : (tensor<2x?xbf16>) -> tensor<2x?xi4>
  // CHECK: return %[[F8]], %[[I4]]
  return %0, %1 : tensor<2x?xf8E4M3FN>, tensor<2x?xi4>
}

// -----

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:.*]]: tensor<4x?xf16>, %[[B:.*]]: tensor<4xi1>)
func.func @unary(%x: tensor<4x?xf16>, %b: tensor<4xi1>) -> (tensor<4x?xf16>, tensor<4x?xi1>, tensor<4xi1>) {
  // CHECK: %[[E:.*]] = catfish.exp %[[X]] : (tensor<4x?xf16>) -> tensor<4x?xf16>
  %0 = catfish.exp %x : (tensor<4x?xf16>) -> tensor<4x?xf16>
  // CHECK: %[[G:.*]] = catfish.gelu %[[E]] {tanh_approximation = true} : (tensor<4x?xf16>) -> tensor<4x?xf16>
  %1 = catfish.gelu %0 {tanh_approximation = true} : (tensor<4x?xf16>) -> tensor<4x?xf16>
  // CHECK: %[[N:.*]] = catfish.is_nan %[[G]] : (tensor<4x?xf16>) -> tensor<4x?xi1>
  %2 = catfish.is_nan %1 : (tensor<4x?xf16>) -> tensor<4x?xi1>
  // CHECK: %[[NOT:.*]] = catfish.not %[[B]] : (tensor<4xi1>) -> tensor<4xi1>
  %3 = catfish.not %b : (tensor<4xi1>) -> tensor<4xi1>
  // CHECK: return %[[G]], %[[N]], %[[NOT]]
  return %1, %2, %3 : tensor<4x?xf16>, tensor<4x?xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @param_unary
// CHECK-SAME: (%[[X:.*]]: tensor<8xbf16>)
func.func @param_unary(%x: tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xbf16>) {
  // CHECK: %[[L:.*]] = catfish.leaky_relu %[[X]] {alpha = 0.00999999977 : f32} : (tensor<8xbf16>) -> tensor<8xbf16>
  %0 = catfish.leaky_relu %x {alpha = 0.01 : f32} : (tensor<8xbf16>) -> tensor<8xbf16>
  // CHECK: %[[H:.*]] = catfish.hard_sigmoid %[[L]] {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32} : (tensor<8xbf16>) -> tensor<8xbf16>
  %1 = catfish.hard_sigmoid %0 {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<8xbf16>) -> tensor<8xbf16>
  // CHECK: return %[[L]], %[[H]]
  return %0, %1 : tensor<8xbf16>, tensor<8xbf16>
}

// -----

// CHECK-LABEL: func.func @binary_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<2x1x4xf32>, %[[B:.*]]: tensor<3x1xf32>, %[[C:.*]]: tensor<?x4xi32>)
func.func @binary_broadcast(%a: tensor<2x1x4xf32>, %b: tensor<3x1xf32>, %c: tensor<?x4xi32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xi1>, tensor<?x4xi32>) {
  // CHECK: %[[ADD:.*]] = catfish.add %[[A]], %[[B]] : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  %0 = catfish.add %a, %b : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  // CHECK: %[[LT:.*]] = catfish.less %[[ADD]], %[[B]] : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xi1>
  %1 = catfish.less %0, %b : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xi1>
  // CHECK: %[[MOD:.*]] = catfish.mod %[[C]], %[[C]] {fmod = true} : (tensor<?x4xi32>, tensor<?x4xi32>) -> tensor<?x4xi32>
  %2 = catfish.mod %c, %c {fmod = true} : (tensor<?x4xi32>, tensor<?x4xi32>) -> tensor<?x4xi32>
  // CHECK: return %[[ADD]], %[[LT]], %[[MOD]]
  return %0, %1, %2 : tensor<2x3x4xf32>, tensor<2x3x4xi1>, tensor<?x4xi32>
}

// -----

// CHECK-LABEL: func.func @select
// CHECK-SAME: (%[[C:.*]]: tensor<1x4xi1>, %[[T:.*]]: tensor<3x1xf16>, %[[F:.*]]: tensor<f16>)
func.func @select(%c: tensor<1x4xi1>, %t: tensor<3x1xf16>, %f: tensor<f16>) -> tensor<3x4xf16> {
  // CHECK: %[[S:.*]] = catfish.select %[[C]], %[[T]], %[[F]] : (tensor<1x4xi1>, tensor<3x1xf16>, tensor<f16>) -> tensor<3x4xf16>
  %0 = catfish.select %c, %t, %f : (tensor<1x4xi1>, tensor<3x1xf16>, tensor<f16>) -> tensor<3x4xf16>
  // CHECK: return %[[S]]
  return %0 : tensor<3x4xf16>
}

// -----

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[S:.*]]: tensor<2xi64>)
func.func @reshape(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>) -> (tensor<6x4xf32>, tensor<?x?xf32>) {
  // CHECK: %[[SHAPE:.*]] = catfish.constant dense<[-1, 4]> : tensor<2xi64>
  %shape = catfish.constant dense<[-1, 4]> : tensor<2xi64>
  // CHECK: %[[R:.*]] = catfish.reshape %[[X]], %[[SHAPE]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %0 = catfish.reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  // CHECK: %[[D:.*]] = catfish.reshape %[[X]], %[[S]] {allowzero = true} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %1 = catfish.reshape %x, %s {allowzero = true} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: return %[[R]], %[[D]]
  return %0, %1 : tensor<6x4xf32>, tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x4xi4>)
func.func @transpose(%x: tensor<2x?x4xi4>) -> tensor<4x2x?xi4> {
  // CHECK: %[[T:.*]] = catfish.transpose %[[X]] {perm = array<i64: 2, 0, 1>} : (tensor<2x?x4xi4>) -> tensor<4x2x?xi4>
  %0 = catfish.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x?x4xi4>) -> tensor<4x2x?xi4>
  // CHECK: return %[[T]]
  return %0 : tensor<4x2x?xi4>
}

// -----

// CHECK-LABEL: func.func @concat_split
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x5xf32>)
func.func @concat_split(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> (tensor<2x8xf32>, tensor<2x6xf32>) {
  // CHECK: %[[C:.*]] = catfish.concat %[[A]], %[[B]] {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %0 = catfish.concat %a, %b {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  // CHECK: %[[S:.*]]:2 = catfish.split %[[C]] {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<2x6xf32>)
  %1:2 = catfish.split %0 {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<2x8xf32>) -> (tensor<2x2xf32>, tensor<2x6xf32>)
  // CHECK: return %[[C]], %[[S]]#1
  return %0, %1#1 : tensor<2x8xf32>, tensor<2x6xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>)
func.func @slice(%x: tensor<10x8xf32>) -> (tensor<8x8xf32>, tensor<10x4xf32>) {
  %starts = catfish.constant dense<1> : tensor<1xi64>
  %ends = catfish.constant dense<9> : tensor<1xi64>
  %axes = catfish.constant dense<1> : tensor<1xi32>
  %steps = catfish.constant dense<2> : tensor<1xi32>
  // CHECK: %[[S:.*]] = catfish.slice %[[X]], %{{.*}}, %{{.*}} {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<8x8xf32>
  %0 = catfish.slice %x, %starts, %ends {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<8x8xf32>
  // CHECK: %[[T:.*]] = catfish.slice %[[X]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>) -> tensor<10x4xf32>
  %1 = catfish.slice %x, %starts, %ends, %axes, %steps {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>) -> tensor<10x4xf32>
  // CHECK: return %[[S]], %[[T]]
  return %0, %1 : tensor<8x8xf32>, tensor<10x4xf32>
}

// -----

// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[X:.*]]: tensor<4x16x32xf32>, %[[I:.*]]: tensor<4x2xi64>)
func.func @gather(%x: tensor<4x16x32xf32>, %i: tensor<4x2xi64>) -> tensor<4x4x2x32xf32> {
  // CHECK: %[[G:.*]] = catfish.gather %[[X]], %[[I]] {axis = 1 : i64} : (tensor<4x16x32xf32>, tensor<4x2xi64>) -> tensor<4x4x2x32xf32>
  %0 = catfish.gather %x, %i {axis = 1 : i64} : (tensor<4x16x32xf32>, tensor<4x2xi64>) -> tensor<4x4x2x32xf32>
  // CHECK: return %[[G]]
  return %0 : tensor<4x4x2x32xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>, %[[S:.*]]: tensor<3xi64>)
func.func @broadcast(%x: tensor<3x1xf32>, %s: tensor<3xi64>) -> (tensor<2x3x4xf32>, tensor<?x?x?xf32>) {
  // CHECK: %[[SHAPE:.*]] = catfish.constant dense<[2, 1, 4]> : tensor<3xi64>
  %shape = catfish.constant dense<[2, 1, 4]> : tensor<3xi64>
  // CHECK: %[[B:.*]] = catfish.broadcast %[[X]], %[[SHAPE]] : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %0 = catfish.broadcast %x, %shape : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  // CHECK: %[[D:.*]] = catfish.broadcast %[[X]], %[[S]] : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %1 = catfish.broadcast %x, %s : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  // CHECK: return %[[B]], %[[D]]
  return %0, %1 : tensor<2x3x4xf32>, tensor<?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @pad
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>)
func.func @pad(%x: tensor<1x3x8x8xf32>) -> (tensor<1x3x10x12xf32>, tensor<1x3x10x12xf32>) {
  // CHECK: %[[P:.*]] = catfish.constant dense<[0, 0, 1, 2, 0, 0, 1, 2]> : tensor<8xi64>
  %pads = catfish.constant dense<[0, 0, 1, 2, 0, 0, 1, 2]> : tensor<8xi64>
  // CHECK: %[[V:.*]] = catfish.constant dense<0.000000e+00> : tensor<f32>
  %v = catfish.constant dense<0.0> : tensor<f32>
  // CHECK: %[[C:.*]] = catfish.pad %[[X]], %[[P]], %[[V]] {mode = #catfish<pad_mode constant>} : (tensor<1x3x8x8xf32>, tensor<8xi64>, tensor<f32>) -> tensor<1x3x10x12xf32>
  %0 = catfish.pad %x, %pads, %v {mode = #catfish<pad_mode constant>} : (tensor<1x3x8x8xf32>, tensor<8xi64>, tensor<f32>) -> tensor<1x3x10x12xf32>
  // CHECK: %[[R:.*]] = catfish.pad %[[X]], %[[P]] {mode = #catfish<pad_mode reflect>} : (tensor<1x3x8x8xf32>, tensor<8xi64>) -> tensor<1x3x10x12xf32>
  %1 = catfish.pad %x, %pads {mode = #catfish<pad_mode reflect>} : (tensor<1x3x8x8xf32>, tensor<8xi64>) -> tensor<1x3x10x12xf32>
  // CHECK: return %[[C]], %[[R]]
  return %0, %1 : tensor<1x3x10x12xf32>, tensor<1x3x10x12xf32>
}

// -----

// CHECK-LABEL: func.func @fill
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>)
func.func @fill(%s: tensor<2xi64>) -> tensor<?x?xbf16> {
  // CHECK: %[[F:.*]] = catfish.fill %[[S]] {value = 1.000000e+00 : bf16} : (tensor<2xi64>) -> tensor<?x?xbf16>
  %0 = catfish.fill %s {value = 1.0 : bf16} : (tensor<2xi64>) -> tensor<?x?xbf16>
  // CHECK: return %[[F]]
  return %0 : tensor<?x?xbf16>
}

// -----

// CHECK-LABEL: func.func @range
// CHECK-SAME: (%[[N:.*]]: tensor<i64>)
func.func @range(%n: tensor<i64>) -> tensor<?xi64> {
  // CHECK: %[[Z:.*]] = catfish.constant dense<0> : tensor<i64>
  %zero = catfish.constant dense<0> : tensor<i64>
  // CHECK: %[[O:.*]] = catfish.constant dense<1> : tensor<i64>
  %one = catfish.constant dense<1> : tensor<i64>
  // CHECK: %[[R:.*]] = catfish.range %[[Z]], %[[N]], %[[O]] : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %0 = catfish.range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // CHECK: return %[[R]]
  return %0 : tensor<?xi64>
}

// -----

// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf32>)
func.func @reduce(%x: tensor<2x?x8xf32>) -> (tensor<2x?x1xf32>, tensor<f32>) {
  // CHECK: %[[M:.*]] = catfish.reduce %[[X]] {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<2x?x8xf32>) -> tensor<2x?x1xf32>
  %0 = catfish.reduce %x {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>} : (tensor<2x?x8xf32>) -> tensor<2x?x1xf32>
  // CHECK: %[[S:.*]] = catfish.reduce %[[X]] {axes = array<i64>, keepdims = false, kind = #catfish<reduce max>} : (tensor<2x?x8xf32>) -> tensor<f32>
  %1 = catfish.reduce %x {axes = array<i64>, keepdims = false, kind = #catfish<reduce max>} : (tensor<2x?x8xf32>) -> tensor<f32>
  // CHECK: return %[[M]], %[[S]]
  return %0, %1 : tensor<2x?x1xf32>, tensor<f32>
}

// -----

// CHECK-LABEL: func.func @argmax
// CHECK-SAME: (%[[X:.*]]: tensor<4x10xf16>)
func.func @argmax(%x: tensor<4x10xf16>) -> tensor<4xi64> {
  // CHECK: %[[A:.*]] = catfish.argmax %[[X]] {axis = 1 : i64, keepdims = false, select_last_index = true} : (tensor<4x10xf16>) -> tensor<4xi64>
  %0 = catfish.argmax %x {axis = 1 : i64, keepdims = false, select_last_index = true} : (tensor<4x10xf16>) -> tensor<4xi64>
  // CHECK: return %[[A]]
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @topk
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
func.func @topk(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  // CHECK: %[[V:.*]], %[[I:.*]] = catfish.topk %[[X]] {axis = -1 : i64, k = 2 : i64, largest = false} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  %v, %i = catfish.topk %x {axis = -1 : i64, k = 2 : i64, largest = false} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  // CHECK: return %[[V]], %[[I]]
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x1x4x8xbf16>, %[[B:.*]]: tensor<3x8x16xbf16>, %[[V:.*]]: tensor<8xbf16>, %[[QA:.*]]: tensor<2x8xi32>, %[[QB:.*]]: tensor<8x4xi32>)
func.func @matmul(%a: tensor<2x1x4x8xbf16>, %b: tensor<3x8x16xbf16>, %v: tensor<8xbf16>, %qa: tensor<2x8xi32>, %qb: tensor<8x4xi32>) -> (tensor<2x3x4x16xbf16>, tensor<2x1x4xbf16>, tensor<2x4xi32>) {
  // CHECK: %[[M:.*]] = catfish.matmul %[[A]], %[[B]] : (tensor<2x1x4x8xbf16>, tensor<3x8x16xbf16>) -> tensor<2x3x4x16xbf16>
  %0 = catfish.matmul %a, %b : (tensor<2x1x4x8xbf16>, tensor<3x8x16xbf16>) -> tensor<2x3x4x16xbf16>
  // CHECK: %[[MV:.*]] = catfish.matmul %[[A]], %[[V]] : (tensor<2x1x4x8xbf16>, tensor<8xbf16>) -> tensor<2x1x4xbf16>
  %1 = catfish.matmul %a, %v : (tensor<2x1x4x8xbf16>, tensor<8xbf16>) -> tensor<2x1x4xbf16>
  // CHECK: %[[MI:.*]] = catfish.matmul %[[QA]], %[[QB]] : (tensor<2x8xi32>, tensor<8x4xi32>) -> tensor<2x4xi32>
  %2 = catfish.matmul %qa, %qb : (tensor<2x8xi32>, tensor<8x4xi32>) -> tensor<2x4xi32>
  // CHECK: return %[[M]], %[[MV]], %[[MI]]
  return %0, %1, %2 : tensor<2x3x4x16xbf16>, tensor<2x1x4xbf16>, tensor<2x4xi32>
}

// -----

// CHECK-LABEL: func.func @einsum
// CHECK-SAME: (%[[A:.*]]: tensor<2x4x8xf32>, %[[B:.*]]: tensor<2x8x5xf32>)
func.func @einsum(%a: tensor<2x4x8xf32>, %b: tensor<2x8x5xf32>) -> tensor<2x4x5xf32> {
  // CHECK: %[[E:.*]] = catfish.einsum %[[A]], %[[B]] {equation = "bij,bjk->bik"} : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  %0 = catfish.einsum %a, %b {equation = "bij,bjk->bik"} : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  // CHECK: return %[[E]]
  return %0 : tensor<2x4x5xf32>
}

// -----

// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x16x16xf16>, %[[W:.*]]: tensor<16x4x3x3xf16>, %[[B:.*]]: tensor<16xf16>)
func.func @conv(%x: tensor<1x8x16x16xf16>, %w: tensor<16x4x3x3xf16>, %b: tensor<16xf16>) -> (tensor<1x16x8x8xf16>, tensor<1x16x14x14xf16>) {
  // CHECK: %[[C:.*]] = catfish.conv %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x16x16xf16>, tensor<16x4x3x3xf16>, tensor<16xf16>) -> tensor<1x16x8x8xf16>
  %0 = catfish.conv %x, %w, %b {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x16x16xf16>, tensor<16x4x3x3xf16>, tensor<16xf16>) -> tensor<1x16x8x8xf16>
  // CHECK: %[[NB:.*]] = catfish.conv %[[X]], %[[W]] {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x16x16xf16>, tensor<16x4x3x3xf16>) -> tensor<1x16x14x14xf16>
  %1 = catfish.conv %x, %w {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x16x16xf16>, tensor<16x4x3x3xf16>) -> tensor<1x16x14x14xf16>
  // CHECK: return %[[C]], %[[NB]]
  return %0, %1 : tensor<1x16x8x8xf16>, tensor<1x16x14x14xf16>
}

// -----

// CHECK-LABEL: func.func @max_pool
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x7x7xf32>)
func.func @max_pool(%x: tensor<1x8x7x7xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: %[[P:.*]] = catfish.max_pool %[[X]] {ceil_mode = true, dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x7x7xf32>) -> tensor<1x8x4x4xf32>
  %0 = catfish.max_pool %x {ceil_mode = true, dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x7x7xf32>) -> tensor<1x8x4x4xf32>
  // CHECK: return %[[P]]
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf16>)
func.func @softmax(%x: tensor<2x?x8xf16>) -> tensor<2x?x8xf16> {
  // CHECK: %[[S:.*]] = catfish.softmax %[[X]] {axis = -1 : i64} : (tensor<2x?x8xf16>) -> tensor<2x?x8xf16>
  %0 = catfish.softmax %x {axis = -1 : i64} : (tensor<2x?x8xf16>) -> tensor<2x?x8xf16>
  // CHECK: return %[[S]]
  return %0 : tensor<2x?x8xf16>
}

// -----

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x32xf32>, %[[G:.*]]: tensor<32xf32>, %[[B:.*]]: tensor<32xf32>)
func.func @layer_norm(%x: tensor<1x8x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>) -> (tensor<1x8x32xf32>, tensor<1x8x32xf32>) {
  // CHECK: %[[N:.*]] = catfish.layer_norm %[[X]], %[[G]], %[[B]] {axis = -1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  %0 = catfish.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32} : (tensor<1x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  // CHECK: %[[NB:.*]] = catfish.layer_norm %[[X]], %[[G]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8x32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  %1 = catfish.layer_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<1x8x32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  // CHECK: return %[[N]], %[[NB]]
  return %0, %1 : tensor<1x8x32xf32>, tensor<1x8x32xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x64xbf16>, %[[G:.*]]: tensor<64xbf16>)
func.func @rms_norm(%x: tensor<1x4x64xbf16>, %g: tensor<64xbf16>) -> tensor<1x4x64xbf16> {
  // CHECK: %[[N:.*]] = catfish.rms_norm %[[X]], %[[G]] {axis = -1 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<1x4x64xbf16>, tensor<64xbf16>) -> tensor<1x4x64xbf16>
  %0 = catfish.rms_norm %x, %g {axis = -1 : i64, epsilon = 1.0e-6 : f32} : (tensor<1x4x64xbf16>, tensor<64xbf16>) -> tensor<1x4x64xbf16>
  // CHECK: return %[[N]]
  return %0 : tensor<1x4x64xbf16>
}

// -----

// Grouped-query attention: 8 query heads share 2 key/value heads.
// CHECK-LABEL: func.func @attention_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x16x64xf16>, %[[K:.*]]: tensor<1x2x32x64xf16>, %[[V:.*]]: tensor<1x2x32x64xf16>, %[[M:.*]]: tensor<1x1x16x32xi1>)
func.func @attention_gqa(%q: tensor<1x8x16x64xf16>, %k: tensor<1x2x32x64xf16>, %v: tensor<1x2x32x64xf16>, %m: tensor<1x1x16x32xi1>) -> (tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>) {
  // CHECK: %[[A:.*]] = catfish.attention %[[Q]], %[[K]], %[[V]] {is_causal = true, scale = 1.250000e-01 : f32} : (tensor<1x8x16x64xf16>, tensor<1x2x32x64xf16>, tensor<1x2x32x64xf16>) -> tensor<1x8x16x64xf16>
  %0 = catfish.attention %q, %k, %v {is_causal = true, scale = 0.125 : f32} : (tensor<1x8x16x64xf16>, tensor<1x2x32x64xf16>, tensor<1x2x32x64xf16>) -> tensor<1x8x16x64xf16>
  // CHECK: %[[AM:.*]] = catfish.attention %[[Q]], %[[K]], %[[V]], %[[M]] {is_causal = false, scale = 1.250000e-01 : f32, softcap = 5.000000e+01 : f32} : (tensor<1x8x16x64xf16>, tensor<1x2x32x64xf16>, tensor<1x2x32x64xf16>, tensor<1x1x16x32xi1>) -> tensor<1x8x16x64xf16>
  %1 = catfish.attention %q, %k, %v, %m {is_causal = false, scale = 0.125 : f32, softcap = 50.0 : f32} : (tensor<1x8x16x64xf16>, tensor<1x2x32x64xf16>, tensor<1x2x32x64xf16>, tensor<1x1x16x32xi1>) -> tensor<1x8x16x64xf16>
  // CHECK: return %[[A]], %[[AM]]
  return %0, %1 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
}

// -----

// CHECK-LABEL: func.func @rotary_embedding
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8x64xf32>, %[[C:.*]]: tensor<8x32xf32>, %[[S:.*]]: tensor<8x32xf32>, %[[P:.*]]: tensor<1x8xi64>)
func.func @rotary_embedding(%x: tensor<1x4x8x64xf32>, %cos: tensor<8x32xf32>, %sin: tensor<8x32xf32>, %pos: tensor<1x8xi64>) -> tensor<1x4x8x64xf32> {
  // CHECK: %[[R:.*]] = catfish.rotary_embedding %[[X]], %[[C]], %[[S]], %[[P]] {interleaved = false, num_heads = 0 : i64, rotary_dim = 0 : i64} : (tensor<1x4x8x64xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<1x8xi64>) -> tensor<1x4x8x64xf32>
  %0 = catfish.rotary_embedding %x, %cos, %sin, %pos {interleaved = false, num_heads = 0 : i64, rotary_dim = 0 : i64} : (tensor<1x4x8x64xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<1x8xi64>) -> tensor<1x4x8x64xf32>
  // CHECK: return %[[R]]
  return %0 : tensor<1x4x8x64xf32>
}

// -----

// CHECK-LABEL: func.func @quant_per_tensor
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[S:.*]]: tensor<f32>, %[[Z:.*]]: tensor<ui8>)
func.func @quant_per_tensor(%x: tensor<2x8xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<2x8xf32> {
  // CHECK: %[[Q:.*]] = catfish.quantize %[[X]], %[[S]], %[[Z]] : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  %0 = catfish.quantize %x, %s, %z : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  // CHECK: %[[D:.*]] = catfish.dequantize %[[Q]], %[[S]], %[[Z]] : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  %1 = catfish.dequantize %0, %s, %z : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  // CHECK: return %[[D]]
  return %1 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @quant_per_axis
// CHECK-SAME: (%[[W:.*]]: tensor<4x8xf32>, %[[S:.*]]: tensor<4xf32>, %[[Z:.*]]: tensor<4xi8>)
func.func @quant_per_axis(%w: tensor<4x8xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<4x8xf16> {
  // CHECK: %[[Q:.*]] = catfish.quantize %[[W]], %[[S]], %[[Z]] {axis = 0 : i64, saturate = false} : (tensor<4x8xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xi8>
  %0 = catfish.quantize %w, %s, %z {axis = 0 : i64, saturate = false} : (tensor<4x8xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xi8>
  // CHECK: %[[D:.*]] = catfish.dequantize %[[Q]], %[[S]], %[[Z]] {axis = 0 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf16>
  %1 = catfish.dequantize %0, %s, %z {axis = 0 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf16>
  // CHECK: return %[[D]]
  return %1 : tensor<4x8xf16>
}

// -----

// DeepSeek-style FP8: 128x128 weight blocks, 1x128 activation blocks.
// CHECK-LABEL: func.func @quant_block_fp8
// CHECK-SAME: (%[[W:.*]]: tensor<256x512xbf16>, %[[WS:.*]]: tensor<256x4xf32>, %[[A:.*]]: tensor<4x300xbf16>, %[[AS:.*]]: tensor<4x3xf32>)
func.func @quant_block_fp8(%w: tensor<256x512xbf16>, %ws: tensor<256x4xf32>, %a: tensor<4x300xbf16>, %as: tensor<4x3xf32>) -> (tensor<256x512xbf16>, tensor<4x300xf8E4M3FN>) {
  // CHECK: %[[Q:.*]] = catfish.quantize %[[W]], %[[WS]] {block_size = 128 : i64} : (tensor<256x512xbf16>, tensor<256x4xf32>) -> tensor<256x512xf8E4M3FN>
  %0 = catfish.quantize %w, %ws {axis = 1 : i64, block_size = 128 : i64} : (tensor<256x512xbf16>, tensor<256x4xf32>) -> tensor<256x512xf8E4M3FN>
  // CHECK: %[[D:.*]] = catfish.dequantize %[[Q]], %[[WS]] {axis = -1 : i64, block_size = 128 : i64} : (tensor<256x512xf8E4M3FN>, tensor<256x4xf32>) -> tensor<256x512xbf16>
  %1 = catfish.dequantize %0, %ws {axis = -1 : i64, block_size = 128 : i64} : (tensor<256x512xf8E4M3FN>, tensor<256x4xf32>) -> tensor<256x512xbf16>
  // A ragged last block: ceil(300 / 128) = 3 scales.
  // CHECK: %[[QA:.*]] = catfish.quantize %[[A]], %[[AS]] {block_size = 128 : i64} : (tensor<4x300xbf16>, tensor<4x3xf32>) -> tensor<4x300xf8E4M3FN>
  %2 = catfish.quantize %a, %as {axis = 1 : i64, block_size = 128 : i64} : (tensor<4x300xbf16>, tensor<4x3xf32>) -> tensor<4x300xf8E4M3FN>
  // CHECK: return %[[D]], %[[QA]]
  return %1, %2 : tensor<256x512xbf16>, tensor<4x300xf8E4M3FN>
}

// -----

// CHECK-LABEL: func.func @fusion
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
func.func @fusion(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[F:.*]] = catfish.fusion generated(%[[A]], %[[B]]) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>):
  // CHECK-NEXT: %[[S:.*]] = catfish.add %[[X]], %[[Y]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK-NEXT: %[[R:.*]] = catfish.relu %[[S]] : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK-NEXT: catfish.yield %[[R]] : tensor<4xf32>
  // CHECK-NEXT: }
  %0 = catfish.fusion generated(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    %s = catfish.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %r = catfish.relu %s : (tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %r : tensor<4xf32>
  }
  // CHECK: return %[[F]]
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @fusion_gemm_multi_result
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf16>, %[[B:.*]]: tensor<8x2xf16>)
func.func @fusion_gemm_multi_result(%a: tensor<4x8xf16>, %b: tensor<8x2xf16>) -> (tensor<4x2xf16>, tensor<4x2xf16>) {
  // CHECK: %[[F:.*]]:2 = catfish.fusion gemm(%[[A]], %[[B]]) : (tensor<4x8xf16>, tensor<8x2xf16>) -> (tensor<4x2xf16>, tensor<4x2xf16>) {
  // CHECK: catfish.matmul
  // CHECK: catfish.yield %{{.*}}, %{{.*}} : tensor<4x2xf16>, tensor<4x2xf16>
  %0:2 = catfish.fusion gemm(%a, %b) : (tensor<4x8xf16>, tensor<8x2xf16>) -> (tensor<4x2xf16>, tensor<4x2xf16>) {
  ^bb0(%x: tensor<4x8xf16>, %y: tensor<8x2xf16>):
    %m = catfish.matmul %x, %y : (tensor<4x8xf16>, tensor<8x2xf16>) -> tensor<4x2xf16>
    %r = catfish.relu %m : (tensor<4x2xf16>) -> tensor<4x2xf16>
    catfish.yield %m, %r : tensor<4x2xf16>, tensor<4x2xf16>
  }
  // CHECK: return %[[F]]#0, %[[F]]#1
  return %0#0, %0#1 : tensor<4x2xf16>, tensor<4x2xf16>
}

// -----

// CHECK-LABEL: func.func @if
// CHECK-SAME: (%[[C:.*]]: tensor<i1>, %[[X:.*]]: tensor<4xf32>)
func.func @if(%c: tensor<i1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[R:.*]] = catfish.if %[[C]] : tensor<i1> -> tensor<4xf32> {
  // CHECK-NEXT: %[[T:.*]] = catfish.relu %[[X]]
  // CHECK-NEXT: catfish.yield %[[T]] : tensor<4xf32>
  // CHECK-NEXT: } else {
  // CHECK-NEXT: %[[E:.*]] = catfish.neg %[[X]]
  // CHECK-NEXT: catfish.yield %[[E]] : tensor<4xf32>
  // CHECK-NEXT: }
  %0 = catfish.if %c : tensor<i1> -> tensor<4xf32> {
    %t = catfish.relu %x : (tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %t : tensor<4xf32>
  } else {
    %e = catfish.neg %x : (tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %e : tensor<4xf32>
  }
  // CHECK: return %[[R]]
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @loop
// CHECK-SAME: (%[[N:.*]]: tensor<i64>, %[[C:.*]]: tensor<i1>, %[[X:.*]]: tensor<4xf32>)
func.func @loop(%n: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  // CHECK: %[[L:.*]]:2 = catfish.loop(%[[N]] : tensor<i64>) while(%[[C]] : tensor<i1>) iter_args(%[[X]] : tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  // CHECK-NEXT: ^bb0(%[[I:.*]]: tensor<i64>, %[[COND:.*]]: tensor<i1>, %[[ACC:.*]]: tensor<4xf32>):
  // CHECK-NEXT: %[[NEXT:.*]] = catfish.add %[[ACC]], %[[X]]
  // CHECK-NEXT: catfish.yield %[[COND]], %[[NEXT]], %[[ACC]] : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  %0:2 = catfish.loop(%n : tensor<i64>) while(%c : tensor<i1>) iter_args(%x : tensor<4xf32>) -> (tensor<4xf32>, tensor<?x4xf32>) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %acc: tensor<4xf32>):
    %next = catfish.add %acc, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %cond, %next, %acc : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  // CHECK: return %[[L]]#0, %[[L]]#1
  return %0#0, %0#1 : tensor<4xf32>, tensor<?x4xf32>
}

// -----

// A loop with only a trip count and no carried values.
// CHECK-LABEL: func.func @loop_trip_count_only
func.func @loop_trip_count_only(%n: tensor<i64>) -> tensor<?xi64> {
  // CHECK: catfish.loop(%{{.*}} : tensor<i64>) -> (tensor<?xi64>) {
  // CHECK-NEXT: ^bb0(%[[I:.*]]: tensor<i64>, %[[COND:.*]]: tensor<i1>):
  // CHECK-NEXT: catfish.yield %[[COND]], %[[I]] : tensor<i1>, tensor<i64>
  %0 = catfish.loop(%n : tensor<i64>) -> (tensor<?xi64>) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>):
    catfish.yield %cond, %i : tensor<i1>, tensor<i64>
  }
  return %0 : tensor<?xi64>
}

// A condition whose length is known only at run time, and a range of dynamic scalars, verify
// (the single element is checked when it is known).
// CHECK-LABEL: func.func @dynamic_scalars
// CHECK: catfish.if %{{.*}} : tensor<?xi1> -> tensor<4xf32>
// CHECK: catfish.range %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
func.func @dynamic_scalars(%c: tensor<?xi1>, %x: tensor<4xf32>, %s: tensor<?xi64>) -> (tensor<4xf32>, tensor<?xi64>) {
  %0 = catfish.if %c : tensor<?xi1> -> tensor<4xf32> {
    catfish.yield %x : tensor<4xf32>
  } else {
    catfish.yield %x : tensor<4xf32>
  }
  %1 = catfish.range %s, %s, %s : (tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  return %0, %1 : tensor<4xf32>, tensor<?xi64>
}
