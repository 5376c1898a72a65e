// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-lower-vectors))' | FileCheck %s

// A rank-1 transfer becomes a plain vector load.
// CHECK-LABEL: func.func @transfer
// CHECK-NOT: vector.transfer_read
// CHECK: vector.load %{{.*}} : memref<16xf32>, vector<16xf32>
func.func @transfer(%m: memref<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %m[%c0], %pad {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  return %v : vector<16xf32>
}

// -----

// A micro-kernel step (4 x 1 by 1 x 16) becomes one FMA per accumulator row.
// CHECK-LABEL: func.func @contract
// CHECK-NOT: vector.contract
// CHECK-COUNT-4: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
func.func @contract(%a: vector<4x1xf32>, %b: vector<1x16xf32>, %c: vector<4x16xf32>) -> vector<4x16xf32> {
  %r = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                         affine_map<(m, n, k) -> (k, n)>,
                                         affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %a, %b, %c
      : vector<4x1xf32>, vector<1x16xf32> into vector<4x16xf32>
  return %r : vector<4x16xf32>
}
