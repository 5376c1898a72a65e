// RUN: catfish-opt %s -split-input-file -verify-diagnostics

// Ops whose verification or result type inference rejects them. Inference failures report
// the reason first, then MLIR's generic 'failed to infer returned types'.

func.func @add_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+2 {{shapes [2, 3] and [4, 3] are not broadcast-compatible (dim 0: 2 vs 4)}}
  // expected-error @+1 {{'catfish.add' op failed to infer returned types}}
  %0 = catfish.add %a, %b : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @add_element_types_differ(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) -> tensor<2x3xf32> {
  // expected-error @+2 {{operand element types differ: 'f32' vs 'f16'}}
  // expected-error @+1 {{'catfish.add' op failed to infer returned types}}
  %0 = catfish.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @add_result_contradicts_inference(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{'catfish.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{'catfish.add' op failed to infer returned types}}
  %0 = catfish.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @select_branch_types_differ(%c: tensor<4xi1>, %t: tensor<4xf32>, %f: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+2 {{branches have different element types: 'f32' vs 'f16'}}
  // expected-error @+1 {{'catfish.select' op failed to infer returned types}}
  %0 = catfish.select %c, %t, %f : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @cast_changes_shape(%x: tensor<4xf32>) -> tensor<5xf16> {
  // expected-error @+1 {{'catfish.cast' op requires the same shape for all operands and results}}
  %0 = catfish.cast %x : (tensor<4xf32>) -> tensor<5xf16>
  return %0 : tensor<5xf16>
}

// -----

func.func @matmul_contraction_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{matmul contraction dims differ for 2-D x 2-D operands: 3 vs 4}}
  // expected-error @+1 {{'catfish.matmul' op failed to infer returned types}}
  %0 = catfish.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @packed_matmul_contraction_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+2 {{packed_matmul contraction dims differ: 3 vs 4}}
  // expected-error @+1 {{'catfish.packed_matmul' op failed to infer returned types}}
  %0 = catfish.packed_matmul %a, %b : (tensor<2x3xf32>, tensor<2x4x8xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

func.func @packed_matmul_not_packed(%a: tensor<2x3xf32>, %b: tensor<3x16xf32>) -> tensor<2x16xf32> {
  // expected-error @+2 {{packed_matmul takes [..., M, K] by packed [N / P, K, P], got 'tensor<2x3xf32>' and 'tensor<3x16xf32>'}}
  // expected-error @+1 {{'catfish.packed_matmul' op failed to infer returned types}}
  %0 = catfish.packed_matmul %a, %b : (tensor<2x3xf32>, tensor<3x16xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

func.func @packed_matmul_unranked(%a: tensor<*xf32>, %b: tensor<2x3x8xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = catfish.packed_matmul %a, %b : (tensor<*xf32>, tensor<2x3x8xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

func.func @einsum_label_sizes_differ(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{einsum label 'j' has sizes 3 and 4}}
  // expected-error @+1 {{'catfish.einsum' op failed to infer returned types}}
  %0 = catfish.einsum %a, %b {equation = "ij,jk->ik"} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @transpose_not_a_permutation(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{perm [1, 1] is not a permutation of [0, 2)}}
  // expected-error @+1 {{'catfish.transpose' op failed to infer returned types}}
  %0 = catfish.transpose %a {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @transpose_perm_rank(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{perm has 3 entries but the input has rank 2}}
  // expected-error @+1 {{'catfish.transpose' op failed to infer returned types}}
  %0 = catfish.transpose %a {perm = array<i64: 1, 0, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @reshape_element_count(%a: tensor<2x3xf32>) -> tensor<4x4xf32> {
  %s = catfish.constant dense<[4, 4]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 'tensor<2x3xf32>' (6 elements) into [4, 4] (16 elements)}}
  // expected-error @+1 {{'catfish.reshape' op failed to infer returned types}}
  %0 = catfish.reshape %a, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @reshape_two_inferred_dims(%a: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = catfish.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+2 {{reshape shape has more than one -1}}
  // expected-error @+1 {{'catfish.reshape' op failed to infer returned types}}
  %0 = catfish.reshape %a, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<6x3xf32> {
  // expected-error @+2 {{concat inputs 'tensor<2x3xf32>' and 'tensor<4x5xf32>' differ in dim 1 (not the concat axis 0)}}
  // expected-error @+1 {{'catfish.concat' op failed to infer returned types}}
  %0 = catfish.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}

// -----

func.func @concat_element_types_differ(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) -> tensor<4x3xf32> {
  // expected-error @+2 {{concat inputs differ: 'tensor<2x3xf32>' vs 'tensor<2x3xf16>'}}
  // expected-error @+1 {{'catfish.concat' op failed to infer returned types}}
  %0 = catfish.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @split_sizes_do_not_add_up(%x: tensor<4x8xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  // expected-error @+2 {{split sizes add up to 6 but dim 1 is 8}}
  // expected-error @+1 {{'catfish.split' op failed to infer returned types}}
  %0:2 = catfish.split %x {axis = 1 : i64, sizes = array<i64: 3, 3>} : (tensor<4x8xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
  return %0#0, %0#1 : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

func.func @slice_zero_step(%x: tensor<10xf32>) -> tensor<?xf32> {
  %s = catfish.constant dense<0> : tensor<1xi64>
  %e = catfish.constant dense<5> : tensor<1xi64>
  %st = catfish.constant dense<0> : tensor<1xi64>
  // expected-error @+2 {{slice step must not be 0}}
  // expected-error @+1 {{'catfish.slice' op failed to infer returned types}}
  %0 = catfish.slice %x, %s, %e, %s, %st {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @gather_axis_out_of_range(%x: tensor<4x8xf32>, %i: tensor<2xi64>) -> tensor<4x2xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'catfish.gather' op failed to infer returned types}}
  %0 = catfish.gather %x, %i {axis = 2 : i64} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @pad_wrong_length(%x: tensor<4x8xf32>, %p: tensor<2xi64>) -> tensor<?x?xf32> {
  // expected-error @+2 {{pads has 2 entries; expected 2 x rank = 4}}
  // expected-error @+1 {{'catfish.pad' op failed to infer returned types}}
  %0 = catfish.pad %x, %p {mode = #catfish<pad_mode constant>} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @fill_negative_dim() -> tensor<?x?xf32> {
  %s = catfish.constant dense<[2, -3]> : tensor<2xi64>
  // expected-error @+2 {{fill shape has a negative dim}}
  // expected-error @+1 {{'catfish.fill' op failed to infer returned types}}
  %0 = catfish.fill %s {value = 0.0 : f32} : (tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @range_mixed_types(%a: tensor<i64>, %b: tensor<f32>) -> tensor<?xi64> {
  // expected-error @+2 {{range start, limit and delta must be scalars of one type}}
  // expected-error @+1 {{'catfish.range' op failed to infer returned types}}
  %0 = catfish.range %a, %b, %a : (tensor<i64>, tensor<f32>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  // expected-error @+2 {{reduction axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'catfish.reduce' op failed to infer returned types}}
  %0 = catfish.reduce %x {axes = array<i64: 2>, keepdims = true, kind = #catfish<reduce sum>} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

func.func @topk_k_too_large(%x: tensor<4x8xf32>) -> (tensor<4x9xf32>, tensor<4x9xi64>) {
  // expected-error @+2 {{topk k = 9 is out of range for dim 1 of 'tensor<4x8xf32>'}}
  // expected-error @+1 {{'catfish.topk' op failed to infer returned types}}
  %v, %i = catfish.topk %x {axis = 1 : i64, k = 9 : i64} : (tensor<4x8xf32>) -> (tensor<4x9xf32>, tensor<4x9xi64>)
  return %v, %i : tensor<4x9xf32>, tensor<4x9xi64>
}

// -----

func.func @softmax_axis_out_of_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'catfish.softmax' op failed to infer returned types}}
  %0 = catfish.softmax %x {axis = 2 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @conv_channel_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+2 {{conv input has 3 channels but the weight expects 4 x 1 groups}}
  // expected-error @+1 {{'catfish.conv' op failed to infer returned types}}
  %0 = catfish.conv %x, %w {dilations = array<i64: 1, 1>, groups = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

func.func @max_pool_kernel_rank(%x: tensor<1x8x7xf32>) -> tensor<1x8x3xf32> {
  // expected-error @+2 {{expected 1 kernel dims, got 2}}
  // expected-error @+1 {{'catfish.max_pool' op failed to infer returned types}}
  %0 = catfish.max_pool %x {ceil_mode = false, dilations = array<i64: 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<1x8x7xf32>) -> tensor<1x8x3xf32>
  return %0 : tensor<1x8x3xf32>
}

// -----

func.func @attention_heads_not_multiple(%q: tensor<1x8x16x64xf16>, %k: tensor<1x3x32x64xf16>, %v: tensor<1x3x32x64xf16>) -> tensor<1x8x16x64xf16> {
  // expected-error @+2 {{query heads (8) must be a multiple of key heads (3)}}
  // expected-error @+1 {{'catfish.attention' op failed to infer returned types}}
  %0 = catfish.attention %q, %k, %v {is_causal = true, scale = 0.125 : f32} : (tensor<1x8x16x64xf16>, tensor<1x3x32x64xf16>, tensor<1x3x32x64xf16>) -> tensor<1x8x16x64xf16>
  return %0 : tensor<1x8x16x64xf16>
}

// -----

func.func @quantize_bad_per_axis_scale(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xi8> {
  // expected-error @+1 {{'catfish.quantize' op per-axis scale must be 1-D with 4 entries (dim 0 of 'tensor<4x8xf32>'), got 'tensor<8xf32>'}}
  %0 = catfish.quantize %x, %s {axis = 0 : i64} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xi8>
  return %0 : tensor<4x8xi8>
}

// -----

func.func @quantize_to_float16(%x: tensor<4x8xf32>, %s: tensor<f32>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'catfish.quantize' op result element type must be an integer or float8/float4 type, got 'f16'}}
  %0 = catfish.quantize %x, %s : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf16>
  return %0 : tensor<4x8xf16>
}

// -----

func.func @quantize_bad_block_scale(%x: tensor<256x512xf32>, %s: tensor<256x2xf32>) -> tensor<256x512xf8E4M3FN> {
  // expected-error @+1 {{'catfish.quantize' op block-wise scale dim 1 is 2, expected 4}}
  %0 = catfish.quantize %x, %s {axis = 1 : i64, block_size = 128 : i64} : (tensor<256x512xf32>, tensor<256x2xf32>) -> tensor<256x512xf8E4M3FN>
  return %0 : tensor<256x512xf8E4M3FN>
}

// -----

func.func @quantize_integer_scale(%x: tensor<4xf32>, %s: tensor<i32>) -> tensor<4xi8> {
  // expected-error @+1 {{'catfish.quantize' op scale must be a float tensor, got 'tensor<i32>'}}
  %0 = catfish.quantize %x, %s : (tensor<4xf32>, tensor<i32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @quantize_zero_point_type(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xi8> {
  // expected-error @+1 {{'catfish.quantize' op zero_point element type must be the result's ('i8')}}
  %0 = catfish.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @dequantize_to_integer(%x: tensor<4xi8>, %s: tensor<f32>) -> tensor<4xi32> {
  // expected-error @+1 {{'catfish.dequantize' op result must be a float tensor}}
  %0 = catfish.dequantize %x, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @fusion_yield_mismatch(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.fusion' op body yields ('tensor<4xf16>') but ('tensor<4xf32>') is expected}}
  %0 = catfish.fusion generated(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %c = catfish.cast %x : (tensor<4xf32>) -> tensor<4xf16>
    catfish.yield %c : tensor<4xf16>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fusion_block_args_mismatch(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.fusion' op region arguments ('tensor<4xf32>', 'tensor<4xf32>') must match the inputs ('tensor<4xf32>')}}
  %0 = catfish.fusion generated(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    catfish.yield %x : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fusion_is_isolated(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = catfish.fusion generated(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{'catfish.add' op using value defined outside the region}}
    %s = catfish.add %x, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %s : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fusion_non_catfish_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.fusion' op may only contain catfish ops, found func.call}}
  %0 = catfish.fusion generated(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %r = func.call @callee(%x) : (tensor<4xf32>) -> tensor<4xf32>
    catfish.yield %r : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}
func.func private @callee(tensor<4xf32>) -> tensor<4xf32>

// -----

func.func @if_condition_not_scalar(%c: tensor<2xi1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.if' op condition must hold exactly one element, got 'tensor<2xi1>'}}
  %0 = catfish.if %c : tensor<2xi1> -> tensor<4xf32> {
    catfish.yield %x : tensor<4xf32>
  } else {
    catfish.yield %x : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @if_else_branch_mismatch(%c: tensor<i1>, %x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.if' op else branch yields ('tensor<3xf32>') but ('tensor<4xf32>') is expected}}
  %0 = catfish.if %c : tensor<i1> -> tensor<4xf32> {
    catfish.yield %x : tensor<4xf32>
  } else {
    catfish.yield %y : tensor<3xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @loop_missing_condition_argument(%n: tensor<i64>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.loop' op body takes (iteration, condition, 1 carried values), got 2 arguments}}
  %0 = catfish.loop(%n : tensor<i64>) iter_args(%x : tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%i: tensor<i64>, %acc: tensor<4xf32>):
    catfish.yield %acc : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @loop_carried_type_changes(%n: tensor<i64>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'catfish.loop' op yielded carried values must match the initial values}}
  %0 = catfish.loop(%n : tensor<i64>) iter_args(%x : tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %acc: tensor<4xf32>):
    %h = catfish.cast %acc : (tensor<4xf32>) -> tensor<4xf16>
    catfish.yield %c, %h : tensor<i1>, tensor<4xf16>
  }
  return %0 : tensor<4xf32>
}

// -----

// Off the axis, GatherElements' indices address the input's own positions.
func.func @gather_elements_indices_too_large(%a: tensor<2x3xf32>, %i: tensor<4x3xi64>) -> tensor<4x3xf32> {
  // expected-error @+2 {{gather_elements indices 'tensor<4x3xi64>' exceed the input 'tensor<2x3xf32>' in dim 0}}
  // expected-error @+1 {{'catfish.gather_elements' op failed to infer returned types}}
  %0 = catfish.gather_elements %a, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
