// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-form-fusions))' | FileCheck %s
// RUN: catfish-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(catfish-form-fusions{fuse=false}))' | FileCheck %s --check-prefix=NOFUSE

// An elementwise chain with a broadcast bias becomes one region; splat and small constants
// are copied in, function arguments (and weights) are region inputs.
// CHECK-LABEL: func.func @chain
// CHECK: catfish.fusion generated(%arg0, %arg1)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x128xf32>, %[[Y:.*]]: tensor<4x128xf32>):
// CHECK-NEXT: %[[B:.*]] = catfish.constant dense<2.000000e+00> : tensor<128xf32>
// CHECK-NEXT: %[[A:.*]] = catfish.add %[[X]], %[[B]]
// CHECK-NEXT: %[[M:.*]] = catfish.mul %[[A]], %[[Y]]
// CHECK-NEXT: %[[R:.*]] = catfish.relu %[[M]]
// CHECK-NEXT: catfish.yield %[[R]]
// CHECK-NOT: catfish.fusion
// NOFUSE-LABEL: func.func @chain
// NOFUSE-COUNT-3: catfish.fusion generated
func.func @chain(%x: tensor<4x128xf32>, %w: tensor<4x128xf32>) -> tensor<4x128xf32> {
  %b = catfish.constant dense<2.0> : tensor<128xf32>
  %a = catfish.add %x, %b : (tensor<4x128xf32>, tensor<128xf32>) -> tensor<4x128xf32>
  %m = catfish.mul %a, %w : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
  %r = catfish.relu %m : (tensor<4x128xf32>) -> tensor<4x128xf32>
  return %r : tensor<4x128xf32>
}

// -----

// A value with two consumers in different regions is not duplicated: it gets its own region.
// CHECK-LABEL: func.func @two_consumers
// CHECK: %[[E:.*]] = catfish.fusion generated(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.exp
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion gemm(%[[E]], %arg1)
// CHECK: catfish.fusion generated(%[[E]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.neg
func.func @two_consumers(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %e = catfish.exp %x : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %m = catfish.matmul %e, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %n = catfish.neg %e : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m, %n : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Elementwise producers and a transpose fuse into a following reduction; a reduction feeding
// a reduction over another axis does not fuse with it.
// CHECK-LABEL: func.func @reductions
// CHECK: %[[R1:.*]] = catfish.fusion generated(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.transpose
// CHECK-NEXT: catfish.mul
// CHECK-NEXT: catfish.reduce
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion generated(%[[R1]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.reduce
// CHECK-NEXT: catfish.yield
func.func @reductions(%x: tensor<8x4xf32>) -> tensor<1x1xf32> {
  %t = catfish.transpose %x {perm = array<i64: 1, 0>} : (tensor<8x4xf32>) -> tensor<4x8xf32>
  %sq = catfish.mul %t, %t : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %r1 = catfish.reduce %sq {axes = array<i64: 1>, keepdims = true, kind = #catfish<reduce sum>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %r2 = catfish.reduce %r1 {axes = array<i64: 0>, keepdims = true, kind = #catfish<reduce max>} : (tensor<4x1xf32>) -> tensor<1x1xf32>
  return %r2 : tensor<1x1xf32>
}

// -----

// Matmul and softmax each get a region of their own; the scale fuses into softmax. The reshape
// that no region takes stays outside as a view: no kernel computes it.
// CHECK-LABEL: func.func @attention_scores
// CHECK: catfish.fusion gemm
// CHECK: %[[P:.*]] = catfish.fusion generated
// CHECK-NEXT: ^bb0
// CHECK: catfish.mul
// CHECK-NEXT: catfish.softmax
// CHECK: %[[SHAPE:.*]] = catfish.constant dense<[16, 8]>
// CHECK-NEXT: %[[R:.*]] = catfish.reshape %[[P]], %[[SHAPE]]
// CHECK-NEXT: return %[[R]]
func.func @attention_scores(%q: tensor<2x8x16xf32>, %k: tensor<2x16x8xf32>) -> tensor<16x8xf32> {
  %s = catfish.matmul %q, %k : (tensor<2x8x16xf32>, tensor<2x16x8xf32>) -> tensor<2x8x8xf32>
  %c = catfish.constant dense<0.25> : tensor<f32>
  %m = catfish.mul %s, %c : (tensor<2x8x8xf32>, tensor<f32>) -> tensor<2x8x8xf32>
  %p = catfish.softmax %m {axis = -1 : i64} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %shape = catfish.constant dense<[16, 8]> : tensor<2xi64>
  %r = catfish.reshape %p, %shape : (tensor<2x8x8xf32>, tensor<2xi64>) -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

// The heads split after a projection: the bias add and the reshape join the transpose's region
// (the reshape is a view there), and so does a reshape feeding an elementwise op; a reshape
// feeding a matmul stays outside, a view of the transpose's result.
// CHECK-LABEL: func.func @heads_split
// CHECK: %[[T:.*]] = catfish.fusion generated(%arg0, %arg1)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.add
// CHECK-NEXT: catfish.constant
// CHECK-NEXT: catfish.reshape
// CHECK-NEXT: catfish.transpose
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion generated(%arg2)
// CHECK-NEXT: ^bb0
// CHECK: catfish.reshape
// CHECK-NEXT: catfish.neg
// CHECK-NEXT: catfish.yield
// CHECK: %[[R:.*]] = catfish.reshape %[[T]]
// CHECK: catfish.fusion gemm(%[[R]], %arg3)
func.func @heads_split(%x: tensor<8x64xf32>, %b: tensor<64xf32>, %m: tensor<8xf32>, %w: tensor<16x4xf32>) -> (tensor<4x8x16xf32>, tensor<1x8xf32>, tensor<32x4xf32>) {
  %a = catfish.add %x, %b : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %s = catfish.constant dense<[8, 4, 16]> : tensor<3xi64>
  %r = catfish.reshape %a, %s : (tensor<8x64xf32>, tensor<3xi64>) -> tensor<8x4x16xf32>
  %t = catfish.transpose %r {perm = array<i64: 1, 0, 2>} : (tensor<8x4x16xf32>) -> tensor<4x8x16xf32>
  %s1 = catfish.constant dense<[1, 8]> : tensor<2xi64>
  %u = catfish.reshape %m, %s1 : (tensor<8xf32>, tensor<2xi64>) -> tensor<1x8xf32>
  %n = catfish.neg %u : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %s2 = catfish.constant dense<[32, 16]> : tensor<2xi64>
  %f = catfish.reshape %t, %s2 : (tensor<4x8x16xf32>, tensor<2xi64>) -> tensor<32x16xf32>
  %y = catfish.matmul %f, %w : (tensor<32x16xf32>, tensor<16x4xf32>) -> tensor<32x4xf32>
  return %t, %n, %y : tensor<4x8x16xf32>, tensor<1x8xf32>, tensor<32x4xf32>
}

// -----

// A matmul takes its elementwise epilogue (bias, activation, residual) into its gemm region;
// the op producing its input stays out (nothing joins before a
// contraction), and a matmul feeding a norm or a convolution feeding a ReLU keep regions of
// their own.
// CHECK-LABEL: func.func @epilogues
// CHECK: %[[E:.*]] = catfish.fusion generated(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.exp
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion gemm(%[[E]], %arg1, %arg2, %arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.matmul
// CHECK-NEXT: catfish.add
// CHECK-NEXT: catfish.tanh
// CHECK-NEXT: catfish.add
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion gemm(%arg0, %arg1)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.matmul
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion generated
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.layer_norm
// CHECK: catfish.fusion conv
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.conv
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion generated
// CHECK-NEXT: ^bb0
// CHECK-NEXT: catfish.relu
func.func @epilogues(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>, %img: tensor<1x1x4x4xf32>, %k: tensor<2x1x1x1xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<1x2x4x4xf32>) {
  %e = catfish.exp %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = catfish.matmul %e, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %a = catfish.add %m, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %t = catfish.tanh %a : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = catfish.add %t, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %m2 = catfish.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %n = catfish.layer_norm %m2, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %c = catfish.conv %img, %k {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = catfish.relu %c : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %r, %n, %y : tensor<4x8xf32>, tensor<4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// A slice is a view like a reshape: the slices of a merged Q/K projection join the regions of
// the ops that read them, and the product keeps a gemm region of its own.
// CHECK-LABEL: func.func @merged_projection
// CHECK: %[[P:.*]] = catfish.fusion gemm(%arg0, %arg1)
// CHECK: catfish.fusion generated(%[[P]], %arg2)
// CHECK-NEXT: ^bb0
// CHECK: catfish.slice
// CHECK-NEXT: catfish.add
// CHECK-NEXT: catfish.yield
// CHECK: catfish.fusion generated(%[[P]])
// CHECK-NEXT: ^bb0
// CHECK: catfish.slice
// CHECK-NEXT: catfish.neg
// CHECK-NEXT: catfish.yield
func.func @merged_projection(%x: tensor<4x8xf32>, %w: tensor<8x24xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x8xf32>) {
  %p = catfish.matmul %x, %w : (tensor<4x8xf32>, tensor<8x24xf32>) -> tensor<4x24xf32>
  %axis = catfish.constant dense<1> : tensor<1xi64>
  %s0 = catfish.constant dense<0> : tensor<1xi64>
  %e0 = catfish.constant dense<16> : tensor<1xi64>
  %e1 = catfish.constant dense<24> : tensor<1xi64>
  %q = catfish.slice %p, %s0, %e0, %axis {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<4x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x16xf32>
  %k = catfish.slice %p, %e0, %e1, %axis {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<4x24xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  %qb = catfish.add %q, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %kn = catfish.neg %k : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %qb, %kn : tensor<4x16xf32>, tensor<4x8xf32>
}

// -----

// A splat GEMM operand (MatMul of ConstantOfShape) stays an input of the GEMM's region: inlined,
// it would fold into the product's body, which cuBLASLt could then not compute. The small
// dense weight is inlined as usual.
// CHECK-LABEL: func.func @splat_gemm_operand
// CHECK: %[[SPLAT:.*]] = catfish.constant dense<5.000000e-01> : tensor<2x5xf32>
// CHECK: catfish.fusion gemm(%[[SPLAT]], %arg0)
// CHECK-NEXT: ^bb0(%{{.*}}: tensor<2x5xf32>, %{{.*}}: tensor<2x4xf32>):
// CHECK-NEXT: catfish.constant dense<{{\[}}[1.000000e+00, {{.*}}]]> : tensor<5x4xf32>
// CHECK-NEXT: catfish.matmul
func.func @splat_gemm_operand(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %z = catfish.constant dense<0.5> : tensor<2x5xf32>
  %w = catfish.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0], [17.0, 18.0, 19.0, 20.0]]> : tensor<5x4xf32>
  %p = catfish.matmul %z, %w : (tensor<2x5xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  %y = catfish.add %p, %x : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A loop body gets regions of its own: the producer outside the loop stays apart from the
// body's ops that read it (a region never crosses the loop's boundary), and the body's
// elementwise chain is one region.
// CHECK-LABEL: func.func @loop_body
// CHECK: %[[D:.*]] = catfish.fusion generated(%arg1)
// CHECK: catfish.loop(%arg0 : tensor<i64>) iter_args(%arg1 : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%{{.*}}: tensor<i64>, %[[C:.*]]: tensor<i1>, %[[V:.*]]: tensor<2xf32>):
// CHECK-NEXT: %[[N:.*]] = catfish.fusion generated(%[[V]], %[[D]])
// CHECK: catfish.add
// CHECK-NEXT: catfish.relu
// CHECK-NEXT: catfish.yield
// CHECK: catfish.yield %[[C]], %[[N]]
// NOFUSE-LABEL: func.func @loop_body
// NOFUSE: catfish.fusion generated
// NOFUSE: catfish.loop
// NOFUSE-COUNT-2: catfish.fusion generated
func.func @loop_body(%n: tensor<i64>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %d = catfish.neg %x : (tensor<2xf32>) -> tensor<2xf32>
  %r = catfish.loop(%n : tensor<i64>) iter_args(%x : tensor<2xf32>) -> (tensor<2xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>):
    %s = catfish.add %v, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %t = catfish.relu %s : (tensor<2xf32>) -> tensor<2xf32>
    catfish.yield %c, %t : tensor<i1>, tensor<2xf32>
  }
  return %r : tensor<2xf32>
}
