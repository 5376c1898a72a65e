// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-outline-kernels | FileCheck %s
// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-outline-kernels=module-name=cpu_kernels | FileCheck %s --check-prefix=NAMED

// Each region becomes a kernel in program order: inputs then results as memrefs, then the
// task index and count. The body reads its inputs as tensors and writes its result in place.
// @main keeps its regions.
// CHECK-LABEL: func.func @main
// CHECK: %[[A:.*]] = catfish.fusion generated
// CHECK: catfish.fusion gemm(%[[A]], %arg1)
// CHECK-LABEL: module @kernels
// CHECK: func.func @catfish_kernel_0(%[[X:.*]]: memref<4x4xf32>, %[[R:.*]]: memref<4x4xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: attributes {catfish.kind = #catfish<fusion_kind generated>}
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[X]] restrict
// CHECK: %[[E:.*]] = catfish.exp %[[T]]
// CHECK: bufferization.materialize_in_destination %[[E]] in restrict writable %[[R]]
// CHECK: func.func @catfish_kernel_1(%{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: catfish.kind = #catfish<fusion_kind gemm>
// CHECK: catfish.matmul
// NAMED: module @cpu_kernels
func.func @main(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %a = catfish.fusion generated(%x) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%arg: tensor<4x4xf32>):
    %e = catfish.exp %arg : (tensor<4x4xf32>) -> tensor<4x4xf32>
    catfish.yield %e : tensor<4x4xf32>
  }
  %m = catfish.fusion gemm(%a, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%p: tensor<4x4xf32>, %q: tensor<4x4xf32>):
    %r = catfish.matmul %p, %q : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    catfish.yield %r : tensor<4x4xf32>
  }
  return %m : tensor<4x4xf32>
}

// -----

// A reshape outside the regions is a view of its input's buffer: no kernel computes it, and
// the kernels are numbered without it.
// CHECK-LABEL: func.func @main
// CHECK: %[[A:.*]] = catfish.fusion generated
// CHECK: %[[V:.*]] = catfish.reshape %[[A]]
// CHECK: catfish.fusion gemm(%[[V]], %arg1)
// CHECK-LABEL: module @kernels
// CHECK: func.func @catfish_kernel_0(%{{.*}}: memref<2x8xf32>, %{{.*}}: memref<2x8xf32>
// CHECK: func.func @catfish_kernel_1(%{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>
// CHECK-NOT: catfish_kernel_2
func.func @main(%x: tensor<2x8xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %a = catfish.fusion generated(%x) : (tensor<2x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%arg: tensor<2x8xf32>):
    %e = catfish.exp %arg : (tensor<2x8xf32>) -> tensor<2x8xf32>
    catfish.yield %e : tensor<2x8xf32>
  }
  %shape = catfish.constant dense<[4, 4]> : tensor<2xi64>
  %v = catfish.reshape %a, %shape : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<4x4xf32>
  %m = catfish.fusion gemm(%v, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%p: tensor<4x4xf32>, %q: tensor<4x4xf32>):
    %r = catfish.matmul %p, %q : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    catfish.yield %r : tensor<4x4xf32>
  }
  return %m : tensor<4x4xf32>
}

// -----

// A tensor without elements is passed as memref<0xT> and never read or written.
// CHECK-LABEL: module @kernels
// CHECK: func.func @catfish_kernel_0(%{{.*}}: memref<0xf32>, %{{.*}}: memref<0xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK-NOT: bufferization.to_tensor
// CHECK: tensor.empty() : tensor<2x0xf32>
// CHECK-NOT: materialize_in_destination
func.func @main(%x: tensor<2x0xf32>) -> tensor<2x0xf32> {
  %a = catfish.fusion generated(%x) : (tensor<2x0xf32>) -> tensor<2x0xf32> {
  ^bb0(%arg: tensor<2x0xf32>):
    %e = catfish.neg %arg : (tensor<2x0xf32>) -> tensor<2x0xf32>
    catfish.yield %e : tensor<2x0xf32>
  }
  return %a : tensor<2x0xf32>
}

// -----

// An op outside a region cannot become a kernel.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.neg' is outside a fusion region}}
  %n = catfish.neg %x : (tensor<4xf32>) -> tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

// Kernels need static shapes.
func.func @main(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{code generation needs static shapes, got 'tensor<?xf32>'}}
  %a = catfish.fusion generated(%x) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%arg: tensor<?xf32>):
    %e = catfish.neg %arg : (tensor<?xf32>) -> tensor<?xf32>
    catfish.yield %e : tensor<?xf32>
  }
  return %a : tensor<?xf32>
}

// -----

// expected-error @+1 {{the program has no @main function}}
module {
  func.func @other() {
    return
  }
}

// -----

// The regions of a loop body are numbered at the loop's place: the region before the loop is
// kernel 0, the body's is kernel 1, the one after it kernel 2.
// CHECK-LABEL: func.func @main
// CHECK: catfish.loop
// CHECK-LABEL: module @kernels
// CHECK: func.func @catfish_kernel_0
// CHECK: catfish.neg
// CHECK: func.func @catfish_kernel_1
// CHECK: catfish.add
// CHECK: func.func @catfish_kernel_2
// CHECK: catfish.exp
func.func @main(%n: tensor<i64>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %d = catfish.fusion generated(%x) : (tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<2xf32>):
    %e = catfish.neg %a : (tensor<2xf32>) -> tensor<2xf32>
    catfish.yield %e : tensor<2xf32>
  }
  %r = catfish.loop(%n : tensor<i64>) iter_args(%d : tensor<2xf32>) -> (tensor<2xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %s = catfish.fusion generated(%v) : (tensor<2xf32>) -> tensor<2xf32> {
    ^bb0(%a: tensor<2xf32>):
      %e = catfish.add %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
      catfish.yield %e : tensor<2xf32>
    }
    catfish.yield %c, %s : tensor<i1>, tensor<2xf32>
  }
  %o = catfish.fusion generated(%r) : (tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<2xf32>):
    %e = catfish.exp %a : (tensor<2xf32>) -> tensor<2xf32>
    catfish.yield %e : tensor<2xf32>
  }
  return %o : tensor<2xf32>
}
