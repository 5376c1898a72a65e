// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-map-reductions-to-gpu --cse | FileCheck %s

#row = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// Rows of 100 elements: a warp per row, eight rows to a block of 256 threads (16 rows: 2
// blocks). Each lane folds elements lane, lane + 32, ... with the producers fused in (exp),
// five xor shuffles combine the warp, lane 0 folds the total into the output's initial value.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c2, %c1, %c1) threads in (%c256, %c1, %c1) args(%arg0 : memref<16x100xf32>, %arg1 : memref<16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.func @catfish_kernel_0_0(%[[IN:[^:]*]]: memref<16x100xf32> {llvm.align = 64 : i64}, %[[OUT:[^:]*]]: memref<16xf32> {llvm.align = 64 : i64}) kernel
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK: %[[ACC:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %{{.*}} step %c32 iter_args(%[[A:.*]] = %{{.*}}) -> (f32)
// CHECK: %[[X:.*]] = memref.load %[[IN]]
// CHECK: %[[E:.*]] = math.exp %[[X]]
// CHECK: arith.addf %[[A]], %[[E]]
// CHECK: gpu.shuffle xor %[[ACC]], %c16_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c8_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c4_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK: %[[LAST:.*]], %{{.*}} = gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: %[[TOTAL:.*]] = arith.addf %{{.*}}, %[[LAST]]
// CHECK: scf.if
// CHECK: %[[INIT:.*]] = memref.load %[[OUT]]
// CHECK: %[[NEW:.*]] = arith.addf %[[INIT]], %[[TOTAL]]
// CHECK: memref.store %[[NEW]], %[[OUT]]
// CHECK-NOT: gpu.barrier
func.func @catfish_kernel_0(%in: memref<16x100xf32>, %out: memref<16xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  linalg.generic {indexing_maps = [#row, #out], iterator_types = ["parallel", "reduction"]} ins(%in : memref<16x100xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %e = math.exp %x : f32
    %s = arith.addf %acc, %e : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#row = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// Rows of 4096 f16 elements: a block per row, accumulated in f32; the eight warps' partials
// meet in shared memory after a barrier, thread 0 folds the total into the f16 output.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c3, %c1, %c1) threads in (%c256, %c1, %c1)
// CHECK: gpu.func @catfish_kernel_0_0(%{{[^:]*}}: memref<3x4096xf16> {llvm.align = 64 : i64}, %[[OUT:[^:]*]]: memref<3xf16> {llvm.align = 64 : i64}) workgroup(%[[PARTIALS:.*]] : memref<8xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c256 iter_args(%{{.*}} = %{{.*}}) -> (f32)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.maximumf
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[PARTIALS]]
// CHECK-COUNT-3: gpu.shuffle xor
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %{{.*}}, %[[OUT]]
func.func @catfish_kernel_0(%in: memref<3x4096xf16>, %out: memref<3xf16>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  linalg.generic {indexing_maps = [#row, #out], iterator_types = ["parallel", "reduction"]} ins(%in : memref<3x4096xf16>) outs(%out : memref<3xf16>) {
  ^bb0(%x: f16, %acc: f16):
    %m = arith.maximumf %acc, %x : f16
    linalg.yield %m : f16
  }
  return
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// Argmax (value and index, the first of equal values): each lane folds a contiguous chunk of
// the row from the outputs' initial values with the body; lanes combine in index order, xor
// 1, 2, 4, 8, 16, the earlier state as the output; 64-bit indices shuffle as two halves.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.func @catfish_kernel_0_0
// CHECK: %[[V0:.*]] = memref.load %{{.*}} : memref<4xf32>
// CHECK: %[[I0:.*]] = memref.load %{{.*}} : memref<4xi64>
// CHECK: %[[BEGIN:.*]] = arith.muli %{{.*}}, %c1 : index
// CHECK: %[[STATE:.*]]:3 = scf.for %{{.*}} = %[[BEGIN]] to %{{.*}} step %c1 iter_args(%{{.*}} = %[[V0]], %{{.*}} = %[[I0]], %{{.*}} = %false) -> (f32, i64, i1)
// CHECK: arith.cmpf ogt
// CHECK: gpu.shuffle xor %[[STATE]]#0, %c1_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32 : i32
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32 : i32
// CHECK: gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK: memref.store %{{.*}} : memref<4xf32>
// CHECK: memref.store %{{.*}} : memref<4xi64>
func.func @catfish_kernel_0(%in: memref<4x8xf32>, %value: memref<4xf32>, %index: memref<4xi64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  linalg.generic {indexing_maps = [#in, #out, #out], iterator_types = ["parallel", "reduction"]} ins(%in : memref<4x8xf32>) outs(%value, %index : memref<4xf32>, memref<4xi64>) {
  ^bb0(%x: f32, %v: f32, %i: i64):
    %k = linalg.index 1 : index
    %k64 = arith.index_cast %k : index to i64
    %greater = arith.cmpf ogt, %x, %v : f32
    %v2 = arith.select %greater, %x, %v : f32
    %i2 = arith.select %greater, %k64, %i : i64
    linalg.yield %v2, %i2 : f32, i64
  }
  return
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// A top-k pick: an argmax over the elements that rank after the previous pick, whose value and
// index are inputs the same along the row, read once per row (before the lanes' folds).
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.func @catfish_kernel_0_0
// CHECK: %[[V0:.*]] = memref.load %{{.*}} : memref<4xf32>
// CHECK: %[[I0:.*]] = memref.load %{{.*}} : memref<4xi64>
// CHECK: %[[PV:.*]] = memref.load %{{.*}} : memref<4xf32>
// CHECK: %[[PI:.*]] = memref.load %{{.*}} : memref<4xi64>
// CHECK: scf.for
// CHECK: arith.cmpf olt, %[[PV]], %{{.*}} : f32
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}} : memref<4xi64>
func.func @catfish_kernel_0(%in: memref<4x8xf32>, %pv: memref<4xf32>, %pi: memref<4xi64>, %value: memref<4xf32>, %index: memref<4xi64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  linalg.generic {indexing_maps = [#in, #out, #out, #out, #out], iterator_types = ["parallel", "reduction"]} ins(%in, %pv, %pi : memref<4x8xf32>, memref<4xf32>, memref<4xi64>) outs(%value, %index : memref<4xf32>, memref<4xi64>) {
  ^bb0(%x: f32, %prev: f32, %previ: i64, %v: f32, %i: i64):
    %k = linalg.index 1 : index
    %k64 = arith.index_cast %k : index to i64
    %greater = arith.cmpf ogt, %x, %v : f32
    %below = arith.cmpf olt, %prev, %x : f32
    %later = arith.cmpi sgt, %k64, %previ : i64
    %after = arith.ori %below, %later : i1
    %take = arith.andi %greater, %after : i1
    %v2 = arith.select %take, %x, %v : f32
    %i2 = arith.select %take, %k64, %i : i64
    linalg.yield %v2, %i2 : f32, i64
  }
  return
}

// -----

#along = affine_map<(d0, d1, d2) -> (d0, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>

// A scatter's pull: out[p] takes update j where index j aims at p's column, the last such j
// winning. The indices change along the row and are read with each element; the condition
// reads no output, so a state that took nothing is passed over when states combine.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.func @catfish_kernel_0_0
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[TOOK:.*]] = %false) -> (f32, i1)
// CHECK: memref.load %{{.*}} : memref<3x2xf32>
// CHECK: memref.load %{{.*}} : memref<3x2xi64>
// CHECK: %[[AIMED:.*]] = arith.cmpi eq
// CHECK: arith.ori %[[TOOK]], %[[AIMED]] : i1
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}} : memref<3x5xf32>
func.func @catfish_kernel_0(%u: memref<3x2xf32>, %i: memref<3x2xi64>, %out: memref<3x5xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  linalg.generic {indexing_maps = [#along, #along, #out], iterator_types = ["parallel", "parallel", "reduction"]} ins(%u, %i : memref<3x2xf32>, memref<3x2xi64>) outs(%out : memref<3x5xf32>) {
  ^bb0(%x: f32, %index: i64, %acc: f32):
    %column = linalg.index 1 : index
    %target = arith.index_cast %index : i64 to index
    %aimed = arith.cmpi eq, %target, %column : index
    %v = arith.select %aimed, %x, %acc : f32
    linalg.yield %v : f32
  }
  return
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// A second input that changes along the row is no selection of the first's elements.
func.func @catfish_kernel_0(%in: memref<4x8xf32>, %other: memref<4x8xf32>, %value: memref<4xf32>, %index: memref<4xi64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  // expected-error @+1 {{the CUDA target cannot generate this reduction with several results (only ordered selections such as argmax and argmin)}}
  linalg.generic {indexing_maps = [#in, #in, #out, #out], iterator_types = ["parallel", "reduction"]} ins(%in, %other : memref<4x8xf32>, memref<4x8xf32>) outs(%value, %index : memref<4xf32>, memref<4xi64>) {
  ^bb0(%x: f32, %y: f32, %v: f32, %i: i64):
    %k = linalg.index 1 : index
    %k64 = arith.index_cast %k : index to i64
    %greater = arith.cmpf ogt, %y, %v : f32
    %v2 = arith.select %greater, %x, %v : f32
    %i2 = arith.select %greater, %k64, %i : i64
    linalg.yield %v2, %i2 : f32, i64
  }
  return
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// Two results that are not a selection are refused at the op.
func.func @catfish_kernel_0(%in: memref<4x8xf32>, %value: memref<4xf32>, %index: memref<4xi64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  // expected-error @+1 {{the CUDA target cannot generate this reduction with several results (only ordered selections such as argmax and argmin)}}
  linalg.generic {indexing_maps = [#in, #out, #out], iterator_types = ["parallel", "reduction"]} ins(%in : memref<4x8xf32>) outs(%value, %index : memref<4xf32>, memref<4xi64>) {
  ^bb0(%x: f32, %v: f32, %i: i64):
    linalg.yield %x, %i : f32, i64
  }
  return
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// A combination that is not one associative op of the output and a value is refused.
func.func @catfish_kernel_0(%in: memref<4x8xf32>, %out: memref<4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  // expected-error @+1 {{the CUDA target cannot generate this reduction}}
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]} ins(%in : memref<4x8xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %d = arith.subf %acc, %x : f32
    linalg.yield %d : f32
  }
  return
}
