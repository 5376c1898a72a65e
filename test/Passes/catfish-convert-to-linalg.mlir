// RUN: catfish-opt %s --split-input-file --catfish-convert-to-linalg | FileCheck %s
// RUN: catfish-opt %s --split-input-file --catfish-convert-to-linalg=scatter-as-selections | FileCheck %s --check-prefix=SELECT

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

// -----

// float8 has no LLVM type: a cast rounds the f32 bits in integer arithmetic; without
// saturation an overflow becomes NaN (127 with the sign), the result is bitcast from i8.
// CHECK-LABEL: func.func @f8_cast
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: math.roundeven
// CHECK: %[[OVER:.*]] = arith.cmpi ugt, %{{.*}}, %c126_i32
// CHECK: arith.select %[[OVER]], %c127_i32
// CHECK: %[[BYTE:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK: arith.bitcast %[[BYTE]] : i8 to f8E4M3FN
func.func @f8_cast(%x: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  %0 = catfish.cast %x {saturate = false} : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
  return %0 : tensor<4xf8E4M3FN>
}

// -----

// Per-axis quantize: scale and zero point read along the axis; round half to even, add the
// zero point, clamp to the int8 range.
// CHECK-DAG: #[[AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @quantize
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AXIS]], #[[AXIS]], #{{.*}}]
// CHECK: %[[Q:.*]] = arith.divf
// CHECK: %[[R:.*]] = math.roundeven %[[Q]]
// CHECK: arith.addf %[[R]]
// CHECK: arith.maximumf %{{.*}}, %cst{{.*}} : f32
// CHECK: arith.minimumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
func.func @quantize(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<2x4xi8> {
  %0 = catfish.quantize %x, %s, %z {axis = 1 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

// Linear resize of the two inner dims: f64 source coordinates, two clamped taps per dim, four
// reads; the outer dims pass through.
// CHECK-LABEL: func.func @resize
// CHECK: linalg.generic
// CHECK: %[[N:.*]] = linalg.index 0
// CHECK: %[[C:.*]] = linalg.index 1
// CHECK: math.floor %{{.*}} : f64
// CHECK-COUNT-4: tensor.extract %{{.*}}[%[[N]], %[[C]], %{{.*}}, %{{.*}}] : tensor<1x1x2x2xf32>
// CHECK-NOT: tensor.extract
func.func @resize(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %s = catfish.constant dense<[1, 1, 4, 4]> : tensor<4xi64>
  %0 = catfish.resize %x, %s {mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "floor", cubic_coeff_a = -7.5e-01 : f32, exclude_outside = false, extrapolation_value = 0.0 : f32} : (tensor<1x1x2x2xf32>, tensor<4xi64>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// ConvTranspose: the input spread by the stride into zeros, then a stride-1 convolution with
// the flipped, channel-swapped kernel.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 2, 2] : tensor<1x2x3x3xf32> into tensor<1x2x7x7xf32>
// CHECK: arith.subi %c2{{.*}}, %{{.*}} : index
// CHECK: -> tensor<3x2x3x3xf32>
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: } -> tensor<1x3x5x5xf32>
func.func @conv_transpose(%x: tensor<1x2x3x3xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  %0 = catfish.conv_transpose %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, groups = 1 : i64} : (tensor<1x2x3x3xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

// Reflect padding reads the input at the index folded back with period 2 * (size - 1).
// CHECK-LABEL: func.func @pad_reflect
// CHECK: linalg.generic
// CHECK: arith.remsi %{{.*}}, %c6
// CHECK: tensor.extract %{{.*}} : tensor<3x4xf32>
func.func @pad_reflect(%x: tensor<3x4xf32>) -> tensor<3x6xf32> {
  %p = catfish.constant dense<[0, 1, 0, 1]> : tensor<4xi64>
  %0 = catfish.pad %x, %p {mode = #catfish<pad_mode reflect>} : (tensor<3x4xf32>, tensor<4xi64>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

// ScatterND writes the updates in order in a loop, adding to what is there.
// CHECK-LABEL: func.func @scatter_nd
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<4x3xf32>)
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]]
// CHECK: tensor.insert %[[NEW]] into %[[ACC]]
func.func @scatter_nd(%x: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = catfish.scatter_nd %x, %i, %u {reduction = #catfish<scatter_reduction add>} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// TopK with k <= 64: k ordered selections over the axis. Pick 0 is an argmax; pick 1 also
// reads pick 0 (the same along the row) and takes only what ranks after it; the picks are
// concatenated along the axis.
// CHECK-LABEL: func.func @topk_picks
// CHECK: %[[P0:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<4x8xf32>)
// CHECK: %[[P1:.*]]:2 = linalg.generic {{.*}} ins(%arg0, %[[P0]]#0, %[[P0]]#1 : tensor<4x8xf32>, tensor<4xf32>, tensor<4xi64>)
// CHECK: tensor.concat dim(1)
// CHECK: tensor.concat dim(1)
// CHECK-NOT: scf.for
func.func @topk_picks(%x: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %v, %i = catfish.topk %x {axis = -1 : i64, k = 2 : i64} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  return %v, %i : tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

// A larger k (a sort) stays one loop nest of k scans per row.
// CHECK-LABEL: func.func @topk_sort
// CHECK: scf.for
// CHECK-NOT: tensor.concat
func.func @topk_sort(%x: tensor<2x100xf32>) -> (tensor<2x65xf32>, tensor<2x65xi64>) {
  %v, %i = catfish.topk %x {axis = 1 : i64, k = 65 : i64, largest = false} : (tensor<2x100xf32>) -> (tensor<2x65xf32>, tensor<2x65xi64>)
  return %v, %i : tensor<2x65xf32>, tensor<2x65xi64>
}

// -----

// ScatterElements: by default a copy, then one loop writing the updates in order; with
// scatter-as-selections (the CUDA target) a copy, then an ordered selection over (p, j): out[p]
// takes update j when index j aims at p, so the last one aimed at p wins. A reduction keeps
// the loop.
// CHECK-LABEL: func.func @scatter_elements
// CHECK: scf.for
// SELECT-LABEL: func.func @scatter_elements
// SELECT: %[[COPY:.*]] = linalg.generic
// SELECT: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg2, %arg1 : tensor<3x2xf32>, tensor<3x2xi64>) outs(%[[COPY]] : tensor<3x5xf32>)
// SELECT: %[[AT:.*]] = linalg.index 1 : index
// SELECT: %[[AIMED:.*]] = arith.cmpi eq, %{{.*}}, %[[AT]] : index
// SELECT: arith.select %[[AIMED]], %{{.*}}, %{{.*}} : f32
// SELECT-LABEL: func.func @scatter_elements_add
// SELECT: scf.for
func.func @scatter_elements(%x: tensor<3x5xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) -> tensor<3x5xf32> {
  %0 = catfish.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = #catfish<scatter_reduction none>} : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
func.func @scatter_elements_add(%x: tensor<3x5xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) -> tensor<3x5xf32> {
  %0 = catfish.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = #catfish<scatter_reduction add>} : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// ScatterND without a reduction, with scatter-as-selections: indices [2, 1] are 2 tuples of
// one component and updates [2, 3] 2 slices; out[p0, p1] takes slice j's element p1 when
// tuple j is p0 (each tuple component an input read at a constant column).
// CHECK-LABEL: func.func @scatter_nd_none
// CHECK: scf.for
// SELECT-LABEL: func.func @scatter_nd_none
// SELECT: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg2, %arg1 : tensor<2x3xf32>, tensor<2x1xi64>)
// SELECT: linalg.index 0 : index
// SELECT: arith.select
func.func @scatter_nd_none(%x: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = catfish.scatter_nd %x, %i, %u {reduction = #catfish<scatter_reduction none>} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A packed matmul is a contraction on a grid [batch, m, panel, column]: the packed operand is
// read as [panel, k, column], every map a projected permutation, and the grid collapses to
// the result's shape.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>
// CHECK-DAG: #[[PACKED:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4, d3)>
// CHECK-DAG: #[[GRID:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @packed_matmul
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[LHS]], #[[PACKED]], #[[GRID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK: } -> tensor<2x4x2x8xf32>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0], [1], [2, 3]] : tensor<2x4x2x8xf32> into tensor<2x4x16xf32>
// CHECK: return %[[C]]
func.func @packed_matmul(%x: tensor<2x4x8xf32>, %w: tensor<2x8x8xf32>) -> tensor<2x4x16xf32> {
  %y = catfish.packed_matmul %x, %w : (tensor<2x4x8xf32>, tensor<2x8x8xf32>) -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// A packed convolution (3x3, 7x7 outputs) is a contraction on the grid [n, p, f / P, f % P]
// with the output positions flattened: the windows copied out in [n, c, kh, kw, oh, ow]
// order and viewed as [n, c, kh, kw, 49], read by the loops (n, p, fp, fc, c, kh, kw), the
// packed weight as [fp, c, kh, kw, fc], the bias folded into the accumulator's start. A
// second loop writes the result from the grid, reading panel and column as f floordiv 8
// and f mod 8.
// CHECK-DAG: #[[COLS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d5, d6, d1)>
// CHECK-DAG: #[[PACKED:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d2, d4, d5, d6, d3)>
// CHECK-DAG: #[[GRID:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[BACK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2 * 7 + d3, d1 floordiv 8, d1 mod 8)>
// CHECK-LABEL: func.func @packed_conv
// CHECK: %[[PAD:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[COLSV:.*]] = linalg.generic {{.*}} ins(%[[PAD]] : tensor<1x3x9x9xf32>)
// CHECK: } -> tensor<1x3x3x3x7x7xf32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[COLSV]] {{\[}}[0], [1], [2], [3], [4, 5]] : tensor<1x3x3x3x7x7xf32> into tensor<1x3x3x3x49xf32>
// CHECK: %[[BIAS:.*]] = tensor.expand_shape %arg2 {{\[}}[0, 1]] output_shape [2, 8] : tensor<16xf32> into tensor<2x8xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<2x8xf32>)
// CHECK: } -> tensor<1x49x2x8xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[COLS]], #[[PACKED]], #[[GRID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[FLAT]], %arg1 : tensor<1x3x3x3x49xf32>, tensor<2x3x3x3x8xf32>) outs(%[[INIT]] : tensor<1x49x2x8xf32>)
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[BACK]], {{.*}}]{{.*}} ins(%[[G]] : tensor<1x49x2x8xf32>)
// CHECK: } -> tensor<1x16x7x7xf32>
// CHECK: return %[[OUT]]
func.func @packed_conv(%x: tensor<1x3x7x7xf32>, %w: tensor<2x3x3x3x8xf32>, %b: tensor<16xf32>) -> tensor<1x16x7x7xf32> {
  %y = catfish.packed_conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x7x7xf32>, tensor<2x3x3x3x8xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return %y : tensor<1x16x7x7xf32>
}
