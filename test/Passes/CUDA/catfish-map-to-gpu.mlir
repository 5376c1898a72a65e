// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-map-to-gpu=vector-width=1 | FileCheck %s
// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-map-to-gpu="block-size=128 vector-width=1" | FileCheck %s --check-prefix=B128
// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-map-to-gpu | FileCheck %s --check-prefix=VEC

// A 4x100 loop nest: 400 threads in 2 blocks of 256. The linear thread index is guarded and
// delinearized innermost-fastest; the kernel takes every buffer of its host function.
// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%[[C2]], %{{.*}}, %{{.*}}) threads in (%[[C256]], %{{.*}}, %{{.*}}) args(%arg0 : memref<4x100xf32>, %arg1 : memref<100xf32>, %arg2 : memref<4x100xf32>)
// CHECK-NOT: scf.parallel
// CHECK: gpu.module @catfish_cuda
// CHECK: gpu.func @catfish_kernel_0_0(%[[A:[^:]*]]: memref<4x100xf32> {llvm.align = 64 : i64}, %[[B:[^:]*]]: memref<100xf32> {llvm.align = 64 : i64}, %[[R:[^:]*]]: memref<4x100xf32> {llvm.align = 64 : i64}) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 2, 1, 1>}
// CHECK: %[[BID:.*]] = gpu.block_id x
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[LIN:.*]] = arith.addi %{{.*}}, %[[TID]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[LIN]], %{{.*}}
// CHECK: scf.if %[[IN]]
// CHECK: affine.delinearize_index %[[LIN]] into (4, 100)
// CHECK: memref.load %[[A]]
// CHECK: memref.load %[[B]]
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %[[R]]
// B128: blocks in (%c4{{.*}}, %{{.*}}, %{{.*}}) threads in (%c128{{.*}},
// By default each thread computes 4 neighbouring points of the innermost loop (100 threads,
// one block), their loads side by side so that LLVM can merge them into 128-bit ones.
// VEC: blocks in (%c1{{.*}}, %{{.*}}, %{{.*}}) threads in (%c256{{.*}},
// VEC: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %c100
// VEC: %[[IJ:.*]]:2 = affine.delinearize_index %{{.*}} into (4, 25)
// VEC-COUNT-4: memref.load %arg0[%{{.*}}, %{{.*}}] : memref<4x100xf32>
// VEC-COUNT-4: memref.load %arg1[%{{.*}}] : memref<100xf32>
// VEC-COUNT-4: arith.addf
// VEC-COUNT-4: math.exp
// VEC-COUNT-4: memref.store
func.func @catfish_kernel_0(%a: memref<4x100xf32>, %b: memref<100xf32>, %r: memref<4x100xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c100) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<4x100xf32>
    %y = memref.load %b[%j] : memref<100xf32>
    %s = arith.addf %x, %y : f32
    %e = math.exp %s : f32
    memref.store %e, %r[%i, %j] : memref<4x100xf32>
    scf.reduce
  }
  return
}

// -----

// A sequential loop inside the nest would make a thread per row: refused.
func.func @catfish_kernel_0(%a: memref<4x100xf32>, %r: memref<4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    // expected-error @+1 {{the CUDA target cannot map a loop nest with an inner sequential loop to GPU threads yet}}
    scf.for %k = %c0 to %c100 step %c1 {
      %x = memref.load %a[%i, %k] : memref<4x100xf32>
      %acc = memref.load %r[%i] : memref<4xf32>
      %s = arith.addf %x, %acc : f32
      memref.store %s, %r[%i] : memref<4xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A temporary buffer is refused: catfish-scratch-buffers makes them arguments first.
func.func @catfish_kernel_0(%a: memref<4xf32>, %r: memref<4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  // expected-error @+1 {{a temporary buffer in a CUDA kernel (run catfish-scratch-buffers first)}}
  %tmp = memref.alloc() : memref<4xf32>
  return
}

// -----

// A sequential kernel (catfish.sequential: NonZero, Unique, NonMaxSuppression) runs on one
// thread: its fill and its loop carrying the count go into one launch of one block, and the
// constant stays on the host side.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c1{{.*}}, %{{.*}}, %{{.*}}) threads in
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.func @catfish_kernel_0_0
// CHECK-SAME: known_grid_size = array<i32: 1, 1, 1>
// CHECK: arith.cmpi ult, %{{.*}}, %c1
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<i64>
func.func @catfish_kernel_0(%x: memref<8xf32>, %out: memref<8xi64>, %count: memref<i64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>, catfish.sequential} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %z64 = arith.constant 0 : i64
  linalg.fill ins(%z64 : i64) outs(%out : memref<8xi64>)
  %n_nz = scf.for %i = %c0 to %c8 step %c1 iter_args(%k = %c0) -> (index) {
    %v = memref.load %x[%i] : memref<8xf32>
    %nz = arith.cmpf une, %v, %zero : f32
    %next = scf.if %nz -> (index) {
      %i64 = arith.index_cast %i : index to i64
      memref.store %i64, %out[%k] : memref<8xi64>
      %k1 = arith.addi %k, %c1 : index
      scf.yield %k1 : index
    } else {
      scf.yield %k : index
    }
    scf.yield %next : index
  }
  %total = arith.index_cast %n_nz : index to i64
  memref.store %total, %count[] : memref<i64>
  return
}

// -----

// A scalar the kernel reads once at the top (Pad's run-time value) from a buffer it never
// writes is copied into the loop that uses it, which then maps to threads alone.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK-NOT: memref.load
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0
// CHECK: gpu.func @catfish_kernel_0_0
// CHECK: memref.load %{{.*}}[] : memref<f32>
// CHECK: memref.store
func.func @catfish_kernel_0(%value: memref<f32>, %r: memref<64xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %v = memref.load %value[] : memref<f32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %v, %r[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
