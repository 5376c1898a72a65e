// RUN: catfish-opt %s --pass-pipeline='builtin.module(func.func(catfish-tile-for-tasks{min-work=64 max-parts=8},canonicalize))' | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-DAG: #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>

// A row softmax-like kernel: the row sums (a reduction) are fused into the forall, so each
// part reduces only its own rows. 64 rows in at most 8 parts: 8 rows per part.
// CHECK-LABEL: func.func @rows
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (8) shared_outs
// CHECK:   tensor.extract_slice %{{.*}}[%[[I]], 0] [8, 32] [1, 1]
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK:   tensor.parallel_insert_slice
// CHECK: bufferization.materialize_in_destination
func.func @rows(%in: memref<64x32xf32>, %out: memref<64x32xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<64x32xf32> to tensor<64x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x32xf32>) outs(%init : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %e2 = tensor.empty() : tensor<64x32xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum : tensor<64x32xf32>, tensor<64xf32>) outs(%e2 : tensor<64x32xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %d = arith.divf %a, %s : f32
    linalg.yield %d : f32
  } -> tensor<64x32xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<64x32xf32>, memref<64x32xf32>) -> ()
  return
}

// The row sums kept as [64, 1] (tensor.expand_shape), as softmax and norms broadcast them:
// the consumer reads the sums directly, so they are still fused into the forall.
// CHECK-LABEL: func.func @kept_dims
// CHECK-NOT: tensor.expand_shape
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (8) shared_outs
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:   linalg.generic {indexing_maps = [#{{[a-z0-9]*}}, #[[ROW]], #{{[a-z0-9]*}}], iterator_types = ["parallel", "parallel"]}
// CHECK:   tensor.parallel_insert_slice
func.func @kept_dims(%in: memref<64x32xf32>, %out: memref<64x32xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<64x32xf32> to tensor<64x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x32xf32>) outs(%init : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %kept = tensor.expand_shape %sum [[0, 1]] output_shape [64, 1] : tensor<64xf32> into tensor<64x1xf32>
  %e2 = tensor.empty() : tensor<64x32xf32>
  %y = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0, 0)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %kept : tensor<64x32xf32>, tensor<64x1xf32>) outs(%e2 : tensor<64x32xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %d = arith.divf %a, %s : f32
    linalg.yield %d : f32
  } -> tensor<64x32xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<64x32xf32>, memref<64x32xf32>) -> ()
  return
}

// A reduction over a unit dim that only the expanded input indexes keeps reading the expanded
// value: dropping the dim would leave its loop without an extent.
// CHECK-LABEL: func.func @unit_reduction
// CHECK: tensor.expand_shape
// CHECK: linalg.generic
func.func @unit_reduction(%in: memref<64xf32>, %out: memref<64xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<64xf32> to tensor<64xf32>
  %kept = tensor.expand_shape %x [[0, 1]] output_shape [64, 1] : tensor<64xf32> into tensor<64x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %y = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%kept : tensor<64x1xf32>) outs(%init : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<64xf32>, memref<64xf32>) -> ()
  return
}

// A matmul with a bias epilogue as the root: the parts are counted from the matmul's work
// (16 x 16 x 32 iterations: the 8 parts max-parts allows), not from the epilogue's 256
// iterations (4 parts).
// CHECK-LABEL: func.func @epilogue_root
// CHECK: scf.forall (%{{.*}}) = (0) to (16) step (2) shared_outs
func.func @epilogue_root(%a: memref<16x32xf32>, %b: memref<32x16xf32>, %bias: memref<16xf32>, %out: memref<16x16xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %a restrict : memref<16x32xf32> to tensor<16x32xf32>
  %w = bufferization.to_tensor %b restrict : memref<32x16xf32> to tensor<32x16xf32>
  %c = bufferization.to_tensor %bias restrict : memref<16xf32> to tensor<16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %p = linalg.matmul ins(%x, %w : tensor<16x32xf32>, tensor<32x16xf32>) outs(%init : tensor<16x16xf32>) -> tensor<16x16xf32>
  %y = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d1)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %c : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.addf %v, %s : f32
    linalg.yield %r : f32
  } -> tensor<16x16xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<16x16xf32>, memref<16x16xf32>) -> ()
  return
}

// One row: the parts go along the contiguous dimension, in whole cache lines (16 floats).
// CHECK-LABEL: func.func @one_row
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (64)
func.func @one_row(%in: memref<1x256xf32>, %out: memref<1x256xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<1x256xf32> to tensor<1x256xf32>
  %e = tensor.empty() : tensor<1x256xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x256xf32>) outs(%e : tensor<1x256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x256xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<1x256xf32>, memref<1x256xf32>) -> ()
  return
}

// Too little work for two parts of 64 iterations.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.forall
func.func @small(%in: memref<8x8xf32>, %out: memref<8x8xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<8x8xf32> to tensor<8x8xf32>
  %e = tensor.empty() : tensor<8x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<8x8xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<8x8xf32>, memref<8x8xf32>) -> ()
  return
}

// A result computed on a wider grid and cut (a convolution's grid widened to whole vectors):
// the parts never split the cut dimension, and each part cuts its own slice, so the loop
// yields the exact result and nothing is copied after it.
// CHECK-LABEL: func.func @cut_result
// CHECK: %[[EXACT:.*]] = tensor.empty() : tensor<64x14xf32>
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (8) shared_outs(%[[OUT:.*]] = %[[EXACT]]) -> (tensor<64x14xf32>)
// CHECK:   %[[PART:.*]] = linalg.generic
// CHECK:   } -> tensor<8x16xf32>
// CHECK:   %[[SLICE:.*]] = tensor.extract_slice %[[PART]][0, 0] [8, 14] [1, 1]
// CHECK:   tensor.parallel_insert_slice %[[SLICE]] into %[[OUT]][%[[I]], 0] [8, 14] [1, 1]
// CHECK-NOT: tensor.extract_slice
// CHECK: bufferization.materialize_in_destination
func.func @cut_result(%in: memref<64x16xf32>, %out: memref<64x14xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<64x16xf32> to tensor<64x16xf32>
  %e = tensor.empty() : tensor<64x16xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x16xf32>) outs(%e : tensor<64x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<64x16xf32>
  %c = tensor.extract_slice %y[0, 0] [64, 14] [1, 1] : tensor<64x16xf32> to tensor<64x14xf32>
  bufferization.materialize_in_destination %c in restrict writable %out : (tensor<64x14xf32>, memref<64x14xf32>) -> ()
  return
}

#block = affine_map<(d0, d1) -> (d0 floordiv 32, d1)>

// A block-wise dequantization (a scale per 32 rows): 96 rows in at most 8 parts would be 12
// rows each, but a part must start on a block, or it would read its rows' scales from the
// block of its first row; so the parts are whole blocks.
// CHECK-LABEL: func.func @block_scaled
// CHECK: scf.forall (%{{.*}}) = (0) to (96) step (32)
func.func @block_scaled(%in: memref<96x16xi8>, %scale: memref<3x16xf32>, %out: memref<96x16xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<96x16xi8> to tensor<96x16xi8>
  %s = bufferization.to_tensor %scale restrict : memref<3x16xf32> to tensor<3x16xf32>
  %e = tensor.empty() : tensor<96x16xf32>
  %y = linalg.generic {indexing_maps = [#id, #block, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<96x16xi8>, tensor<3x16xf32>) outs(%e : tensor<96x16xf32>) {
  ^bb0(%a: i8, %b: f32, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %m = arith.mulf %f, %b : f32
    linalg.yield %m : f32
  } -> tensor<96x16xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<96x16xf32>, memref<96x16xf32>) -> ()
  return
}

// The same when the block-scaled op is a producer that tiling fuses into the parts.
// CHECK-LABEL: func.func @block_scaled_producer
// CHECK: scf.forall (%{{.*}}) = (0) to (96) step (32)
func.func @block_scaled_producer(%in: memref<96x16xi8>, %scale: memref<3x16xf32>, %out: memref<96x16xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<96x16xi8> to tensor<96x16xi8>
  %s = bufferization.to_tensor %scale restrict : memref<3x16xf32> to tensor<3x16xf32>
  %e = tensor.empty() : tensor<96x16xf32>
  %d = linalg.generic {indexing_maps = [#id, #block, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<96x16xi8>, tensor<3x16xf32>) outs(%e : tensor<96x16xf32>) {
  ^bb0(%a: i8, %b: f32, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %m = arith.mulf %f, %b : f32
    linalg.yield %m : f32
  } -> tensor<96x16xf32>
  %e2 = tensor.empty() : tensor<96x16xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<96x16xf32>) outs(%e2 : tensor<96x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<96x16xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<96x16xf32>, memref<96x16xf32>) -> ()
  return
}

// A packed matmul's grid [m, panel, column], collapsed to the [m, n] output: the grid is
// stored into an expanded view of the output, and the contraction computing it splits along
// its panels (n: 8 parts of 2 panels each) straight into that view.
// CHECK-LABEL: func.func @panel_grid
// CHECK: %[[F:.*]] = scf.forall (%[[P:.*]]) = (0) to (16) step (2) shared_outs
// CHECK:   linalg.generic
// CHECK:   tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, %[[P]], 0] [16, 2, 8] [1, 1, 1]
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[VIEW:.*]] = memref.expand_shape %arg2 {{\[}}[0], [1, 2]] output_shape [16, 16, 8] : memref<16x128xf32> into memref<16x16x8xf32>
// CHECK: bufferization.materialize_in_destination %[[F]] in restrict writable %[[VIEW]] : (tensor<16x16x8xf32>, memref<16x16x8xf32>) -> ()
func.func @panel_grid(%in: memref<16x32xf32>, %w: memref<16x32x8xf32>, %out: memref<16x128xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<16x32xf32> to tensor<16x32xf32>
  %p = bufferization.to_tensor %w restrict : memref<16x32x8xf32> to tensor<16x32x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16x8xf32>) -> tensor<16x16x8xf32>
  %g = linalg.generic {
      indexing_maps = [affine_map<(m, p, c, k) -> (m, k)>, affine_map<(m, p, c, k) -> (p, k, c)>,
                       affine_map<(m, p, c, k) -> (m, p, c)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %p : tensor<16x32xf32>, tensor<16x32x8xf32>) outs(%init : tensor<16x16x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<16x16x8xf32>
  %y = tensor.collapse_shape %g [[0], [1, 2]] : tensor<16x16x8xf32> into tensor<16x128xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<16x128xf32>, memref<16x128xf32>) -> ()
  return
}

// The parts split the product's columns, so each reads the whole left operand: its producer
// (an im2col copy in a convolution, here a negation) stays before the forall, computed once
// per task rather than once per part. The bias fill, sliced by the parts, is fused.
// CHECK-LABEL: func.func @whole_producer
// CHECK: %[[NEG:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<16x32xf32>)
// CHECK: scf.forall (%[[J:.*]]) = (0) to (64) step (16) shared_outs
// CHECK:   linalg.fill
// CHECK:   linalg.matmul ins(%[[NEG]], %{{.*}} : tensor<16x32xf32>, tensor<32x16xf32>)
// CHECK-NOT: arith.negf
// CHECK: bufferization.materialize_in_destination
func.func @whole_producer(%a: memref<16x32xf32>, %b: memref<32x64xf32>, %out: memref<16x64xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %a restrict : memref<16x32xf32> to tensor<16x32xf32>
  %w = bufferization.to_tensor %b restrict : memref<32x64xf32> to tensor<32x64xf32>
  %ex = tensor.empty() : tensor<16x32xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<16x32xf32>) outs(%ex : tensor<16x32xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<16x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %p = linalg.matmul ins(%neg, %w : tensor<16x32xf32>, tensor<32x64xf32>) outs(%init : tensor<16x64xf32>) -> tensor<16x64xf32>
  bufferization.materialize_in_destination %p in restrict writable %out : (tensor<16x64xf32>, memref<16x64xf32>) -> ()
  return
}

// The right operand, an input of the kernel, is smaller than the left one that the kernel
// computes (an early convolution's weights next to its im2col copy): the parts split the
// rows, and the left operand's producer is fused, each part computing only its rows.
// CHECK-LABEL: func.func @rows_first
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (8) shared_outs
// CHECK:   %[[X:.*]] = tensor.extract_slice %{{.*}}[%[[I]], 0] [8, 16] [1, 1]
// CHECK:   %[[NEG:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<8x16xf32>)
// CHECK:   linalg.matmul ins(%[[NEG]], %{{.*}} : tensor<8x16xf32>, tensor<16x8xf32>)
func.func @rows_first(%a: memref<64x16xf32>, %b: memref<16x8xf32>, %out: memref<64x8xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %a restrict : memref<64x16xf32> to tensor<64x16xf32>
  %w = bufferization.to_tensor %b restrict : memref<16x8xf32> to tensor<16x8xf32>
  %ex = tensor.empty() : tensor<64x16xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x16xf32>) outs(%ex : tensor<64x16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<64x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64x8xf32>) -> tensor<64x8xf32>
  %p = linalg.matmul ins(%neg, %w : tensor<64x16xf32>, tensor<16x8xf32>) outs(%init : tensor<64x8xf32>) -> tensor<64x8xf32>
  bufferization.materialize_in_destination %p in restrict writable %out : (tensor<64x8xf32>, memref<64x8xf32>) -> ()
  return
}

// A reduction that every part reads whole (the sum of the one row, broadcast over the
// columns that the parts split) is still fused into each part: left before the loop it
// would make the kernel one task.
// CHECK-LABEL: func.func @whole_reduction
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (64) shared_outs
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:   linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
func.func @whole_reduction(%in: memref<1x256xf32>, %out: memref<1x256xf32>, %task: index, %count: index) {
  %x = bufferization.to_tensor %in restrict : memref<1x256xf32> to tensor<1x256xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1xf32>) -> tensor<1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<1x256xf32>) outs(%init : tensor<1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1xf32>
  %e = tensor.empty() : tensor<1x256xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum : tensor<1x256xf32>, tensor<1xf32>) outs(%e : tensor<1x256xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %d = arith.divf %a, %s : f32
    linalg.yield %d : f32
  } -> tensor<1x256xf32>
  bufferization.materialize_in_destination %y in restrict writable %out : (tensor<1x256xf32>, memref<1x256xf32>) -> ()
  return
}
