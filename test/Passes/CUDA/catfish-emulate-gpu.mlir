// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-emulate-gpu | FileCheck %s

// A gpu.func becomes a host function of the same name that runs one thread: its parameters,
// the launch's grid and block sizes, the block's shared memory, the thread's service table,
// then the linear block and thread indices. The thread indexing becomes values computed from
// those. The host side of the plan, the gpu.module and the container attribute go; the device
// global moves to the module.
// CHECK: module {
// CHECK: memref.global "private" constant @bias
// CHECK-NOT: gpu.
// CHECK-LABEL: func.func @catfish_kernel_0_0(
// CHECK-SAME: %[[A:.*]]: memref<4x100xf32>, %[[R:.*]]: memref<4x100xf32>, %[[DIMS:.*]]: memref<6xi32>, %[[SHARED:.*]]: memref<1xi8>, %[[STATE:.*]]: !llvm.ptr, %[[BLOCK:.*]]: index, %[[THREAD:.*]]: index)
// CHECK-DAG: memref.load %[[DIMS]][%c0]
// CHECK-DAG: %[[BX:.*]] = memref.load %[[DIMS]][%c3]
// CHECK: %[[BID:.*]]:3 = affine.delinearize_index %[[BLOCK]] into
// CHECK: %[[TID:.*]]:3 = affine.delinearize_index %[[THREAD]] into
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

// A cooperative kernel: its workgroup buffers are views of the block's shared memory (each
// 16-byte aligned), a barrier calls the first service of the thread's table, a shuffle the
// second with the value's bits, offset, width and mode (xor = 0), and gets the value in the
// low 32 bits and the valid flag in bit 32.
// CHECK-LABEL: func.func @catfish_kernel_0_0(
// CHECK-SAME: %[[A:.*]]: memref<256xf32>, %[[DIMS:.*]]: memref<6xi32>, %[[SHARED:.*]]: memref<48xi8>, %[[STATE:.*]]: !llvm.ptr, %{{.*}}: index, %{{.*}}: index)
// CHECK-DAG: memref.view %[[SHARED]][%c0{{.*}}][] : memref<48xi8> to memref<8xf32>
// CHECK-DAG: memref.view %[[SHARED]][%c32{{.*}}][] : memref<48xi8> to memref<2xi64>
// CHECK: %[[BARRIER:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call %[[BARRIER]](%[[STATE]]) : !llvm.ptr, (!llvm.ptr) -> ()
// CHECK: %[[BITS:.*]] = arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[SLOT:.*]] = llvm.getelementptr %[[STATE]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[SHUFFLE:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[PACKED:.*]] = llvm.call %[[SHUFFLE]](%[[STATE]], %[[BITS]], %{{.*}}, %{{.*}}, %c0_i32)
// CHECK: %[[LOW:.*]] = arith.trunci %[[PACKED]] : i64 to i32
// CHECK: arith.bitcast %[[LOW]] : i32 to f32
module attributes {gpu.container_module} {
  gpu.module @catfish_cuda {
    gpu.func @catfish_kernel_0_0(%a: memref<256xf32>) workgroup(%partials : memref<8xf32, #gpu.address_space<workgroup>>, %counts : memref<2xi64, #gpu.address_space<workgroup>>) kernel {
      %c0 = arith.constant 0 : index
      %c1_i32 = arith.constant 1 : i32
      %c32_i32 = arith.constant 32 : i32
      %tid = gpu.thread_id x
      %x = memref.load %a[%tid] : memref<256xf32>
      memref.store %x, %partials[%c0] : memref<8xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %partials[%c0] : memref<8xf32, #gpu.address_space<workgroup>>
      %other, %valid = gpu.shuffle xor %y, %c1_i32, %c32_i32 : f32
      memref.store %other, %a[%tid] : memref<256xf32>
      gpu.return
    }
  }
}

// -----

// What the emulator cannot run is refused at its op: nothing is emulated wrongly.
module attributes {gpu.container_module} {
  gpu.module @catfish_cuda {
    gpu.func @catfish_kernel_0_0(%a: memref<256xf32>) kernel {
      // expected-error @+1 {{the CUDA emulator cannot run 'gpu.lane_id' yet}}
      %lane = gpu.lane_id
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @catfish_cuda {
    // expected-error @+1 {{the CUDA emulator cannot run kernels with private memory attributions yet}}
    gpu.func @catfish_kernel_0_0(%a: memref<256xf32>) private(%tile : memref<4xf32, #gpu.address_space<private>>) kernel {
      gpu.return
    }
  }
}
