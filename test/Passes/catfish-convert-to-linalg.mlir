// RUN: catfish-opt %s --split-input-file --catfish-convert-to-linalg | FileCheck %s

// Unsigned tensors become signless; the ops that read them pick unsigned arith.
// CHECK-LABEL: func.func @unsigned
// CHECK-SAME: (%{{.*}}: tensor<4xi8>, %{{.*}}: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xf32>, tensor<4xi1>)
// CHECK: arith.divui
// CHECK: arith.uitofp
// CHECK: arith.cmpi ult
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xf32>, tensor<4xi1>) {
  %0 = catfish.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %1 = catfish.cast %a : (tensor<4xui8>) -> tensor<4xf32>
  %2 = catfish.less %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xui8>, tensor<4xf32>, tensor<4xi1>
}

// -----

// Trilu keeps [i, j] where j - i <= k (lower).
// CHECK-LABEL: func.func @trilu
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[D:.*]] = arith.subi %[[J]], %[[I]]
// CHECK: %[[K:.*]] = arith.constant 1 : index
// CHECK: %[[KEEP:.*]] = arith.cmpi sle, %[[D]], %[[K]]
// CHECK: arith.select %[[KEEP]]
func.func @trilu(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = catfish.trilu %x {k = 1 : i64, upper = false} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Exclusive cumsum: out[b, i] sums in[b, j] over j < i, j being an extra reduction loop.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @cumsum
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: %[[J:.*]] = linalg.index 2
// CHECK: %[[I:.*]] = linalg.index 1
// CHECK: arith.cmpi slt, %[[J]], %[[I]]
func.func @cumsum(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = catfish.cumsum %x {axis = 1 : i64, exclusive = true} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Einsum: one generic, output labels parallel, the contracted label a reduction.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @einsum
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @einsum(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = catfish.einsum %a, %b {equation = "bij, bjk -> bik"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}
