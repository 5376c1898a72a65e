// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-attention-to-gpu --canonicalize --cse | FileCheck %s

// f16 grouped-query attention (4 query heads on 2 key heads), causal, with a boolean mask
// broadcast over batch and heads. 40 queries: four rows per warp, 16 to a block of four warps,
// 3 blocks per head; 100 keys: tiles of 32 through shared memory (K rows padded to 49), each
// lane scoring one key; xor shuffles give the tile's max and sum; the running max, sum and
// this lane's two output columns (lane, lane + 32) are carried across tiles; idx shuffles hand
// each key's weight to the lanes accumulating V. Causal blocks stop at their last row's tile.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c12, %c1, %c1) threads in (%c128, %c1, %c1) args(%arg0 : memref<1x4x40x48xf16>, %arg1 : memref<1x2x100x48xf16>, %arg2 : memref<1x2x100x48xf16>, %arg3 : memref<40x100xi1>, %arg4 : memref<1x4x40x48xf16>) {catfish.cooperative, catfish.static_shared_bytes = 15488 : i64}
// CHECK-NEXT: return
// CHECK: gpu.func @catfish_kernel_0_0(%[[Q:[^:]*]]: memref<1x4x40x48xf16> {{.*}}, %[[K:[^:]*]]: memref<1x2x100x48xf16> {{.*}}, %[[V:[^:]*]]: memref<1x2x100x48xf16> {{.*}}, %[[M:[^:]*]]: memref<40x100xi1> {{.*}}, %[[OUT:[^:]*]]: memref<1x4x40x48xf16> {{.*}}) workgroup(%[[QS:.*]] : memref<16x48xf32, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<32x49xf32, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<32x48xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: %[[HEAD:.*]] = arith.remui %{{.*}}, %c4 : index
// CHECK: %[[KVHEAD:.*]] = arith.divui %[[HEAD]], %c2 : index
// CHECK: memref.load %[[Q]]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: memref.store %{{.*}}, %[[QS]]
// CHECK: %[[TILES:.*]] = arith.minui %{{.*}}, %c4 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[TILES]] step %c1 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: memref.load %[[K]][%{{.*}}, %[[KVHEAD]], %{{.*}}, %{{.*}}]
// CHECK: memref.store %{{.*}}, %[[KS]]
// CHECK: memref.load %[[V]][%{{.*}}, %[[KVHEAD]], %{{.*}}, %{{.*}}]
// CHECK: memref.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: math.fma
// CHECK: %[[KEEP:.*]] = memref.load %[[M]]
// CHECK: arith.select %[[KEEP]]
// CHECK: arith.cmpi ule
// CHECK-COUNT-5: gpu.shuffle xor {{.*}} : f32
// CHECK: math.exp
// CHECK: math.exp
// CHECK-COUNT-5: gpu.shuffle xor {{.*}} : f32
// CHECK: scf.for {{.*}} -> (f32, f32)
// CHECK: gpu.shuffle idx
// CHECK: memref.load %[[VS]]
// CHECK: gpu.barrier
// CHECK-NEXT: scf.yield
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %{{.*}}, %[[OUT]]
func.func @catfish_kernel_0(%q: memref<1x4x40x48xf16>, %k: memref<1x2x100x48xf16>, %v: memref<1x2x100x48xf16>, %m: memref<40x100xi1>, %out: memref<1x4x40x48xf16>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind attention>} {
  %0 = bufferization.to_tensor %q restrict : memref<1x4x40x48xf16> to tensor<1x4x40x48xf16>
  %1 = bufferization.to_tensor %k restrict : memref<1x2x100x48xf16> to tensor<1x2x100x48xf16>
  %2 = bufferization.to_tensor %v restrict : memref<1x2x100x48xf16> to tensor<1x2x100x48xf16>
  %3 = bufferization.to_tensor %m restrict : memref<40x100xi1> to tensor<40x100xi1>
  %4 = catfish.attention %0, %1, %2, %3 {is_causal = true, scale = 0.125 : f32} : (tensor<1x4x40x48xf16>, tensor<1x2x100x48xf16>, tensor<1x2x100x48xf16>, tensor<40x100xi1>) -> tensor<1x4x40x48xf16>
  bufferization.materialize_in_destination %4 in restrict writable %out : (tensor<1x4x40x48xf16>, memref<1x4x40x48xf16>) -> ()
  return
}

// -----

// Decode: one query row, so one row per warp (4 to a block); an additive f32 bias per head,
// a softcap; V's head dim (40) is not a multiple of 32, so the second column is clamped for
// the load and guarded for the store. No causal cut: all 3 tiles of 70 keys.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c2, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK: gpu.func @catfish_kernel_0_0({{.*}}%[[BIAS:[^:]*]]: memref<1x2x1x70xf32> {{.*}}) workgroup(%{{.*}} : memref<4x64xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x65xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x40xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK: %[[B:.*]] = memref.load %[[BIAS]][%c0, %{{.*}}, %c0, %{{.*}}]
// CHECK: arith.addf %{{.*}}, %[[B]]
// CHECK: math.tanh
// CHECK-NOT: arith.cmpi ule
// CHECK: gpu.shuffle xor
// CHECK: arith.minui %{{.*}}, %c39
// CHECK: scf.if
// CHECK: memref.store
func.func @catfish_kernel_0(%q: memref<1x2x1x64xf32>, %k: memref<1x2x70x64xf32>, %v: memref<1x2x70x40xf32>, %bias: memref<1x2x1x70xf32>, %out: memref<1x2x1x40xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind attention>} {
  %0 = bufferization.to_tensor %q restrict : memref<1x2x1x64xf32> to tensor<1x2x1x64xf32>
  %1 = bufferization.to_tensor %k restrict : memref<1x2x70x64xf32> to tensor<1x2x70x64xf32>
  %2 = bufferization.to_tensor %v restrict : memref<1x2x70x40xf32> to tensor<1x2x70x40xf32>
  %3 = bufferization.to_tensor %bias restrict : memref<1x2x1x70xf32> to tensor<1x2x1x70xf32>
  %4 = catfish.attention %0, %1, %2, %3 {is_causal = false, scale = 0.125 : f32, softcap = 5.0 : f32} : (tensor<1x2x1x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x40xf32>, tensor<1x2x1x70xf32>) -> tensor<1x2x1x40xf32>
  bufferization.materialize_in_destination %4 in restrict writable %out : (tensor<1x2x1x40xf32>, memref<1x2x1x40xf32>) -> ()
  return
}

// -----

func.func @catfish_kernel_0(%q: memref<1x2x8x256xf32>, %k: memref<1x2x8x256xf32>, %v: memref<1x2x8x256xf32>, %out: memref<1x2x8x256xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind attention>} {
  %0 = bufferization.to_tensor %q restrict : memref<1x2x8x256xf32> to tensor<1x2x8x256xf32>
  %1 = bufferization.to_tensor %k restrict : memref<1x2x8x256xf32> to tensor<1x2x8x256xf32>
  %2 = bufferization.to_tensor %v restrict : memref<1x2x8x256xf32> to tensor<1x2x8x256xf32>
  // expected-error @+1 {{the CUDA flash-attention kernel takes head dims up to 128, got 256 (Q, K) and 256 (V)}}
  %3 = catfish.attention %0, %1, %2 {is_causal = false, scale = 0.0625 : f32} : (tensor<1x2x8x256xf32>, tensor<1x2x8x256xf32>, tensor<1x2x8x256xf32>) -> tensor<1x2x8x256xf32>
  bufferization.materialize_in_destination %3 in restrict writable %out : (tensor<1x2x8x256xf32>, memref<1x2x8x256xf32>) -> ()
  return
}

// -----

func.func @catfish_kernel_0(%q: memref<1x2x8x16xf64>, %k: memref<1x2x8x16xf64>, %v: memref<1x2x8x16xf64>, %out: memref<1x2x8x16xf64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind attention>} {
  %0 = bufferization.to_tensor %q restrict : memref<1x2x8x16xf64> to tensor<1x2x8x16xf64>
  %1 = bufferization.to_tensor %k restrict : memref<1x2x8x16xf64> to tensor<1x2x8x16xf64>
  %2 = bufferization.to_tensor %v restrict : memref<1x2x8x16xf64> to tensor<1x2x8x16xf64>
  // expected-error @+1 {{the CUDA flash-attention kernel takes f32, f16 and bf16, got 'f64'}}
  %3 = catfish.attention %0, %1, %2 {is_causal = false, scale = 0.25 : f32} : (tensor<1x2x8x16xf64>, tensor<1x2x8x16xf64>, tensor<1x2x8x16xf64>) -> tensor<1x2x8x16xf64>
  bufferization.materialize_in_destination %3 in restrict writable %out : (tensor<1x2x8x16xf64>, memref<1x2x8x16xf64>) -> ()
  return
}

// -----

// expected-error @+1 {{an attention region must hold exactly one catfish.attention}}
func.func @catfish_kernel_0(%a: memref<4x4xf32>, %r: memref<4x4xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind attention>} {
  return
}
