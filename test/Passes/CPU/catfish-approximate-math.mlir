// RUN: catfish-opt %s --split-input-file --catfish-approximate-math | FileCheck %s

// f32 exp becomes a polynomial (no call, no math.exp left).
// CHECK-LABEL: func.func @exp
// CHECK-NOT: math.exp
// CHECK: math.fma
func.func @exp(%x: f32) -> f32 {
  %y = math.exp %x : f32
  return %y : f32
}

// -----

// f16 tanh is computed in f32 and rounded back.
// CHECK-LABEL: func.func @tanh_f16
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: math.tanh
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @tanh_f16(%x: f16) -> f16 {
  %y = math.tanh %x : f16
  return %y : f16
}

// -----

// f64 has no approximation: it stays for convert-math-to-libm.
// CHECK-LABEL: func.func @exp_f64
// CHECK: math.exp %{{.*}} : f64
func.func @exp_f64(%x: f64) -> f64 {
  %y = math.exp %x : f64
  return %y : f64
}

// -----

// powf by a constant 3 (GELU's tanh form) is two products, by 0.5 a square root; by a
// run-time exponent it stays for libm.
// CHECK-LABEL: func.func @pow
// CHECK-NOT: math.powf %{{.*}}, %{{.*}} : f32
// CHECK: %[[SQUARE:.*]] = arith.mulf %arg0, %arg0 : f32
// CHECK: arith.mulf %arg0, %[[SQUARE]] : f32
// CHECK: math.sqrt %arg0 : f32
// CHECK: math.powf %arg0, %arg1 : f32
func.func @pow(%x: f32, %e: f32) -> (f32, f32, f32) {
  %three = arith.constant 3.0 : f32
  %half = arith.constant 0.5 : f32
  %cube = math.powf %x, %three : f32
  %root = math.powf %x, %half : f32
  %any = math.powf %x, %e : f32
  return %cube, %root, %any : f32, f32, f32
}
