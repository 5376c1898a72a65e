// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-partition-tasks))' | FileCheck %s

// Task t of count runs iterations [t * 10 / count, (t + 1) * 10 / count) of the forall.
// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[IN:.*]]: memref<40xf32>, %[[OUT:.*]]: memref<40xf32>, %[[T:.*]]: index, %[[N:.*]]: index)
// CHECK-SAME: attributes {catfish.max_tasks = 10 : i64}
// CHECK-DAG: %[[C10:.*]] = arith.constant 10 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[A:.*]] = arith.muli %[[T]], %[[C10]]
// CHECK: %[[FIRST:.*]] = arith.divui %[[A]], %[[N]]
// CHECK: %[[NEXT:.*]] = arith.addi %[[T]], %[[C1]]
// CHECK: %[[B:.*]] = arith.muli %[[NEXT]], %[[C10]]
// CHECK: %[[END:.*]] = arith.divui %[[B]], %[[N]]
// CHECK: scf.for %[[K:.*]] = %[[FIRST]] to %[[END]] step %[[C1]]
// CHECK:   %[[S:.*]] = arith.muli %[[K]], %{{.*}}
// CHECK:   %[[I:.*]] = arith.addi %[[S]], %{{.*}}
// CHECK:   memref.subview %[[IN]][%[[I]]] [4] [1]
// CHECK-NOT: scf.forall
func.func @split(%in: memref<40xf32>, %out: memref<40xf32>, %task: index, %count: index) {
  scf.forall (%i) = (0) to (40) step (4) {
    %a = memref.subview %in[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %a, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  return
}

// -----

// Work outside the forall would run once per task: the kernel stays one task.
// CHECK-LABEL: func.func @work_outside
// CHECK-NOT: catfish.max_tasks
// CHECK: scf.forall
func.func @work_outside(%in: memref<40xf32>, %out: memref<40xf32>, %task: index, %count: index) {
  memref.copy %in, %out : memref<40xf32> to memref<40xf32>
  %one = arith.constant 1.0 : f32
  scf.forall (%i) = (0) to (40) step (4) {
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    linalg.fill ins(%one : f32) outs(%b : memref<4xf32, strided<[1], offset: ?>>)
  }
  return
}

// -----

// A structured op before the forall that writes only memory the kernel allocates (an im2col
// copy every part reads whole) runs once per task, each into its own buffer: the kernel
// still splits into tasks, and the copy stays before their loop.
// CHECK-LABEL: func.func @task_local_setup
// CHECK-SAME: attributes {catfish.max_tasks = 10 : i64}
// CHECK: %[[BUF:.*]] = memref.alloc() : memref<40xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0 : memref<40xf32>) outs(%[[BUF]] : memref<40xf32>)
// CHECK: scf.for
// CHECK-NOT: scf.forall
func.func @task_local_setup(%in: memref<40xf32>, %out: memref<40xf32>, %task: index, %count: index) {
  %buf = memref.alloc() : memref<40xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%in : memref<40xf32>) outs(%buf : memref<40xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  scf.forall (%i) = (0) to (40) step (4) {
    %a = memref.subview %buf[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %a, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  memref.dealloc %buf : memref<40xf32>
  return
}

// -----

// A structured op before the forall that writes the kernel's output (memory the tasks
// share) keeps the kernel one task.
// CHECK-LABEL: func.func @shared_setup
// CHECK-NOT: catfish.max_tasks
// CHECK: scf.forall
func.func @shared_setup(%in: memref<40xf32>, %out: memref<40xf32>, %task: index, %count: index) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%out : memref<40xf32>)
  scf.forall (%i) = (0) to (40) step (4) {
    %a = memref.subview %in[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %a, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  return
}

// -----

// A product before the forall, even into memory the kernel allocates, would be computed by
// every task: the kernel stays one task.
// CHECK-LABEL: func.func @local_product
// CHECK-NOT: catfish.max_tasks
// CHECK: scf.forall
func.func @local_product(%in: memref<40x8xf32>, %w: memref<8x1xf32>, %out: memref<40xf32>, %task: index, %count: index) {
  %buf = memref.alloc() : memref<40x1xf32>
  linalg.matmul ins(%in, %w : memref<40x8xf32>, memref<8x1xf32>) outs(%buf : memref<40x1xf32>)
  %flat = memref.collapse_shape %buf [[0, 1]] : memref<40x1xf32> into memref<40xf32>
  scf.forall (%i) = (0) to (40) step (4) {
    %a = memref.subview %flat[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %a, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  memref.dealloc %buf : memref<40x1xf32>
  return
}

// -----

// Without the task arguments nothing changes.
// CHECK-LABEL: func.func @no_task_args
// CHECK: scf.forall
func.func @no_task_args(%in: memref<40xf32>, %out: memref<40xf32>) {
  scf.forall (%i) = (0) to (40) step (4) {
    %a = memref.subview %in[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    %b = memref.subview %out[%i] [4] [1] : memref<40xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %a, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  return
}
