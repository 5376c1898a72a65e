// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-scratch-buffers | FileCheck %s

// Each top-level temporary becomes an argument after the results, before task and task_count;
// its deallocation goes; catfish.scratch counts them.
// CHECK-LABEL: func.func @catfish_kernel_0(
// CHECK-SAME: %[[A:.*]]: memref<4x8xf32>, %[[R:.*]]: memref<4x8xf32>, %[[MAX:.*]]: memref<4xf32>, %[[SUM:.*]]: memref<4xi1>, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: catfish.scratch = 2 : i64
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[MAX]] : memref<4xf32>)
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[SUM]] : memref<4xi1>)
func.func @catfish_kernel_0(%a: memref<4x8xf32>, %r: memref<4x8xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %zero = arith.constant 0.0 : f32
  %false = arith.constant false
  %max = memref.alloc() : memref<4xf32>
  %flags = memref.alloc() : memref<4xi1>
  linalg.fill ins(%zero : f32) outs(%max : memref<4xf32>)
  linalg.fill ins(%false : i1) outs(%flags : memref<4xi1>)
  memref.dealloc %max : memref<4xf32>
  return
}

// -----

// A kernel without temporaries is left alone.
// CHECK-LABEL: func.func @catfish_kernel_0(
// CHECK-SAME: %{{.*}}: memref<4xf32>, %{{.*}}: index, %{{.*}}: index) attributes {catfish.kind
// CHECK-NOT: catfish.scratch
func.func @catfish_kernel_0(%a: memref<4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  return
}

// -----

func.func @catfish_kernel_0(%a: memref<4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{a kernel's temporary buffer needs a static shape and the identity layout}}
  %tmp = memref.alloc(%c4) : memref<?xf32>
  return
}
