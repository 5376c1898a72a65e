// RUN: catfish-opt %s -canonicalize -split-input-file | FileCheck %s

// Folders: data movement that changes nothing disappears, and shape arithmetic on small
// constants becomes a constant.

// CHECK-LABEL: func.func @identity_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @identity_transpose(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NOT: catfish.transpose
  // CHECK: return %[[X]]
  %0 = catfish.transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @identity_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @identity_reshape(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NOT: catfish.reshape
  // CHECK: return %[[X]]
  %s = catfish.constant dense<[2, -1]> : tensor<2xi64>
  %0 = catfish.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @identity_cast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xbf16>)
func.func @identity_cast(%x: tensor<2x3xbf16>) -> tensor<2x3xbf16> {
  // CHECK-NOT: catfish.cast
  // CHECK: return %[[X]]
  %0 = catfish.cast %x : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  return %0 : tensor<2x3xbf16>
}

// -----

// CHECK-LABEL: func.func @identity_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @identity_broadcast(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NOT: catfish.broadcast
  // CHECK: return %[[X]]
  %s = catfish.constant dense<[1, 3]> : tensor<2xi64>
  %0 = catfish.broadcast %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @identity_slice
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @identity_slice(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NOT: catfish.slice
  // CHECK: return %[[X]]
  %starts = catfish.constant dense<[0, 0]> : tensor<2xi64>
  %ends = catfish.constant dense<[9223372036854775807, 3]> : tensor<2xi64>
  %0 = catfish.slice %x, %starts, %ends {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<2x3xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A full-length slice with step -1 reverses: it must stay.
// CHECK-LABEL: func.func @reversing_slice_stays
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
func.func @reversing_slice_stays(%x: tensor<4xf32>) -> tensor<4xf32> {
  %starts = catfish.constant dense<-1> : tensor<1xi64>
  %ends = catfish.constant dense<-9223372036854775808> : tensor<1xi64>
  %axes = catfish.constant dense<0> : tensor<1xi64>
  %steps = catfish.constant dense<-1> : tensor<1xi64>
  // CHECK: %[[R:.*]] = catfish.slice %[[X]]
  // CHECK: return %[[R]]
  %0 = catfish.slice %x, %starts, %ends, %axes, %steps {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_over_unit_dim
// CHECK-SAME: (%[[X:.*]]: tensor<4x1x8xf32>)
func.func @reduce_over_unit_dim(%x: tensor<4x1x8xf32>) -> (tensor<4x1x8xf32>, tensor<4x1x1xf32>) {
  // CHECK: %[[R:.*]] = catfish.reduce %[[X]] {axes = array<i64: 2>
  // CHECK-NOT: catfish.reduce
  // CHECK: return %[[X]], %[[R]]
  %0 = catfish.reduce %x {axes = array<i64: -2>, keepdims = true, kind = #catfish<reduce max>} : (tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %1 = catfish.reduce %x {axes = array<i64: 2>, keepdims = true, kind = #catfish<reduce sum>} : (tensor<4x1x8xf32>) -> tensor<4x1x1xf32>
  return %0, %1 : tensor<4x1x8xf32>, tensor<4x1x1xf32>
}

// -----

// CHECK-LABEL: func.func @shape_of_static
func.func @shape_of_static(%y: tensor<5x6x7xf32>) -> (tensor<3xi64>, tensor<2xi64>, tensor<i64>) {
  // CHECK-DAG: %[[ALL:.*]] = catfish.constant dense<[5, 6, 7]> : tensor<3xi64>
  // CHECK-DAG: %[[TAIL:.*]] = catfish.constant dense<[6, 7]> : tensor<2xi64>
  // CHECK-DAG: %[[SIZE:.*]] = catfish.constant dense<210> : tensor<i64>
  // CHECK-NOT: catfish.shape
  // CHECK-NOT: catfish.size
  // CHECK: return %[[ALL]], %[[TAIL]], %[[SIZE]]
  %0 = catfish.shape %y : (tensor<5x6x7xf32>) -> tensor<3xi64>
  %1 = catfish.shape %y {start = -2 : i64} : (tensor<5x6x7xf32>) -> tensor<2xi64>
  %2 = catfish.size %y : (tensor<5x6x7xf32>) -> tensor<i64>
  return %0, %1, %2 : tensor<3xi64>, tensor<2xi64>, tensor<i64>
}

// -----

// Only the static part of a dynamic shape folds.
// CHECK-LABEL: func.func @shape_of_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x4xf32>)
func.func @shape_of_dynamic(%x: tensor<2x?x4xf32>) -> (tensor<3xi64>, tensor<1xi64>, tensor<i64>) {
  // CHECK-DAG: %[[LAST:.*]] = catfish.constant dense<4> : tensor<1xi64>
  // CHECK-DAG: %[[S:.*]] = catfish.shape %[[X]] : (tensor<2x?x4xf32>) -> tensor<3xi64>
  // CHECK-DAG: %[[N:.*]] = catfish.size %[[X]] : (tensor<2x?x4xf32>) -> tensor<i64>
  // CHECK: return %[[S]], %[[LAST]], %[[N]]
  %0 = catfish.shape %x : (tensor<2x?x4xf32>) -> tensor<3xi64>
  %1 = catfish.shape %x {start = 2 : i64} : (tensor<2x?x4xf32>) -> tensor<1xi64>
  %2 = catfish.size %x : (tensor<2x?x4xf32>) -> tensor<i64>
  return %0, %1, %2 : tensor<3xi64>, tensor<1xi64>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @int_arith_broadcast
func.func @int_arith_broadcast() -> (tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>) {
  // CHECK-DAG: %[[ADD:.*]] = catfish.constant dense<{{\[\[}}11, 21, 31], [12, 22, 32]]> : tensor<2x3xi64>
  // CHECK-DAG: %[[MUL:.*]] = catfish.constant dense<[20, 40, 60]> : tensor<3xi64>
  // CHECK-DAG: %[[SUB:.*]] = catfish.constant dense<[-3, -27, -21]> : tensor<3xi64>
  // Integer division truncates toward zero.
  // CHECK-DAG: %[[DIV:.*]] = catfish.constant dense<[3, -3, 4]> : tensor<3xi64>
  // CHECK-NOT: catfish.add
  // CHECK-NOT: catfish.mul
  // CHECK-NOT: catfish.sub
  // CHECK-NOT: catfish.div
  // CHECK: return %[[ADD]], %[[MUL]], %[[SUB]], %[[DIV]]
  %a = catfish.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %b = catfish.constant dense<[10, 20, 30]> : tensor<3xi64>
  %c = catfish.constant dense<[7, -7, 9]> : tensor<3xi64>
  %d = catfish.constant dense<2> : tensor<i64>
  %0 = catfish.add %a, %b : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  %1 = catfish.mul %b, %d : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  %2 = catfish.sub %c, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %3 = catfish.div %c, %d : (tensor<3xi64>, tensor<i64>) -> tensor<3xi64>
  return %0, %1, %2, %3 : tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>
}

// -----

// Division by a zero constant is left for the runtime.
// CHECK-LABEL: func.func @int_div_by_zero_stays
func.func @int_div_by_zero_stays() -> tensor<2xi64> {
  // CHECK: %[[D:.*]] = catfish.div
  // CHECK: return %[[D]]
  %a = catfish.constant dense<[4, 6]> : tensor<2xi64>
  %b = catfish.constant dense<[2, 0]> : tensor<2xi64>
  %0 = catfish.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @int_compare_min_max
func.func @int_compare_min_max() -> (tensor<3xi1>, tensor<3xi64>, tensor<3xui8>) {
  // CHECK-DAG: %[[EQ:.*]] = catfish.constant dense<[false, false, true]> : tensor<3xi1>
  // CHECK-DAG: %[[MIN:.*]] = catfish.constant dense<[1, -6, 3]> : tensor<3xi64>
  // Unsigned max: 200 > 100.
  // CHECK-DAG: %[[MAX:.*]] = catfish.constant dense<[2, 200, 3]> : tensor<3xui8>
  // CHECK: return %[[EQ]], %[[MIN]], %[[MAX]]
  %a = catfish.constant dense<[1, -5, 3]> : tensor<3xi64>
  %b = catfish.constant dense<[2, -6, 3]> : tensor<3xi64>
  %0 = catfish.equal %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi1>
  %1 = catfish.min %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %ua = catfish.constant dense<[1, 200, 3]> : tensor<3xui8>
  %ub = catfish.constant dense<[2, 100, 3]> : tensor<3xui8>
  %2 = catfish.max %ua, %ub : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  return %0, %1, %2 : tensor<3xi1>, tensor<3xi64>, tensor<3xui8>
}

// -----

// CHECK-LABEL: func.func @int_cast_constant
func.func @int_cast_constant() -> (tensor<3xi32>, tensor<3xi64>, tensor<3xi1>) {
  // CHECK-DAG: %[[NARROW:.*]] = catfish.constant dense<[-1, 300, 7]> : tensor<3xi32>
  // Unsigned sources zero-extend.
  // CHECK-DAG: %[[WIDE:.*]] = catfish.constant dense<[255, 0, 128]> : tensor<3xi64>
  // CHECK-DAG: %[[BOOL:.*]] = catfish.constant dense<[true, false, true]> : tensor<3xi1>
  // CHECK-NOT: catfish.cast
  // CHECK: return %[[NARROW]], %[[WIDE]], %[[BOOL]]
  %a = catfish.constant dense<[-1, 300, 7]> : tensor<3xi64>
  %0 = catfish.cast %a : (tensor<3xi64>) -> tensor<3xi32>
  %u = catfish.constant dense<[255, 0, 128]> : tensor<3xui8>
  %1 = catfish.cast %u : (tensor<3xui8>) -> tensor<3xi64>
  %2 = catfish.cast %u : (tensor<3xui8>) -> tensor<3xi1>
  return %0, %1, %2 : tensor<3xi32>, tensor<3xi64>, tensor<3xi1>
}

// -----

// CHECK-LABEL: func.func @gather_constant
func.func @gather_constant() -> (tensor<2xi64>, tensor<i64>, tensor<2x2xi64>) {
  // Negative indices wrap.
  // CHECK-DAG: %[[PICK:.*]] = catfish.constant dense<[64, 8]> : tensor<2xi64>
  // CHECK-DAG: %[[LAST:.*]] = catfish.constant dense<64> : tensor<i64>
  // CHECK-DAG: %[[COLS:.*]] = catfish.constant dense<{{\[\[}}3, 1], [6, 4]]> : tensor<2x2xi64>
  // CHECK-NOT: catfish.gather
  // CHECK: return %[[PICK]], %[[LAST]], %[[COLS]]
  %s = catfish.constant dense<[8, 16, 32, 64]> : tensor<4xi64>
  %i = catfish.constant dense<[3, -4]> : tensor<2xi64>
  %0 = catfish.gather %s, %i {axis = 0 : i64} : (tensor<4xi64>, tensor<2xi64>) -> tensor<2xi64>
  %j = catfish.constant dense<-1> : tensor<i64>
  %1 = catfish.gather %s, %j {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %m = catfish.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %k = catfish.constant dense<[2, 0]> : tensor<2xi32>
  %2 = catfish.gather %m, %k {axis = 1 : i64} : (tensor<2x3xi64>, tensor<2xi32>) -> tensor<2x2xi64>
  return %0, %1, %2 : tensor<2xi64>, tensor<i64>, tensor<2x2xi64>
}

// -----

// An out-of-range constant index is left for the runtime to report.
// CHECK-LABEL: func.func @gather_out_of_range_stays
func.func @gather_out_of_range_stays() -> tensor<1xi64> {
  // CHECK: %[[G:.*]] = catfish.gather
  // CHECK: return %[[G]]
  %s = catfish.constant dense<[8, 16]> : tensor<2xi64>
  %i = catfish.constant dense<[2]> : tensor<1xi64>
  %0 = catfish.gather %s, %i {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @concat_constants
func.func @concat_constants() -> tensor<4xi64> {
  // CHECK: %[[C:.*]] = catfish.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  // CHECK-NOT: catfish.concat
  // CHECK: return %[[C]]
  %a = catfish.constant dense<[1]> : tensor<1xi64>
  %b = catfish.constant dense<[2, 3, 4]> : tensor<3xi64>
  %0 = catfish.concat %a, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @concat_with_dynamic_stays
// CHECK-SAME: (%[[D:.*]]: tensor<1xi64>)
func.func @concat_with_dynamic_stays(%d: tensor<1xi64>) -> tensor<3xi64> {
  // CHECK: %[[C:.*]] = catfish.concat %[[D]], %{{.*}} {axis = 0 : i64}
  // CHECK: return %[[C]]
  %b = catfish.constant dense<[4, 32]> : tensor<2xi64>
  %0 = catfish.concat %d, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @fill_to_splat
func.func @fill_to_splat() -> tensor<2x3xf16> {
  // CHECK: %[[C:.*]] = catfish.constant dense<1.500000e+00> : tensor<2x3xf16>
  // CHECK-NOT: catfish.fill
  // CHECK: return %[[C]]
  %s = catfish.constant dense<[2, 3]> : tensor<2xi64>
  %0 = catfish.fill %s {value = 1.5 : f16} : (tensor<2xi64>) -> tensor<2x3xf16>
  return %0 : tensor<2x3xf16>
}

// -----

// CHECK-LABEL: func.func @fill_dynamic_stays
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>)
func.func @fill_dynamic_stays(%s: tensor<2xi64>) -> tensor<?x?xi1> {
  // CHECK: %[[F:.*]] = catfish.fill %[[S]] {value = true} : (tensor<2xi64>) -> tensor<?x?xi1>
  // CHECK: return %[[F]]
  %0 = catfish.fill %s {value = true} : (tensor<2xi64>) -> tensor<?x?xi1>
  return %0 : tensor<?x?xi1>
}

// -----

// CHECK-LABEL: func.func @range_constant
func.func @range_constant() -> (tensor<4xi64>, tensor<3xi32>) {
  // CHECK-DAG: %[[DOWN:.*]] = catfish.constant dense<[3, 1, -1, -3]> : tensor<4xi64>
  // CHECK-DAG: %[[UP:.*]] = catfish.constant dense<[0, 1, 2]> : tensor<3xi32>
  // CHECK-NOT: catfish.range
  // CHECK: return %[[DOWN]], %[[UP]]
  %a = catfish.constant dense<3> : tensor<i64>
  %b = catfish.constant dense<-5> : tensor<i64>
  %c = catfish.constant dense<-2> : tensor<i64>
  %0 = catfish.range %a, %b, %c : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %z = catfish.constant dense<0> : tensor<i32>
  %n = catfish.constant dense<3> : tensor<i32>
  %o = catfish.constant dense<1> : tensor<i32>
  %1 = catfish.range %z, %n, %o : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<3xi32>
  return %0, %1 : tensor<4xi64>, tensor<3xi32>
}

// -----

// CHECK-LABEL: func.func @constant_data_movement
func.func @constant_data_movement() -> (tensor<3x2xi64>, tensor<6xi64>, tensor<2x2x3xi64>, tensor<2xi64>) {
  // CHECK-DAG: %[[T:.*]] = catfish.constant dense<{{\[\[}}1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
  // CHECK-DAG: %[[R:.*]] = catfish.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  // CHECK-DAG: %[[B:.*]] = catfish.constant dense<{{\[\[\[}}1, 2, 3], [4, 5, 6]], {{\[\[}}1, 2, 3], [4, 5, 6]]]> : tensor<2x2x3xi64>
  // CHECK-DAG: %[[S:.*]] = catfish.constant dense<[6, 2]> : tensor<2xi64>
  // CHECK-NOT: catfish.transpose
  // CHECK-NOT: catfish.reshape
  // CHECK-NOT: catfish.broadcast
  // CHECK-NOT: catfish.slice
  // CHECK: return %[[T]], %[[R]], %[[B]], %[[S]]
  %m = catfish.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %0 = catfish.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  %s = catfish.constant dense<[6]> : tensor<1xi64>
  %1 = catfish.reshape %m, %s : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<6xi64>
  %bs = catfish.constant dense<[2, 1, 1]> : tensor<3xi64>
  %2 = catfish.broadcast %m, %bs : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x2x3xi64>
  // flat[-1::-4]
  %flat = catfish.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %st = catfish.constant dense<[-1]> : tensor<1xi64>
  %en = catfish.constant dense<[-9223372036854775808]> : tensor<1xi64>
  %ax = catfish.constant dense<[0]> : tensor<1xi64>
  %sp = catfish.constant dense<[-4]> : tensor<1xi64>
  %3 = catfish.slice %flat, %st, %en, %ax, %sp {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<6xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %0, %1, %2, %3 : tensor<3x2xi64>, tensor<6xi64>, tensor<2x2x3xi64>, tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
func.func @reshape_of_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  // CHECK: %[[S:.*]] = catfish.constant dense<[4, -1]> : tensor<2xi64>
  // CHECK-NEXT: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  // CHECK-NEXT: return %[[R]]
  %s1 = catfish.constant dense<[6, 4]> : tensor<2xi64>
  %r1 = catfish.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %s2 = catfish.constant dense<[4, -1]> : tensor<2xi64>
  %r2 = catfish.reshape %r1, %s2 : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %r2 : tensor<4x6xf32>
}

// -----

// A 0 entry copies a dim of its own input, so the inner reshape must stay.
// CHECK-LABEL: func.func @reshape_of_reshape_copying_dims
func.func @reshape_of_reshape_copying_dims(%x: tensor<3x2x8xf32>) -> tensor<3x4x4xf32> {
  // CHECK: %[[R1:.*]] = catfish.reshape %{{.*}} -> tensor<3x4x2x2xf32>
  // CHECK: catfish.reshape %[[R1]], %{{.*}} : (tensor<3x4x2x2xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
  %s1 = catfish.constant dense<[3, 4, 2, 2]> : tensor<4xi64>
  %r1 = catfish.reshape %x, %s1 : (tensor<3x2x8xf32>, tensor<4xi64>) -> tensor<3x4x2x2xf32>
  %s2 = catfish.constant dense<[0, 0, -1]> : tensor<3xi64>
  %r2 = catfish.reshape %r1, %s2 : (tensor<3x4x2x2xf32>, tensor<3xi64>) -> tensor<3x4x4xf32>
  return %r2 : tensor<3x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @select_constant_condition
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
func.func @select_constant_condition(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK-NOT: catfish.select
  // CHECK: return %[[X]], %[[Y]]
  %t = catfish.constant dense<true> : tensor<i1>
  %0 = catfish.select %t, %x, %y : (tensor<i1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %f = catfish.constant dense<false> : tensor<4xi1>
  %1 = catfish.select %f, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// x * 1, x + 0, 0 + x, x - 0, x / 1 are x.
// CHECK-LABEL: func.func @arith_identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<2x3xi32>)
func.func @arith_identities(%x: tensor<2x3xf32>, %y: tensor<2x3xi32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xf32>) {
  // CHECK-NOT: catfish.mul
  // CHECK-NOT: catfish.add
  // CHECK-NOT: catfish.sub
  // CHECK-NOT: catfish.div
  // CHECK: return %[[X]], %[[X]], %[[Y]], %[[Y]], %[[X]]
  %one = catfish.constant dense<1.0> : tensor<2x3xf32>
  %zero = catfish.constant dense<0.0> : tensor<f32>
  %izero = catfish.constant dense<0> : tensor<2x3xi32>
  %ione = catfish.constant dense<1> : tensor<i32>
  %0 = catfish.mul %x, %one : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = catfish.add %x, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %2 = catfish.add %izero, %y : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %3 = catfish.div %y, %ione : (tensor<2x3xi32>, tensor<i32>) -> tensor<2x3xi32>
  %4 = catfish.sub %x, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xf32>
}

// -----

// An identity operand that broadcasts the result to a bigger shape is not a no-op.
// CHECK-LABEL: func.func @identity_that_broadcasts_stays
// CHECK-SAME: (%[[Z:.*]]: tensor<3xf32>)
func.func @identity_that_broadcasts_stays(%z: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[A:.*]] = catfish.add %[[Z]], %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[A]]
  %zero = catfish.constant dense<0.0> : tensor<2x3xf32>
  %0 = catfish.add %z, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Multiplying by 2.0 (not an identity) and a real reshape stay.
// CHECK-LABEL: func.func @no_fold
// CHECK-SAME: (%[[Y:.*]]: tensor<2x3xf32>)
func.func @no_fold(%y: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x3xf32>, tensor<3x2xf32>) {
  // CHECK-DAG: %[[R:.*]] = catfish.reshape %[[Y]], %{{.*}} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  // CHECK-DAG: %[[M:.*]] = catfish.mul %[[Y]], %{{.*}} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  // CHECK-DAG: %[[T:.*]] = catfish.transpose %[[Y]] {perm = array<i64: 1, 0>}
  // CHECK: return %[[R]], %[[M]], %[[T]]
  %s = catfish.constant dense<[3, 2]> : tensor<2xi64>
  %0 = catfish.reshape %y, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  %two = catfish.constant dense<2.0> : tensor<f32>
  %1 = catfish.mul %y, %two : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %2 = catfish.transpose %y {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0, %1, %2 : tensor<3x2xf32>, tensor<2x3xf32>, tensor<3x2xf32>
}

// -----

// Dynamic shapes: nothing to fold.
// CHECK-LABEL: func.func @dynamic_no_fold
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>, %[[S:.*]]: tensor<2xi64>)
func.func @dynamic_no_fold(%x: tensor<?x3xf32>, %s: tensor<2xi64>) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<3x?xf32>) {
  // CHECK-DAG: %[[R:.*]] = catfish.reshape %[[X]], %[[S]] : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK-DAG: %[[B:.*]] = catfish.broadcast %[[X]], %[[S]] : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK-DAG: %[[T:.*]] = catfish.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<?x3xf32>) -> tensor<3x?xf32>
  // CHECK: return %[[R]], %[[B]], %[[T]]
  %0 = catfish.reshape %x, %s : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %1 = catfish.broadcast %x, %s : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %2 = catfish.transpose %x {perm = array<i64: 1, 0>} : (tensor<?x3xf32>) -> tensor<3x?xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<3x?xf32>
}

// -----

// Negated integer constants fold (ONNX shape subgraphs negate axis counts); floats stay.
// CHECK-LABEL: func.func @neg
// CHECK-DAG: %[[I:.*]] = catfish.constant dense<[-1, 2]> : tensor<2xi64>
// CHECK-DAG: %[[F:.*]] = catfish.neg %{{.*}} : (tensor<2xf32>)
// CHECK: return %[[I]], %[[F]]
func.func @neg() -> (tensor<2xi64>, tensor<2xf32>) {
  %i = catfish.constant dense<[1, -2]> : tensor<2xi64>
  %f = catfish.constant dense<[1.0, -2.0]> : tensor<2xf32>
  %0 = catfish.neg %i : (tensor<2xi64>) -> tensor<2xi64>
  %1 = catfish.neg %f : (tensor<2xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<2xi64>, tensor<2xf32>
}

// -----

// Boolean and integer remainder shape logic folds (ONNX's Attention function body computes
// its GQA repeat count this way). mod keeps the divisor's sign; with fmod, the dividend's.
// CHECK-LABEL: func.func @logic_and_mod
// CHECK-DAG: %[[N:.*]] = catfish.constant dense<[false, true]> : tensor<2xi1>
// CHECK-DAG: %[[A:.*]] = catfish.constant dense<[true, false]> : tensor<2xi1>
// CHECK-DAG: %[[O:.*]] = catfish.constant dense<true> : tensor<2xi1>
// CHECK-DAG: %[[M:.*]] = catfish.constant dense<[2, -2]> : tensor<2xi64>
// CHECK-DAG: %[[F:.*]] = catfish.constant dense<[-1, 1]> : tensor<2xi64>
// CHECK: return %[[N]], %[[A]], %[[O]], %[[M]], %[[F]]
func.func @logic_and_mod() -> (tensor<2xi1>, tensor<2xi1>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) {
  %t = catfish.constant dense<[true, false]> : tensor<2xi1>
  %u = catfish.constant dense<true> : tensor<2xi1>
  %a = catfish.constant dense<[-7, 7]> : tensor<2xi64>
  %b = catfish.constant dense<[3, -3]> : tensor<2xi64>
  %0 = catfish.not %t : (tensor<2xi1>) -> tensor<2xi1>
  %1 = catfish.and %t, %u : (tensor<2xi1>, tensor<2xi1>) -> tensor<2xi1>
  %2 = catfish.or %t, %u : (tensor<2xi1>, tensor<2xi1>) -> tensor<2xi1>
  %3 = catfish.mod %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %4 = catfish.mod %a, %b {fmod = true} : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0, %1, %2, %3, %4 : tensor<2xi1>, tensor<2xi1>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Comparisons of integer (signed and unsigned) and float constants fold; NaN compares false.
// CHECK-LABEL: func.func @comparisons
// CHECK-DAG: %[[LT:.*]] = catfish.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG: %[[GE:.*]] = catfish.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-DAG: %[[UGT:.*]] = catfish.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-DAG: %[[FLE:.*]] = catfish.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[FEQ:.*]] = catfish.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK: return %[[LT]], %[[GE]], %[[UGT]], %[[FLE]], %[[FEQ]]
func.func @comparisons() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>) {
  %a = catfish.constant dense<[-1, 2, 3]> : tensor<3xi64>
  %b = catfish.constant dense<2> : tensor<i64>
  %ua = catfish.constant dense<[255, 1, 3]> : tensor<3xui8>
  %ub = catfish.constant dense<2> : tensor<ui8>
  %fa = catfish.constant dense<[1.0, 2.0, 0x7FC00000]> : tensor<3xf32>
  %fb = catfish.constant dense<2.0> : tensor<f32>
  %0 = catfish.less %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %1 = catfish.greater_equal %a, %b : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %2 = catfish.greater %ua, %ub : (tensor<3xui8>, tensor<ui8>) -> tensor<3xi1>
  %3 = catfish.less_equal %fa, %fb : (tensor<3xf32>, tensor<f32>) -> tensor<3xi1>
  %4 = catfish.equal %fa, %fb : (tensor<3xf32>, tensor<f32>) -> tensor<3xi1>
  return %0, %1, %2, %3, %4 : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
}

// -----

// Float shape arithmetic folds (TorchScript's computed resize sizes: floor(float(h) * 1.5)),
// and casts to integers truncate toward zero; a value out of the target's range stays a cast.
// CHECK-LABEL: func.func @float_arithmetic
// CHECK-DAG: %[[SIZE:.*]] = catfish.constant dense<[5, -4, 3]> : tensor<3xi64>
// CHECK-DAG: %[[R:.*]] = catfish.constant dense<[3.000000e+00, -3.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[M:.*]] = catfish.constant dense<[1.000000e+00, 2.000000e+00, 1.000000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[BIG:.*]] = catfish.cast %{{.*}} : (tensor<1xf32>) -> tensor<1xi8>
// CHECK: return %[[SIZE]], %[[R]], %[[M]], %[[BIG]]
func.func @float_arithmetic() -> (tensor<3xi64>, tensor<3xf32>, tensor<3xf32>, tensor<1xi8>) {
  %h = catfish.constant dense<[3, -3, 2]> : tensor<3xi64>
  %s = catfish.constant dense<1.5> : tensor<f32>
  %one = catfish.constant dense<1.0> : tensor<f32>
  %m2 = catfish.constant dense<-2.0> : tensor<f32>
  %big = catfish.constant dense<300.0> : tensor<1xf32>
  %0 = catfish.cast %h : (tensor<3xi64>) -> tensor<3xf32>
  %1 = catfish.mul %0, %s : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %2 = catfish.floor %1 : (tensor<3xf32>) -> tensor<3xf32>
  %3 = catfish.ceil %1 : (tensor<3xf32>) -> tensor<3xf32>
  %4 = catfish.sub %3, %2 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %5 = catfish.add %2, %4 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %6 = catfish.div %1, %s : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %7 = catfish.round %6 : (tensor<3xf32>) -> tensor<3xf32>
  %8 = catfish.cast %5 : (tensor<3xf32>) -> tensor<3xi64>
  %9 = catfish.min %0, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %10 = catfish.max %9, %m2 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %11 = catfish.abs %10 : (tensor<3xf32>) -> tensor<3xf32>
  %12 = catfish.cast %big : (tensor<1xf32>) -> tensor<1xi8>
  return %8, %7, %11, %12 : tensor<3xi64>, tensor<3xf32>, tensor<3xf32>, tensor<1xi8>
}

// -----

// Where over constants folds elementwise (TorchScript's expand: Where(Equal(shape, -1), 1,
// shape)); integer reductions of constants fold (ReduceProd of a shape is its element count).
// CHECK-LABEL: func.func @select_and_reduce
// CHECK-DAG: %[[S:.*]] = catfish.constant dense<[2, 1, 1]> : tensor<3xi64>
// CHECK-DAG: %[[P:.*]] = catfish.constant dense<120> : tensor<1xi64>
// CHECK-DAG: %[[ROWS:.*]] = catfish.constant dense<[3, 14]> : tensor<2xi64>
// CHECK-DAG: %[[MAX:.*]] = catfish.constant dense<[2, 5]> : tensor<2xi64>
// CHECK: return %[[S]], %[[P]], %[[ROWS]], %[[MAX]]
func.func @select_and_reduce() -> (tensor<3xi64>, tensor<1xi64>, tensor<2xi64>, tensor<2xi64>) {
  %shape = catfish.constant dense<[2, -1, -1]> : tensor<3xi64>
  %neg = catfish.constant dense<-1> : tensor<i64>
  %one = catfish.constant dense<1> : tensor<i64>
  %dims = catfish.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
  %m = catfish.constant dense<[[1, 2], [2, 5]]> : tensor<2x2xi64>
  %eq = catfish.equal %shape, %neg : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %0 = catfish.select %eq, %one, %shape : (tensor<3xi1>, tensor<i64>, tensor<3xi64>) -> tensor<3xi64>
  %1 = catfish.reduce %dims {axes = array<i64>, keepdims = true, kind = #catfish<reduce prod>} : (tensor<4xi64>) -> tensor<1xi64>
  %2 = catfish.reduce %m {axes = array<i64: 0>, keepdims = false, kind = #catfish<reduce sum>} : (tensor<2x2xi64>) -> tensor<2xi64>
  %3 = catfish.reduce %m {axes = array<i64: 1>, keepdims = false, kind = #catfish<reduce max>} : (tensor<2x2xi64>) -> tensor<2xi64>
  %4 = catfish.mul %2, %m : (tensor<2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  %5 = catfish.reduce %4 {axes = array<i64: 0>, keepdims = false, kind = #catfish<reduce min>} : (tensor<2x2xi64>) -> tensor<2xi64>
  return %0, %1, %5, %3 : tensor<3xi64>, tensor<1xi64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Booleans reduce unsigned, as the kernels compute them: max(true, false) is true.
// CHECK-LABEL: func.func @reduce_bool
// CHECK-DAG: %[[ANY:.*]] = catfish.constant dense<true> : tensor<1xi1>
// CHECK-DAG: %[[ALL:.*]] = catfish.constant dense<false> : tensor<1xi1>
// CHECK: return %[[ANY]], %[[ALL]]
func.func @reduce_bool() -> (tensor<1xi1>, tensor<1xi1>) {
  %b = catfish.constant dense<[true, false]> : tensor<2xi1>
  %0 = catfish.reduce %b {axes = array<i64>, keepdims = true, kind = #catfish<reduce max>} : (tensor<2xi1>) -> tensor<1xi1>
  %1 = catfish.reduce %b {axes = array<i64>, keepdims = true, kind = #catfish<reduce min>} : (tensor<2xi1>) -> tensor<1xi1>
  return %0, %1 : tensor<1xi1>, tensor<1xi1>
}

// -----

// A split of a constant shape (AffineGrid's expanded form splits its size input): constant
// pieces.
// CHECK-LABEL: func.func @split_constant
// CHECK-DAG: %[[N:.*]] = catfish.constant dense<2> : tensor<1xi64>
// CHECK-DAG: %[[HW:.*]] = catfish.constant dense<{{\[}}[5, 6], [7, 8]]> : tensor<2x2xi64>
// CHECK: return %[[N]], %[[HW]]
func.func @split_constant() -> (tensor<1xi64>, tensor<2x2xi64>) {
  %size = catfish.constant dense<[[2, 3, 5, 6], [4, 9, 7, 8]]> : tensor<2x4xi64>
  %first = catfish.constant dense<[2, 3, 5, 6]> : tensor<4xi64>
  %n:2 = catfish.split %first {axis = 0 : i64, sizes = array<i64: 1, 3>} : (tensor<4xi64>) -> (tensor<1xi64>, tensor<3xi64>)
  %p:2 = catfish.split %size {axis = -1 : i64, sizes = array<i64: 2, 2>} : (tensor<2x4xi64>) -> (tensor<2x2xi64>, tensor<2x2xi64>)
  return %n#0, %p#1 : tensor<1xi64>, tensor<2x2xi64>
}
