// The CPU pipeline, stage by stage, on a kernel module as catfish-outline-kernels fills it.
// RUN: catfish-opt %s --pass-pipeline='builtin.module(catfish-cpu-codegen{stop-after=linalg})' | FileCheck %s --check-prefix=LINALG
// RUN: catfish-opt %s --pass-pipeline='builtin.module(catfish-cpu-codegen{stop-after=tiled task-min-work=256})' | FileCheck %s --check-prefix=TILED
// RUN: catfish-opt %s --pass-pipeline='builtin.module(catfish-cpu-codegen{stop-after=bufferized task-min-work=256})' | FileCheck %s --check-prefix=BUF
// RUN: catfish-opt %s --pass-pipeline='builtin.module(catfish-cpu-codegen{stop-after=loops task-min-work=256})' | FileCheck %s --check-prefix=LOOPS
// RUN: catfish-opt %s --pass-pipeline='builtin.module(catfish-cpu-codegen{task-min-work=256})' | FileCheck %s --check-prefix=LLVM

// The add and the relu become one generic on tensors.
// LINALG-LABEL: func.func @catfish_kernel_0
// LINALG: linalg.generic
// LINALG: arith.addf
// LINALG: arith.maximumf
// LINALG-NOT: linalg.generic

// With parts of at least 256 iterations, the 64x64 result splits into parts of 4 rows.
// TILED: scf.forall (%{{.*}}) = (0) to (64) step (4)

// BUF-NOT: tensor<
// BUF: scf.forall

// Each task runs a share of the 16 parts.
// LOOPS: catfish.max_tasks = 16
// LOOPS-NOT: scf.forall
// LOOPS: cf.br

// LLVM: llvm.func @catfish_kernel_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// LLVM-SAME: catfish.kind = #catfish<fusion_kind generated>
// LLVM-SAME: catfish.max_tasks = 16
func.func @catfish_kernel_0(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %r: memref<64x64xf32>,
                            %task: index, %count: index) attributes {catfish.kind = #catfish<fusion_kind generated>} {
  %x = bufferization.to_tensor %a restrict : memref<64x64xf32> to tensor<64x64xf32>
  %y = bufferization.to_tensor %b restrict : memref<64x64xf32> to tensor<64x64xf32>
  %s = catfish.add %x, %y : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %t = catfish.relu %s : (tensor<64x64xf32>) -> tensor<64x64xf32>
  bufferization.materialize_in_destination %t in restrict writable %r : (tensor<64x64xf32>, memref<64x64xf32>) -> ()
  return
}
