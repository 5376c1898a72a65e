// RUN: catfish-opt %s --pass-pipeline='builtin.module(gpu.module(catfish-expand-gpu-math))' | FileCheck %s

// trunc through floor and ceil; ipowi as square-and-multiply over the 32 bits of the exponent,
// with the negative-exponent cases apart; absi as a select (T5's relative position buckets).
// Nothing is left that NVVM cannot lower.
// CHECK-LABEL: gpu.func @kernel
// CHECK-NOT: math.trunc
// CHECK-NOT: math.ipowi
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[X:.*]], %{{.*}} : f32
// CHECK: %[[CEIL:.*]] = math.ceil %[[X]] : f32
// CHECK: %[[FLOOR:.*]] = math.floor %[[X]] : f32
// CHECK: arith.select %[[NEG]], %[[CEIL]], %[[FLOOR]] : f32
// CHECK: %[[POW:.*]]:3 = scf.for %{{.*}} = %c0{{.*}} to %c32 step %c1 iter_args(%[[R:.*]] = %c1_i32, %[[P:.*]] = %[[B:.*]], %[[E:.*]] = %{{.*}}) -> (i32, i32, i32)
// CHECK: arith.muli %[[R]], %[[P]]
// CHECK: arith.muli %[[P]], %[[P]]
// CHECK: arith.shrui %[[E]], %c1_i32
// CHECK: %[[NEGATIVE:.*]] = arith.cmpi slt
// CHECK: arith.select %[[NEGATIVE]], %{{.*}}, %[[POW]]#0 : i32
// CHECK: %[[BELOW:.*]] = arith.cmpi slt, %[[A:.*]], %{{.*}} : i64
// CHECK: %[[MINUS:.*]] = arith.subi %{{.*}}, %[[A]] : i64
// CHECK: arith.select %[[BELOW]], %[[MINUS]], %[[A]] : i64
// CHECK-NOT: math.trunc
// CHECK-NOT: math.ipowi
// CHECK-NOT: math.absi
gpu.module @catfish_cuda {
  gpu.func @kernel(%x: f32, %b: i32, %e: i32, %a: i64, %out: memref<2xf32>, %iout: memref<1xi32>,
                   %aout: memref<1xi64>) kernel {
    %c0 = arith.constant 0 : index
    %t = math.trunc %x : f32
    memref.store %t, %out[%c0] : memref<2xf32>
    %p = math.ipowi %b, %e : i32
    memref.store %p, %iout[%c0] : memref<1xi32>
    %abs = math.absi %a : i64
    memref.store %abs, %aout[%c0] : memref<1xi64>
    gpu.return
  }
}
