// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-emulate-gpu | FileCheck %s

// A gpu.func becomes a host function of the same name: its parameters, the launch's grid and
// block sizes, task and task count. It runs its share of the blocks, each block's threads in
// turn; the thread indexing becomes the loops' indices. The host side of the plan, the
// gpu.module and the container attribute go; the device global moves to the module.
// CHECK: module {
// CHECK: memref.global "private" constant @bias
// CHECK-NOT: gpu.
// CHECK-LABEL: func.func @catfish_kernel_0_0(
// CHECK-SAME: %[[A:.*]]: memref<4x100xf32>, %[[R:.*]]: memref<4x100xf32>, %[[DIMS:.*]]: memref<6xi32>, %[[TASK:.*]]: index, %[[COUNT:.*]]: index)
// CHECK-DAG: %[[GX:.*]] = memref.load %[[DIMS]][%c0]
// CHECK-DAG: %[[BX:.*]] = memref.load %[[DIMS]][%c3]
// CHECK: %[[BEGIN:.*]] = arith.divui %{{.*}}, %[[COUNT]]
// CHECK: %[[END:.*]] = arith.divui %{{.*}}, %[[COUNT]]
// CHECK: scf.for %[[B:.*]] = %[[BEGIN]] to %[[END]]
// CHECK: %[[BID:.*]]:3 = affine.delinearize_index %[[B]] into
// CHECK: scf.for %[[T:.*]] = %c0
// CHECK: %[[TID:.*]]:3 = affine.delinearize_index %[[T]] into
// CHECK: %[[SCALED:.*]] = arith.muli %[[BID]]#2, %c256
// CHECK: arith.addi %[[SCALED]], %[[TID]]#2
// CHECK: memref.get_global @bias
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[R]]
// CHECK-NOT: func.func @catfish_kernel_0(
module attributes {gpu.container_module} {
  func.func @catfish_kernel_0(%a: memref<4x100xf32>, %r: memref<4x100xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c256 = arith.constant 256 : index
    gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c2, %c1, %c1) threads in (%c256, %c1, %c1) args(%a : memref<4x100xf32>, %r : memref<4x100xf32>)
    return
  }
  gpu.module @catfish_cuda {
    memref.global "private" constant @bias : memref<100xf32> = dense<1.0>
    gpu.func @catfish_kernel_0_0(%a: memref<4x100xf32>, %r: memref<4x100xf32>) kernel {
      %c256 = arith.constant 256 : index
      %c400 = arith.constant 400 : index
      %bid = gpu.block_id x
      %tid = gpu.thread_id x
      %scaled = arith.muli %bid, %c256 : index
      %linear = arith.addi %scaled, %tid : index
      %in = arith.cmpi ult, %linear, %c400 : index
      scf.if %in {
        %ij:2 = affine.delinearize_index %linear into (4, 100) : index, index
        %bias = memref.get_global @bias : memref<100xf32>
        %x = memref.load %a[%ij#0, %ij#1] : memref<4x100xf32>
        %y = memref.load %bias[%ij#1] : memref<100xf32>
        %s = arith.addf %x, %y : f32
        memref.store %s, %r[%ij#0, %ij#1] : memref<4x100xf32>
      }
      gpu.return
    }
  }
}

// -----

// Threads that communicate are refused until the emulator runs them: nothing is emulated
// wrongly.
module attributes {gpu.container_module} {
  gpu.module @catfish_cuda {
    gpu.func @catfish_kernel_0_0(%a: memref<256xf32>) kernel {
      // expected-error @+1 {{the CUDA emulator cannot run 'gpu.barrier' yet}}
      gpu.barrier
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @catfish_cuda {
    // expected-error @+1 {{the CUDA emulator cannot run kernels with shared or private memory attributions yet}}
    gpu.func @catfish_kernel_0_0(%a: memref<256xf32>) workgroup(%tile : memref<256xf32, #gpu.address_space<workgroup>>) kernel {
      gpu.return
    }
  }
}
