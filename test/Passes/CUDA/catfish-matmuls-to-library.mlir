// RUN: catfish-opt %s --split-input-file --verify-diagnostics --catfish-matmuls-to-library | FileCheck %s

#a = affine_map<(b, m, n, k) -> (b, m, k)>
#bt = affine_map<(b, m, n, k) -> (n, k)>
#c = affine_map<(b, m, n, k) -> (b, m, n)>

// Activations [2, 3, 8] times a weight [5, 8] used transposed (as Gemm transB=1 and
// torch.nn.Linear write it): the weight is shared by the batch, so the batch folds into the
// rows (m = 6); the zeros fill becomes beta = 0; one call of the step's buffers.
// CHECK: func.func private @catfish_cuda_matmul_0(memref<2x3x8xf32>, memref<5x8xf32>, memref<2x3x5xf32>)
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK-NOT: linalg.
// CHECK: call @catfish_cuda_matmul_0(%arg0, %arg1, %arg2) {catfish.matmul = {alpha = 1.000000e+00 : f32, batch = 1 : i64, beta = 0.000000e+00 : f32, k = 8 : i64, lda = 8 : i64, ldb = 8 : i64, ldc = 5 : i64, m = 6 : i64, n = 5 : i64, offset_a = 0 : i64, offset_b = 0 : i64, offset_c = 0 : i64, stride_a = 0 : i64, stride_b = 0 : i64, stride_c = 0 : i64, transpose_a = false, transpose_b = true}}
func.func @catfish_kernel_0(%x: memref<2x3x8xf32>, %w: memref<5x8xf32>, %y: memref<2x3x5xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind gemm>} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<2x3x5xf32>)
  linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<2x3x8xf32>, memref<5x8xf32>) outs(%y : memref<2x3x5xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %prod = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

#a = affine_map<(e, h, m, n, k) -> (e, 0, m, k)>
#b = affine_map<(e, h, m, n, k) -> (e, h, k, n)>
#c = affine_map<(e, h, m, n, k) -> (e, h, m, n)>

// A broadcast over the inner batch dim only (A [3, 1, 2, 4] against B [3, 2, 4, 6]): the
// inner dim is a strided batch with A's stride 0; the outer one takes a call per index, at
// offsets. A constant operand is copied into a temporary first.
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: %[[COPY:.*]] = memref.alloc() : memref<3x1x2x4xf32>
// CHECK: linalg.copy ins(%{{.*}} : memref<3x1x2x4xf32>) outs(%[[COPY]] : memref<3x1x2x4xf32>)
// CHECK: call @catfish_cuda_matmul_0(%[[COPY]], %arg0, %arg1) {catfish.matmul = {{{.*}}batch = 2 : i64{{.*}}offset_a = 0 : i64, offset_b = 0 : i64, offset_c = 0 : i64, stride_a = 0 : i64, stride_b = 24 : i64, stride_c = 12 : i64
// CHECK: call @catfish_cuda_matmul_0(%[[COPY]], %arg0, %arg1) {catfish.matmul = {{{.*}}offset_a = 8 : i64, offset_b = 48 : i64, offset_c = 24 : i64
// CHECK: call @catfish_cuda_matmul_0(%[[COPY]], %arg0, %arg1) {catfish.matmul = {{{.*}}offset_a = 16 : i64, offset_b = 96 : i64, offset_c = 48 : i64
memref.global "private" constant @tokens : memref<3x1x2x4xf32> = dense<1.0>
func.func @catfish_kernel_0(%w: memref<3x2x4x6xf32>, %y: memref<3x2x2x6xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind gemm>} {
  %zero = arith.constant 0.0 : f32
  %x = memref.get_global @tokens : memref<3x1x2x4xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<3x2x2x6xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : memref<3x1x2x4xf32>, memref<3x2x4x6xf32>) outs(%y : memref<3x2x2x6xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %prod = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// A convolution as im2col and a GEMM: the output holds the bias already, so the product adds
// to it (beta = 1); the summed loops (channels, kernel rows and columns) fold into one k; the
// im2col temporary is an operand (catfish-scratch-buffers makes it a scratch buffer).
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK: %[[COLUMNS:.*]] = memref.alloc() : memref<2x3x3x16xf32>
// CHECK: call @catfish_cuda_matmul_0(%arg0, %[[COLUMNS]], %arg1) {catfish.matmul = {alpha = 1.000000e+00 : f32, batch = 1 : i64, beta = 1.000000e+00 : f32, k = 18 : i64, lda = 18 : i64, ldb = 16 : i64, ldc = 16 : i64, m = 4 : i64, n = 16 : i64
func.func @catfish_kernel_0(%w: memref<4x2x3x3xf32>, %y: memref<4x16xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind conv>} {
  %columns = memref.alloc() : memref<2x3x3x16xf32>
  linalg.generic {indexing_maps = [affine_map<(f, p, c, i, j) -> (f, c, i, j)>, affine_map<(f, p, c, i, j) -> (c, i, j, p)>, affine_map<(f, p, c, i, j) -> (f, p)>], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%w, %columns : memref<4x2x3x3xf32>, memref<2x3x3x16xf32>) outs(%y : memref<4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %prod = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// A sum that is not one product of two operands is refused in a GEMM region.
func.func @catfish_kernel_0(%x: memref<3x8xf32>, %w: memref<8x5xf32>, %y: memref<3x5xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind gemm>} {
  // expected-error @+1 {{the CUDA target cannot hand this GEMM to cuBLASLt: it is not one sum of products of two operands}}
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<3x8xf32>, memref<8x5xf32>) outs(%y : memref<3x5xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %prod = arith.subf %p, %q : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// f16 (and bf16) GEMMs are cuBLASLt calls too; the plan records the element type through the
// operands' types and the runtime asks for f32 accumulation.
// CHECK-LABEL: func.func @catfish_kernel_0(%arg0: memref<3x8xf16>
// CHECK: call @catfish_cuda_matmul_0(%arg0, %arg1, %arg2) {catfish.matmul = {alpha = 1.000000e+00 : f32, batch = 1 : i64, beta = 0.000000e+00 : f32, k = 8 : i64
// CHECK-SAME: : (memref<3x8xf16>, memref<8x5xf16>, memref<3x5xf16>) -> ()
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

func.func @catfish_kernel_0(%x: memref<3x8xf16>, %w: memref<8x5xf16>, %y: memref<3x5xf16>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind gemm>} {
  %zero = arith.constant 0.0 : f16
  linalg.fill ins(%zero : f16) outs(%y : memref<3x5xf16>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<3x8xf16>, memref<8x5xf16>) outs(%y : memref<3x5xf16>) {
  ^bb0(%p: f16, %q: f16, %acc: f16):
    %prod = arith.mulf %p, %q : f16
    %sum = arith.addf %acc, %prod : f16
    linalg.yield %sum : f16
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

func.func @catfish_kernel_0(%x: memref<3x8xf64>, %w: memref<8x5xf64>, %y: memref<3x5xf64>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind gemm>} {
  // expected-error @+1 {{only f32, f16 and bf16 GEMMs (all operands one type, f32 accumulation) are built so far, got 'f64'}}
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<3x8xf64>, memref<8x5xf64>) outs(%y : memref<3x5xf64>) {
  ^bb0(%p: f64, %q: f64, %acc: f64):
    %prod = arith.mulf %p, %q : f64
    %sum = arith.addf %acc, %prod : f64
    linalg.yield %sum : f64
  }
  return
}

// -----

#w = affine_map<(n, o, h, x, i, kh, kw) -> (o, i, kh, kw)>
#x = affine_map<(n, o, h, x, i, kh, kw) -> (n, i, h, x)>
#y = affine_map<(n, o, h, x, i, kh, kw) -> (n, o, h, x)>

// A 1x1 convolution as the TorchScript exporter writes it (ResNet's bottlenecks): the window
// loops of range 1 index only the weight's unit dims and drop out; the weight [4, 8] times the
// image [8, 9] is one call with m = 4, n = 9, k = 8 (a batch of 1, whose strides do not
// matter).
// CHECK-LABEL: func.func @catfish_kernel_0
// CHECK-NOT: linalg.generic
// CHECK: call @catfish_cuda_matmul_0(%{{.*}}, %arg0, %arg1) {catfish.matmul = {alpha = 1.000000e+00 : f32, batch = 1 : i64, beta = 0.000000e+00 : f32, k = 8 : i64, lda = 8 : i64, ldb = 9 : i64, ldc = 9 : i64, m = 4 : i64, n = 9 : i64, offset_a = 0 : i64, offset_b = 0 : i64, offset_c = 0 : i64, stride_a = 0 : i64, stride_b = 72 : i64, stride_c = 36 : i64, transpose_a = false, transpose_b = false}}
memref.global "private" constant @weight : memref<4x8x1x1xf32> = dense<1.0>
func.func @catfish_kernel_0(%image: memref<1x8x3x3xf32>, %out: memref<1x4x3x3xf32>, %t: index, %n: index) attributes {catfish.kind = #catfish<fusion_kind conv>} {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @weight : memref<4x8x1x1xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<1x4x3x3xf32>)
  linalg.generic {indexing_maps = [#w, #x, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%w, %image : memref<4x8x1x1xf32>, memref<1x8x3x3xf32>) outs(%out : memref<1x4x3x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %prod = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %prod : f32
    linalg.yield %sum : f32
  }
  return
}
