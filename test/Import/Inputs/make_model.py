#!/usr/bin/env python3
"""Generate small ONNX models for the Catfish import tests.

Usage:
    make_model.py NAME OUT_PATH [--layers N --hidden H]
    make_model.py --list

Valid models are built the way torch.onnx writes them: weights as initializers,
small constants as Constant nodes, node names like "/layer0/MatMul" and value
names like "/layer0/MatMul_output_0". Default-domain opset 17 and IR version 8
unless a model needs newer. Every model is deterministic (seeded numpy RNG).

Cases named "bad_*" are malformed on purpose, one defect each, and the importer
must reject them. Some cases write extra files next to OUT_PATH (external data).
"""

import argparse
import collections
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
FLOAT32_MIN = np.float32(np.finfo(np.float32).min)


class Builder:
    """Collects nodes and initializers, naming them like torch.onnx does."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self._uses = collections.Counter()

    def initializer(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, shape, scale=0.1):
        data = self.rng.standard_normal(shape) * scale
        return self.initializer(name, data.astype(np.float32))

    def ops(self, op_type, inputs, scope="", num_outputs=1, outputs=None, **attrs):
        base = f"{scope}/{op_type}"
        count = self._uses[base]
        self._uses[base] += 1
        name = base if count == 0 else f"{base}_{count}"
        if outputs is None:
            outputs = [f"{name}_output_{i}" for i in range(num_outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))
        return outputs

    def op(self, op_type, inputs, scope="", output=None, **attrs):
        outputs = None if output is None else [output]
        return self.ops(op_type, inputs, scope, outputs=outputs, **attrs)[0]

    def const(self, value, scope="", dtype=np.int64):
        tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype))
        return self.op("Constant", [], scope, value=tensor)

    def model(self, inputs, outputs, opset=17, ir_version=8):
        graph = helper.make_graph(self.nodes, "main_graph", inputs, outputs, self.initializers)
        return helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", opset)],
            ir_version=ir_version,
            producer_name="catfish-make-model",
        )


def tensor(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def linear(b, x, scope, prefix, fan_in, fan_out, bias=True, output=None):
    """x @ W (+ bias), the MatMul/Add pair torch exports for nn.Linear."""
    weight = b.weight(f"{prefix}.weight", [fan_in, fan_out], scale=1 / math.sqrt(fan_in))
    if not bias:
        return b.op("MatMul", [x, weight], scope, output=output)
    y = b.op("MatMul", [x, weight], scope)
    return b.op("Add", [b.weight(f"{prefix}.bias", [fan_out]), y], scope, output=output)


def layer_norm(b, x, scope, prefix, dim, output=None):
    scale = b.initializer(f"{prefix}.weight", 1 + b.rng.standard_normal(dim).astype(np.float32) * 0.1)
    bias = b.weight(f"{prefix}.bias", [dim])
    return b.op("LayerNormalization", [x, scale, bias], scope, output=output, axis=-1, epsilon=1e-5)


def dim_of(b, shape, index, scope):
    """Shape -> Gather(index) -> Unsqueeze: one dynamic dim as a 1-element tensor."""
    dim = b.op("Gather", [shape, b.const(index, scope)], scope, axis=0)
    return b.op("Unsqueeze", [dim, b.const([0], scope)], scope)


def split_heads(b, x, scope, heads, head_dim, perm=(0, 2, 1, 3)):
    """[B, S, H*D] -> [B, H, S, D] (or `perm`) through the exporter's shape subgraph."""
    shape = b.op("Shape", [x], scope)
    new_shape = b.op(
        "Concat",
        [dim_of(b, shape, 0, scope), dim_of(b, shape, 1, scope), b.const([heads], scope), b.const([head_dim], scope)],
        scope,
        axis=0,
    )
    split = b.op("Reshape", [x, new_shape], scope)
    return b.op("Transpose", [split], scope, perm=list(perm))


def merge_heads(b, x, scope, hidden):
    """[B, H, S, D] -> [B, S, H*D] through the exporter's shape subgraph."""
    merged = b.op("Transpose", [x], scope, perm=[0, 2, 1, 3])
    shape = b.op("Shape", [merged], scope)
    new_shape = b.op(
        "Concat", [dim_of(b, shape, 0, scope), dim_of(b, shape, 1, scope), b.const([hidden], scope)], scope, axis=0
    )
    return b.op("Reshape", [merged, new_shape], scope)


def gelu_erf(b, x, scope, output=None):
    scaled = b.op("Div", [x, b.const(1.4142135381698608, scope, np.float32)], scope)
    erf = b.op("Erf", [scaled], scope)
    shifted = b.op("Add", [erf, b.const(1.0, scope, np.float32)], scope)
    product = b.op("Mul", [x, shifted], scope)
    return b.op("Mul", [product, b.const(0.5, scope, np.float32)], scope, output=output)


def gelu_tanh(b, x, scope):
    cube = b.op("Pow", [x, b.const(3.0, scope, np.float32)], scope)
    inner = b.op("Add", [x, b.op("Mul", [cube, b.const(0.044715, scope, np.float32)], scope)], scope)
    scaled = b.op("Mul", [inner, b.const(math.sqrt(2 / math.pi), scope, np.float32)], scope)
    shifted = b.op("Add", [b.op("Tanh", [scaled], scope), b.const(1.0, scope, np.float32)], scope)
    half = b.op("Mul", [x, b.const(0.5, scope, np.float32)], scope)
    return b.op("Mul", [half, shifted], scope)


def silu(b, x, scope):
    return b.op("Mul", [x, b.op("Sigmoid", [x], scope)], scope)


def mlp(hidden=32):
    b = Builder(seed=1)
    h = linear(b, "x", "/layer0", "layer0", 16, hidden)
    h = b.op("Relu", [h], "/act")
    linear(b, h, "/layer1", "layer1", hidden, 8, output="y")
    return b.model([tensor("x", FLOAT, [1, 16])], [tensor("y", FLOAT, [1, 8])])


def half_mlp():
    """An f16 MLP (f16 weights, bias, ReLU) and an f16 batched product of two inputs, as
    models exported in half precision are: the CUDA target's f16 cuBLASLt calls."""
    b = Builder(seed=13)

    def half(name, shape, scale):
        return b.initializer(name, (b.rng.standard_normal(shape) * scale).astype(np.float16))

    h = b.op("MatMul", ["x", half("fc1.weight", [64, 96], 0.125)], "/fc1")
    h = b.op("Relu", [b.op("Add", [h, half("fc1.bias", [96], 0.1)], "/fc1")], "/act")
    b.op("MatMul", [h, half("fc2.weight", [96, 32], 0.1)], "/fc2", output="y")
    b.op("MatMul", ["q", "kt"], "/scores", output="scores")
    half_type = TensorProto.FLOAT16
    return b.model([tensor("x", half_type, [8, 64]), tensor("q", half_type, [2, 8, 16]),
                    tensor("kt", half_type, [2, 16, 8])],
                   [tensor("y", half_type, [8, 32]), tensor("scores", half_type, [2, 8, 8])])


def bf16_mlp():
    """half_mlp in bf16, with f32 inputs and outputs cast at the edges and f32 weights cast to
    bf16 (the casts of constants fold at compile time), as mixed-precision exports write it."""
    b = Builder(seed=14)
    bf16 = TensorProto.BFLOAT16

    def cast(x, scope, to=bf16):
        return b.op("Cast", [x], scope, to=to)

    def weight(name, shape, scale):
        return cast(b.weight(name, shape, scale), "/weights")

    h = b.op("MatMul", [cast("x", "/fc1"), weight("fc1.weight", [64, 96], 0.125)], "/fc1")
    h = b.op("Relu", [b.op("Add", [h, weight("fc1.bias", [96], 0.1)], "/fc1")], "/act")
    y = b.op("MatMul", [h, weight("fc2.weight", [96, 32], 0.1)], "/fc2")
    b.op("Cast", [y], "/out", output="y", to=FLOAT)
    scores = b.op("MatMul", [cast("q", "/scores"), cast("kt", "/scores")], "/scores")
    b.op("Cast", [scores], "/out", output="scores", to=FLOAT)
    return b.model([tensor("x", FLOAT, [8, 64]), tensor("q", FLOAT, [2, 8, 16]),
                    tensor("kt", FLOAT, [2, 16, 8])],
                   [tensor("y", FLOAT, [8, 32]), tensor("scores", FLOAT, [2, 8, 8])])


def elementwise():
    """Elementwise and data-movement ops only: a broadcast bias, erf GELU (an output too, so
    it stays a kernel of its own), a transpose. 1800 elements: several CUDA blocks of 256
    threads, the last one partly idle."""
    b = Builder(seed=3)
    bias = b.weight("bias", [300])
    h = b.op("Add", ["x", bias], "/bias")
    h = gelu_erf(b, h, "/gelu", output="gelu")
    b.op("Transpose", [h], "/transpose", output="y", perm=[1, 0])
    return b.model([tensor("x", FLOAT, [6, 300])],
                   [tensor("y", FLOAT, [300, 6]), tensor("gelu", FLOAT, [6, 300])])


def reductions():
    """Row reductions as the CUDA target maps them: rows of 1500 (a block each: softmax,
    layer norm, mean, argmax) and columns of 6 elements (a warp each: sum, argmin keeping the
    last of equal values)."""
    b = Builder(seed=5)
    b.op("Softmax", ["x"], "/softmax", output="probs", axis=-1)
    layer_norm(b, "x", "/norm", "norm", 1500, output="normed")
    b.op("ReduceMean", ["x"], "/mean", output="mean", axes=[1], keepdims=0)
    b.op("ReduceSum", ["x", b.const([0])], "/columns", output="columns", keepdims=0)
    b.op("ArgMax", ["x"], "/argmax", output="argmax", axis=1, keepdims=0)
    rounded = b.op("Floor", ["x"], "/floor")
    b.op("ArgMin", [rounded], "/argmin", output="argmin", axis=0, keepdims=0, select_last_index=1)
    return b.model([tensor("x", FLOAT, [6, 1500])],
                   [tensor("probs", FLOAT, [6, 1500]), tensor("normed", FLOAT, [6, 1500]),
                    tensor("mean", FLOAT, [6]), tensor("columns", FLOAT, [1500]),
                    tensor("argmax", INT64, [6]), tensor("argmin", INT64, [1500])])


def views():
    """Reshapes that no region takes share their input's buffer. The Add reads `a` last among
    the ops reading it directly, but a view of `a` is read after the Add, so the Add must not
    compute in place over `a`; the Neg is the last reader of a view of `t`, but `t` is read
    after it, so it must not compute in place over the view either. A view feeds a MatMul,
    and one output is a view of the graph input."""
    b = Builder(seed=4)
    a = b.op("Exp", ["x"], "/exp")
    v = b.op("Reshape", [a, b.const([16])], "/view")
    peak = b.op("ReduceMax", [v], "/peak", axes=[0], keepdims=1)
    b.op("Add", [a, peak], "/add", output="y")
    flat = b.op("Reshape", ["x", b.const([16])], "/flat", output="flat")
    waves = flat
    for _ in range(4):
        waves = b.op("Sin", [waves], "/sin")
    b.op("Mul", [v, waves], "/mul", output="z")
    t = b.op("Tanh", ["x"], "/tanh")
    square = b.op("Reshape", [t, b.const([4, 4])], "/square")
    b.op("Neg", [square], "/neg", output="n")
    b.op("MatMul", [square, b.weight("w", [4, 4], scale=1.0)], "/matmul", output="m")
    b.op("Sub", [t, b.op("Cos", [b.op("Cos", [b.op("Cos", ["x"], "/cos")], "/cos")], "/cos")],
         "/sub", output="d")
    return b.model([tensor("x", FLOAT, [2, 8])],
                   [tensor("y", FLOAT, [2, 8]), tensor("flat", FLOAT, [16]),
                    tensor("z", FLOAT, [16]), tensor("n", FLOAT, [4, 4]),
                    tensor("m", FLOAT, [4, 4]), tensor("d", FLOAT, [2, 8])])


def gemm():
    b = Builder(seed=2)
    weight, bias = b.weight("fc.weight", [6, 8]), b.weight("fc.bias", [6])
    b.op("Gemm", ["x", weight, bias], "/fc", output="y", alpha=0.5, beta=2.0, transB=1)
    return b.model([tensor("x", FLOAT, [4, 8])], [tensor("y", FLOAT, [4, 6])])


def batch_norm(b, x, scope, prefix, channels):
    params = [
        b.initializer(f"{prefix}.weight", 1 + b.rng.standard_normal(channels).astype(np.float32) * 0.1),
        b.weight(f"{prefix}.bias", [channels]),
        b.weight(f"{prefix}.running_mean", [channels]),
        b.initializer(f"{prefix}.running_var", b.rng.uniform(0.5, 1.5, channels).astype(np.float32)),
    ]
    return b.op("BatchNormalization", [x, *params], scope, epsilon=1e-5, momentum=0.9)


def cnn():
    b = Builder(seed=3)
    conv = b.op("Conv", ["x", b.weight("conv1.weight", [8, 3, 3, 3]), b.weight("conv1.bias", [8])], "/conv1",
                kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    act = b.op("Relu", [batch_norm(b, conv, "/bn1", "bn1", 8)], "/relu")
    pooled = b.op("MaxPool", [act], "/pool", kernel_shape=[2, 2], strides=[2, 2])
    depthwise = b.op("Conv", [pooled, b.weight("dw.weight", [8, 1, 3, 3]), b.weight("dw.bias", [8])], "/dw",
                     group=8, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    residual = b.op("Add", [depthwise, pooled], "/residual")
    flat = b.op("Flatten", [b.op("GlobalAveragePool", [residual], "/gap")], "/flatten", axis=1)
    b.op("Gemm", [flat, b.weight("fc.weight", [10, 8]), b.weight("fc.bias", [10])], "/fc", output="y",
         alpha=1.0, beta=1.0, transB=1)
    return b.model([tensor("x", FLOAT, [1, 3, 16, 16])], [tensor("y", FLOAT, [1, 10])])


def bert_attention_mask(b, mask, scope):
    """int64 [B, S] -> additive float [B, 1, 1, S]: (1 - mask) * -10000."""
    expanded = b.op("Unsqueeze", [mask, b.const([1, 2], scope)], scope)
    as_float = b.op("Cast", [expanded], scope, to=FLOAT)
    inverted = b.op("Sub", [b.const(1.0, scope, np.float32), as_float], scope)
    return b.op("Mul", [inverted, b.const(-10000.0, scope, np.float32)], scope)


def bert_self_attention(b, hidden, mask, heads, head_dim):
    scope = "/attention/self"
    width = heads * head_dim
    q, k, v = (linear(b, hidden, f"{scope}/{part}", f"attention.self.{part}", width, width)
               for part in ("query", "key", "value"))
    q = split_heads(b, q, scope, heads, head_dim)
    k = split_heads(b, k, scope, heads, head_dim, perm=(0, 2, 3, 1))
    v = split_heads(b, v, scope, heads, head_dim)
    scores = b.op("Div", [b.op("MatMul", [q, k], scope), b.const(math.sqrt(head_dim), scope, np.float32)], scope)
    probs = b.op("Softmax", [b.op("Add", [scores, mask], scope)], scope, axis=-1)
    return merge_heads(b, b.op("MatMul", [probs, v], scope), scope, width)


def bert_layer():
    b = Builder(seed=4)
    heads, head_dim, hidden, ffn = 2, 16, 32, 64
    mask = bert_attention_mask(b, "attention_mask", "/mask")
    context = bert_self_attention(b, "hidden", mask, heads, head_dim)
    dense = linear(b, context, "/attention/output/dense", "attention.output.dense", hidden, hidden)
    residual = b.op("Add", [dense, "hidden"], "/attention/output")
    attn_out = layer_norm(b, residual, "/attention/output/LayerNorm", "attention.output.LayerNorm", hidden)
    up = linear(b, attn_out, "/intermediate/dense", "intermediate.dense", hidden, ffn)
    down = linear(b, gelu_erf(b, up, "/intermediate/act"), "/output/dense", "output.dense", ffn, hidden)
    residual = b.op("Add", [down, attn_out], "/output")
    layer_norm(b, residual, "/output/LayerNorm", "output.LayerNorm", hidden, output="y")
    inputs = [tensor("hidden", FLOAT, [1, 8, hidden]), tensor("attention_mask", INT64, [1, 8])]
    return b.model(inputs, [tensor("y", FLOAT, [1, 8, hidden])])


def causal_mask(query_len, key_len):
    """bool [1, 1, Q, K]: query i (at position key_len - query_len + i) sees keys <= its position."""
    return np.tril(np.ones((query_len, key_len), dtype=bool), k=key_len - query_len)[None, None]


def gpt2_attention(b, x, heads, head_dim, seq, past):
    scope = "/attn"
    width = heads * head_dim
    qkv = linear(b, x, f"{scope}/c_attn", "attn.c_attn", width, 3 * width)
    q, k, v = b.ops("Split", [qkv, b.const([width] * 3, scope)], scope, num_outputs=3, axis=2)
    k = split_heads(b, k, scope, heads, head_dim)
    v = split_heads(b, v, scope, heads, head_dim)
    present_key = b.op("Concat", ["past_key", k], scope, output="present_key", axis=2)
    present_value = b.op("Concat", ["past_value", v], scope, output="present_value", axis=2)
    keys_t = b.op("Transpose", [present_key], scope, perm=[0, 1, 3, 2])
    scores = b.op("MatMul", [split_heads(b, q, scope, heads, head_dim), keys_t], scope)
    scores = b.op("Div", [scores, b.const(math.sqrt(head_dim), scope, np.float32)], scope)
    mask = b.const(causal_mask(seq, past + seq), scope, bool)
    masked = b.op("Where", [mask, scores, b.const(FLOAT32_MIN, scope, np.float32)], scope)
    probs = b.op("Softmax", [masked], scope, axis=-1)
    context = merge_heads(b, b.op("MatMul", [probs, present_value], scope), scope, width)
    return linear(b, context, f"{scope}/c_proj", "attn.c_proj", width, width)


def gpt2_block():
    b = Builder(seed=5)
    heads, head_dim, seq, past = 2, 16, 4, 3
    hidden = heads * head_dim
    attn = gpt2_attention(b, layer_norm(b, "x", "/ln_1", "ln_1", hidden), heads, head_dim, seq, past)
    h = b.op("Add", [attn, "x"], "/residual")
    up = linear(b, layer_norm(b, h, "/ln_2", "ln_2", hidden), "/mlp/c_fc", "mlp.c_fc", hidden, 4 * hidden)
    down = linear(b, gelu_tanh(b, up, "/mlp/act"), "/mlp/c_proj", "mlp.c_proj", 4 * hidden, hidden)
    b.op("Add", [down, h], "/residual", output="y")
    cache = [1, heads, past, head_dim]
    inputs = [tensor("x", FLOAT, [1, seq, hidden]), tensor("past_key", FLOAT, cache),
              tensor("past_value", FLOAT, cache)]
    present = [1, heads, past + seq, head_dim]
    outputs = [tensor("y", FLOAT, [1, seq, hidden]), tensor("present_key", FLOAT, present),
               tensor("present_value", FLOAT, present)]
    return b.model(inputs, outputs)


def rms_norm(b, x, scope, prefix, dim):
    variance = b.op("ReduceMean", [b.op("Pow", [x, b.const(2.0, scope, np.float32)], scope), b.const([-1], scope)],
                    scope, keepdims=1)
    std = b.op("Sqrt", [b.op("Add", [variance, b.const(1e-6, scope, np.float32)], scope)], scope)
    normed = b.op("Mul", [x, b.op("Reciprocal", [std], scope)], scope)
    weight = b.initializer(f"{prefix}.weight", 1 + b.rng.standard_normal(dim).astype(np.float32) * 0.1)
    return b.op("Mul", [weight, normed], scope)


def rotary_tables(seq, head_dim, theta=10000.0):
    inv_freq = 1.0 / theta ** (np.arange(0, head_dim, 2) / head_dim)
    angles = np.outer(np.arange(seq), inv_freq)
    angles = np.concatenate([angles, angles], axis=-1)[None, None]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def apply_rotary(b, x, scope, head_dim):
    """x * cos + rotate_half(x) * sin, with rotate_half = Concat(-x2, x1)."""
    half, axis = b.const([head_dim // 2], scope), b.const([-1], scope)
    x1 = b.op("Slice", [x, b.const([0], scope), half, axis], scope)
    x2 = b.op("Slice", [x, half, b.const([np.iinfo(np.int64).max], scope), axis], scope)
    rotated = b.op("Concat", [b.op("Neg", [x2], scope), x1], scope, axis=-1)
    return b.op("Add", [b.op("Mul", [x, "rope.cos"], scope), b.op("Mul", [rotated, "rope.sin"], scope)], scope)


def repeat_kv(b, x, scope, kv_heads, groups, seq, head_dim):
    """[B, KV, S, D] -> [B, KV*groups, S, D] by Unsqueeze/Expand/Reshape."""
    expanded = b.op("Expand", [b.op("Unsqueeze", [x, b.const([2], scope)], scope),
                               b.const([1, kv_heads, groups, seq, head_dim], scope)], scope)
    return b.op("Reshape", [expanded, b.const([1, kv_heads * groups, seq, head_dim], scope)], scope)


LlamaConfig = collections.namedtuple("LlamaConfig", "hidden heads kv_heads head_dim seq ffn")
LLAMA = LlamaConfig(hidden=32, heads=4, kv_heads=2, head_dim=8, seq=4, ffn=64)


def llama_heads(b, x, scope, prefix, heads):
    projected = linear(b, x, f"{scope}/{prefix}", f"self_attn.{prefix}", LLAMA.hidden, heads * LLAMA.head_dim,
                       bias=False)
    split = b.op("Reshape", [projected, b.const([1, LLAMA.seq, heads, LLAMA.head_dim], scope)], scope)
    return b.op("Transpose", [split], scope, perm=[0, 2, 1, 3])


def llama_attention(b, x):
    scope = "/self_attn"
    c = LLAMA
    q = apply_rotary(b, llama_heads(b, x, scope, "q_proj", c.heads), scope, c.head_dim)
    k = apply_rotary(b, llama_heads(b, x, scope, "k_proj", c.kv_heads), scope, c.head_dim)
    v = llama_heads(b, x, scope, "v_proj", c.kv_heads)
    k = repeat_kv(b, k, scope, c.kv_heads, c.heads // c.kv_heads, c.seq, c.head_dim)
    v = repeat_kv(b, v, scope, c.kv_heads, c.heads // c.kv_heads, c.seq, c.head_dim)
    scores = b.op("MatMul", [q, b.op("Transpose", [k], scope, perm=[0, 1, 3, 2])], scope)
    scores = b.op("Mul", [scores, b.const(1 / math.sqrt(c.head_dim), scope, np.float32)], scope)
    additive = np.where(causal_mask(c.seq, c.seq), np.float32(0), FLOAT32_MIN)
    probs = b.op("Softmax", [b.op("Add", [scores, b.const(additive, scope, np.float32)], scope)], scope, axis=-1)
    context = b.op("Transpose", [b.op("MatMul", [probs, v], scope)], scope, perm=[0, 2, 1, 3])
    merged = b.op("Reshape", [context, b.const([1, c.seq, c.hidden], scope)], scope)
    return linear(b, merged, f"{scope}/o_proj", "self_attn.o_proj", c.hidden, c.hidden, bias=False)


def llama_mlp(b, x):
    scope = "/mlp"
    gate = linear(b, x, f"{scope}/gate_proj", "mlp.gate_proj", LLAMA.hidden, LLAMA.ffn, bias=False)
    up = linear(b, x, f"{scope}/up_proj", "mlp.up_proj", LLAMA.hidden, LLAMA.ffn, bias=False)
    gated = b.op("Mul", [silu(b, gate, f"{scope}/act_fn"), up], scope)
    return linear(b, gated, f"{scope}/down_proj", "mlp.down_proj", LLAMA.ffn, LLAMA.hidden, bias=False)


def llama_block():
    b = Builder(seed=6)
    cos, sin = rotary_tables(LLAMA.seq, LLAMA.head_dim)
    b.initializer("rope.cos", cos)
    b.initializer("rope.sin", sin)
    attn = llama_attention(b, rms_norm(b, "x", "/input_layernorm", "input_layernorm", LLAMA.hidden))
    h = b.op("Add", ["x", attn], "/residual")
    mlp_out = llama_mlp(b, rms_norm(b, h, "/post_attention_layernorm", "post_attention_layernorm", LLAMA.hidden))
    b.op("Add", [h, mlp_out], "/residual", output="y")
    io_shape = [1, LLAMA.seq, LLAMA.hidden]
    return b.model([tensor("x", FLOAT, io_shape)], [tensor("y", FLOAT, io_shape)], opset=23, ir_version=10)


def routed_experts(b, x, indices, weights, num_experts, dim, ffn):
    """Gathers each token's top-k expert weights and applies them with batched MatMuls."""
    scope = "/experts"
    w1 = b.op("Gather", [b.weight("experts.w1", [num_experts, dim, ffn]), indices], scope, axis=0)
    w2 = b.op("Gather", [b.weight("experts.w2", [num_experts, ffn, dim]), indices], scope, axis=0)
    tokens = b.op("Unsqueeze", [x, b.const([1, 2], scope)], scope)
    hidden = silu(b, b.op("MatMul", [tokens, w1], scope), scope)
    expert_out = b.op("Squeeze", [b.op("MatMul", [hidden, w2], scope), b.const([2], scope)], scope)
    weighted = b.op("Mul", [expert_out, b.op("Unsqueeze", [weights, b.const([-1], scope)], scope)], scope)
    return b.op("ReduceSum", [weighted, b.const([1], scope)], scope, keepdims=0)


def moe_block():
    b = Builder(seed=7)
    tokens, dim, num_experts, ffn, top_k = 4, 16, 4, 32, 2
    scope = "/gate"
    probs = b.op("Softmax", [b.op("MatMul", ["x", b.weight("gate.weight", [dim, num_experts])], scope)], scope, axis=-1)
    values, indices = b.ops("TopK", [probs, b.const([top_k], scope)], scope, num_outputs=2, axis=-1)
    weights = b.op("Div", [values, b.op("ReduceSum", [values, b.const([-1], scope)], scope, keepdims=1)], scope)
    zeros = b.const(np.zeros((tokens, num_experts)), scope, np.float32)
    b.op("ScatterElements", [zeros, indices, weights], scope, output="routing", axis=1)
    routed = routed_experts(b, "x", indices, weights, num_experts, dim, ffn)
    shared_up = linear(b, "x", "/shared_expert/up", "shared_expert.up", dim, ffn, bias=False)
    shared = linear(b, silu(b, shared_up, "/shared_expert"), "/shared_expert/down", "shared_expert.down", ffn, dim,
                    bias=False)
    b.op("Add", [routed, shared], "/moe", output="y")
    outputs = [tensor("y", FLOAT, [tokens, dim]), tensor("routing", FLOAT, [tokens, num_experts])]
    return b.model([tensor("x", FLOAT, [tokens, dim])], outputs)


def topk(sort_k=64):
    """TopK as routers write it (k = 2 of 8 rows' 300 scores, the largest) and as a partial sort
    (k = sort_k of 200 keys, the smallest): up to 64 picks unroll into argmax-like selections,
    which the CUDA target maps; a larger k stays one loop nest, which it refuses."""
    b = Builder(seed=9)
    b.ops("TopK", ["scores", b.const([2], "/router")], "/router", num_outputs=2, axis=-1,
          outputs=["top_values", "top_indices"])
    b.ops("TopK", ["keys", b.const([sort_k], "/sort")], "/sort", num_outputs=2, axis=1, largest=0,
          outputs=["sorted_values", "sorted_indices"])
    outputs = [tensor("top_values", FLOAT, [8, 2]), tensor("top_indices", INT64, [8, 2]),
               tensor("sorted_values", FLOAT, [3, sort_k]),
               tensor("sorted_indices", INT64, [3, sort_k])]
    return b.model([tensor("scores", FLOAT, [8, 300]), tensor("keys", FLOAT, [3, 200])], outputs)


def attention():
    """ONNX Attention (opset 23) in the forms the CUDA flash-attention kernel must get right:
    several key tiles of 32 and query blocks with partial last ones, grouped-query heads with a
    causal mask over more keys than queries; head dims that are not multiples of 32 with V's
    differing from Q's, an additive bias broadcast over heads, a scale and a softcap; f16 with
    a boolean mask broadcast over batch and heads that hides every key of one query row (NaN,
    as softmax over nothing is)."""
    b = Builder(seed=11)
    b.op("Attention", ["q", "k", "v"], "/gqa", output="causal_out", is_causal=1)
    b.op("Attention", ["q2", "k2", "v2", "bias"], "/biased", output="biased_out", scale=0.2,
         softcap=3.0)
    keep = b.rng.random((37, 100)) < 0.7
    keep[5, :] = False
    b.initializer("keep", keep)
    half = [b.op("Cast", [name], "/half", to=TensorProto.FLOAT16) for name in ("q2", "k2", "v2")]
    b.op("Attention", half + ["keep"], "/half", output="half_out")
    inputs = [tensor("q", FLOAT, [1, 8, 70, 64]), tensor("k", FLOAT, [1, 2, 100, 64]),
              tensor("v", FLOAT, [1, 2, 100, 64]), tensor("q2", FLOAT, [2, 3, 37, 40]),
              tensor("k2", FLOAT, [2, 3, 100, 40]), tensor("v2", FLOAT, [2, 3, 100, 48]),
              tensor("bias", FLOAT, [37, 100])]
    outputs = [tensor("causal_out", FLOAT, [1, 8, 70, 64]),
               tensor("biased_out", FLOAT, [2, 3, 37, 48]),
               tensor("half_out", TensorProto.FLOAT16, [2, 3, 37, 48])]
    return b.model(inputs, outputs, opset=23, ir_version=10)


def norms():
    """LayerNorm and RMSNorm written out op by op, as torch.onnx writes them below opset 17
    (ReduceMean with an axes attribute): LayerNorm with Pow and Div, then weight and bias;
    RMSNorm over the last two dims with x * x, Sqrt and Reciprocal, the weight in front; and
    a LayerNorm whose centered value is an output too, which must stay as written."""
    b = Builder(seed=12)
    hidden, rows = 96, 16

    def mean(x, scope, axes):
        return b.op("ReduceMean", [x], scope, axes=axes, keepdims=1)

    scope = "/LayerNorm"
    centered = b.op("Sub", ["x", mean("x", scope, [-1])], scope)
    variance = mean(b.op("Pow", [centered, b.const(2.0, scope, np.float32)], scope), scope, [-1])
    std = b.op("Sqrt", [b.op("Add", [variance, b.const(1e-12, scope, np.float32)], scope)], scope)
    normed = b.op("Div", [centered, std], scope)
    gamma = b.initializer("ln.weight", 1 + b.rng.standard_normal(hidden).astype(np.float32) * 0.1)
    ln = b.op("Add", [b.op("Mul", [normed, gamma], scope), b.weight("ln.bias", [hidden])], scope,
              output="ln_out")
    scope = "/RMSNorm"
    variance = mean(b.op("Mul", [ln, ln], scope), scope, [1, 2])
    std = b.op("Sqrt", [b.op("Add", [b.const(1e-6, scope, np.float32), variance], scope)], scope)
    weight = b.initializer("rms.weight",
                           1 + b.rng.standard_normal((rows, hidden)).astype(np.float32) * 0.1)
    b.op("Mul", [weight, b.op("Mul", [ln, b.op("Reciprocal", [std], scope)], scope)], scope,
         output="rms_out")
    scope = "/Kept"
    b.op("Sub", ["z", mean("z", scope, [-1])], scope, output="centered_out")
    variance = mean(b.op("Pow", ["centered_out", b.const(2.0, scope, np.float32)], scope), scope, [-1])
    std = b.op("Sqrt", [b.op("Add", [variance, b.const(1e-5, scope, np.float32)], scope)], scope)
    b.op("Div", ["centered_out", std], scope, output="kept_out")
    io = [2, rows, hidden]
    outputs = [tensor(name, FLOAT, io) for name in ("ln_out", "rms_out", "centered_out", "kept_out")]
    return b.model([tensor("x", FLOAT, io), tensor("z", FLOAT, io)], outputs)


def shape_subgraph():
    b = Builder(seed=8)
    shape = b.op("Shape", ["x"], "/view")
    target = b.op("Concat", [dim_of(b, shape, 0, "/view"), b.const([4, 32], "/view")], "/view", axis=0)
    b.op("Reshape", ["x", target], "/view", output="reshaped")
    scope = "/positions"
    ones = b.op("ConstantOfShape", [b.const([1, 128], scope)], scope,
                value=numpy_helper.from_array(np.array([1.0], np.float32)))
    positions = b.op("Range", [b.const(0, scope), b.const(128, scope), b.const(1, scope)], scope)
    biased = b.op("Add", [ones, b.op("Cast", [positions], scope, to=FLOAT)], scope)
    b.op("Expand", [biased, shape], scope, output="expanded")
    outputs = [tensor("reshaped", FLOAT, ["batch", 4, 32]), tensor("expanded", FLOAT, ["batch", 128])]
    return b.model([tensor("x", FLOAT, ["batch", 128])], outputs)


def branch(name, op_type, outer, scope):
    b = Builder()
    b.op(op_type, [outer, b.const(1.0, scope, np.float32)], scope, output=f"{name}_out")
    return helper.make_graph(b.nodes, name, [], [tensor(f"{name}_out", FLOAT, [4])])


def loop_body(outer):
    """sum_out = sum_in + outer + float(iteration); the condition passes through."""
    b = Builder()
    scope = "/loop_body"
    step = b.op("Add", [outer, b.op("Cast", ["iteration"], scope, to=FLOAT)], scope)
    b.op("Add", ["sum_in", step], scope, output="sum_out")
    b.op("Identity", ["cond_in"], scope, output="cond_out")
    inputs = [tensor("iteration", INT64, []), tensor("cond_in", TensorProto.BOOL, []), tensor("sum_in", FLOAT, [4])]
    outputs = [tensor("cond_out", TensorProto.BOOL, []), tensor("sum_out", FLOAT, [4])]
    return helper.make_graph(b.nodes, "loop_body", inputs, outputs)


def if_loop():
    b = Builder(seed=9)
    doubled = b.op("Mul", ["x", b.const(2.0, "", np.float32)])
    b.op("If", ["cond"], "", output="if_out",
         then_branch=branch("then_branch", "Add", doubled, "/then"),
         else_branch=branch("else_branch", "Sub", doubled, "/else"))
    trip_count, keep_going = b.const(3), b.const(True, dtype=bool)
    initial = b.const(np.zeros(4), dtype=np.float32)
    b.op("Loop", [trip_count, keep_going, initial], "", output="loop_sum", body=loop_body("if_out"))
    b.op("Loop", ["trips", keep_going, initial], "", output="loop_runtime",
         body=loop_body("if_out"))
    inputs = [tensor("cond", TensorProto.BOOL, []), tensor("x", FLOAT, [4]),
              tensor("trips", TensorProto.INT64, [])]
    return b.model(inputs, [tensor("if_out", FLOAT, [4]), tensor("loop_sum", FLOAT, [4]),
                            tensor("loop_runtime", FLOAT, [4])])


def nonzero_select(reduce_after=False):
    """torch's x[x > 0] on a 1-D x (NonZero, Squeeze, Gather), with the positions as a second
    output; the number selected is known only at run time. `reduce_after` sums the selection,
    which Catfish cannot do yet."""
    b = Builder(seed=12)
    positions = b.op("NonZero", [b.op("Greater", ["x", b.const(0.0, "", np.float32)])], "",
                     output="positions")
    picked = b.op("Gather", ["x", b.op("Squeeze", [positions, b.const([0])])], "", axis=0)
    b.op("Unique", ["x"], "", output="distinct", sorted=1)
    if reduce_after:
        b.op("ReduceSum", [picked], "", output="picked", keepdims=0)
    else:
        b.op("Identity", [picked], "", output="picked")
    outputs = [tensor("picked", FLOAT, None), tensor("positions", INT64, None),
               tensor("distinct", FLOAT, None)]
    return b.model([tensor("x", FLOAT, [6])], outputs)


def bad_if_nonzero():
    """An If on a run-time condition whose branches return NonZero's positions: control flow
    cannot return a value of run-time size yet."""
    b = Builder(seed=14)

    def positions(name):
        inner = Builder()
        inner.op("NonZero", ["x"], f"/{name}", output=f"{name}_out")
        return helper.make_graph(inner.nodes, name, [], [tensor(f"{name}_out", INT64, None)])

    b.op("If", ["cond"], "", output="y", then_branch=positions("then_branch"),
         else_branch=positions("else_branch"))
    inputs = [tensor("cond", TensorProto.BOOL, []), tensor("x", FLOAT, [6])]
    return b.model(inputs, [tensor("y", INT64, None)])


def bad_nonzero_shape():
    """The shape of NonZero's positions read by ConstantOfShape: only Expand can take a shape
    with a run-time entry yet."""
    b = Builder(seed=15)
    b.op("ConstantOfShape", [b.op("Shape", [b.op("NonZero", ["x"])])], "", output="y")
    return b.model([tensor("x", FLOAT, [6])], [tensor("y", FLOAT, None)])


def bad_nonzero_shape_output():
    """The shape of NonZero's positions as a graph output: its entry is a run-time size."""
    b = Builder(seed=16)
    b.op("Shape", [b.op("NonZero", ["x"])], "", output="y")
    return b.model([tensor("x", FLOAT, [6])], [tensor("y", INT64, [2])])


def bad_tfidf_duplicate():
    """A TfIdfVectorizer pool that lists the bigram (5, 6) twice."""
    b = Builder(seed=17)
    b.op("TfIdfVectorizer", ["x"], "", output="y", mode="TF", min_gram_length=2,
         max_gram_length=2, max_skip_count=0, ngram_counts=[0, 0],
         ngram_indexes=[0, 1, 2], pool_int64s=[5, 6, 7, 8, 5, 6])
    return b.model([tensor("x", INT64, [8])], [tensor("y", FLOAT, [3])], opset=9)


def bad_roi_align_batch_indices():
    """RoiAlign with 4 regions but 3 batch indices."""
    b = Builder(seed=18)
    b.op("RoiAlign", ["x", "rois", "batch"], "", output="y", output_height=2, output_width=2,
         sampling_ratio=2)
    inputs = [tensor("x", FLOAT, [1, 2, 8, 8]), tensor("rois", FLOAT, [4, 4]),
              tensor("batch", INT64, [3])]
    return b.model(inputs, [tensor("y", FLOAT, [4, 2, 2, 2])])


def bad_roi_align_adaptive():
    """RoiAlign as torchvision exports roi_align(sampling_ratio=-1): an adaptive grid."""
    b = Builder(seed=13)
    b.op("RoiAlign", ["x", "rois", "batch"], "", output="y", output_height=2, output_width=2)
    inputs = [tensor("x", FLOAT, [1, 2, 8, 8]), tensor("rois", FLOAT, [3, 4]),
              tensor("batch", INT64, [3])]
    return b.model(inputs, [tensor("y", FLOAT, [3, 2, 2, 2])])


def quant_dequant(b, x, scale, zero_point, scope, **attrs):
    quantized = b.op("QuantizeLinear", [x, scale, zero_point], scope, **attrs)
    return b.op("DequantizeLinear", [quantized, scale, zero_point], scope, **attrs)


def quant():
    b = Builder(seed=10)
    x = quant_dequant(b, "x", b.initializer("x_scale", np.float32(0.05)),
                      b.initializer("x_zero_point", np.uint8(128)), "/input_quant")
    weight = b.rng.standard_normal((4, 8)).astype(np.float32)
    w_scale = b.initializer("fc.weight_scale", (np.abs(weight).max(axis=1) / 127).astype(np.float32))
    w_zero = b.initializer("fc.weight_zero_point", np.zeros(4, np.int8))
    w = quant_dequant(b, b.initializer("fc.weight", weight), w_scale, w_zero, "/weight_quant", axis=0)
    b.op("MatMul", [x, b.op("Transpose", [w], "/fc", perm=[1, 0])], "/fc", output="y")
    integer_weight = b.initializer("int_fc.weight", b.rng.integers(0, 256, (8, 4), dtype=np.uint8))
    zero_points = [b.initializer("int_fc.a_zero_point", np.uint8(128)),
                   b.initializer("int_fc.b_zero_point", np.uint8(3))]
    b.op("MatMulInteger", ["a", integer_weight, *zero_points], "/int_fc", output="y_int")
    inputs = [tensor("x", FLOAT, [2, 8]), tensor("a", TensorProto.UINT8, [2, 8])]
    return b.model(inputs, [tensor("y", FLOAT, [2, 4]), tensor("y_int", TensorProto.INT32, [2, 4])])


def qoperator(channels_last=0):
    """Each com.microsoft QOperator op onnxruntime.quantization writes, on uint8 x: [1, 4, 4, 4]
    with its scales and zero points as initializers; every result is an output."""
    b = Builder(seed=11)
    scale = lambda name, value: b.initializer(name, np.float32(value))
    zero = lambda name, value: b.initializer(name, np.uint8(value))
    x = ["x", scale("x_scale", 0.05), zero("x_zero_point", 128)]
    y = [scale("y_scale", 0.04), zero("y_zero_point", 120)]
    other = b.initializer("other", b.rng.integers(0, 256, (1, 4, 4, 4), dtype=np.uint8))
    o = [other, scale("o_scale", 0.03), zero("o_zero_point", 100)]
    ms = {"domain": "com.microsoft"}
    b.op("QLinearAdd", x + o + y, "/add", output="add", **ms)
    b.op("QLinearMul", x + o + y, "/mul", output="mul", **ms)
    b.op("QLinearSigmoid", x + y, "/sigmoid", output="sigmoid", **ms)
    b.op("QLinearLeakyRelu", x + y, "/leaky_relu", output="leaky_relu", alpha=0.1, **ms)
    b.op("QLinearAveragePool", x + y, "/average_pool", output="average_pool", kernel_shape=[2, 2],
         strides=[2, 2], channels_last=channels_last, **ms)
    b.op("QLinearGlobalAveragePool", x + y, "/global_average_pool", output="global_average_pool",
         channels_last=0, **ms)
    b.op("QLinearSoftmax", x + y, "/softmax", output="softmax", axis=-1, opset=13, **ms)
    b.op("QLinearConcat", y + x + o, "/concat", output="concat", axis=1, **ms)
    weight = b.initializer("fc.weight", b.rng.integers(-128, 128, (4, 3), dtype=np.int8))
    w_scale = b.initializer("fc.weight_scale", np.array([0.01, 0.02, 0.03], np.float32))
    w_zero = b.initializer("fc.weight_zero_point", np.zeros(3, np.int8))
    bias = b.initializer("fc.bias", np.array([100, -200, 300], np.int32))
    a = [b.op("Reshape", ["x", b.const([16, 4])], "/fc"), "x_scale", "x_zero_point"]
    b.op("QGemm", a + [weight, w_scale, w_zero, bias] + y, "/fc", output="gemm", alpha=0.5, **ms)
    b.op("QGemm", a + [weight, w_scale, w_zero], "/fc_float", output="gemm_float", **ms)
    u8 = TensorProto.UINT8
    shapes = {"add": [1, 4, 4, 4], "mul": [1, 4, 4, 4], "sigmoid": [1, 4, 4, 4],
              "leaky_relu": [1, 4, 4, 4], "average_pool": [1, 4, 2, 2],
              "global_average_pool": [1, 4, 1, 1], "softmax": [1, 4, 4, 4],
              "concat": [1, 8, 4, 4], "gemm": [16, 3]}
    outputs = [tensor(name, u8, shape) for name, shape in shapes.items()]
    outputs.append(tensor("gemm_float", FLOAT, [16, 3]))
    model = b.model([tensor("x", u8, [1, 4, 4, 4])], outputs)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def matmul_nbits(bits=4):
    """com.microsoft MatMulNBits as MatMulNBitsQuantizer writes it: y = x[2, 40] times 3 rows of
    40 4-bit weights in 2 blocks of 32 (the second one padded), with packed zero points, a
    scale per row and block, and a bias."""
    b = Builder(seed=12)
    packed = b.initializer("w_q", b.rng.integers(0, 256, (3, 2, 16), dtype=np.uint8))
    scales = b.initializer("w_scales", np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], np.float32))
    zero_points = b.initializer("w_zero_points", np.array([0x98, 0x7A, 0x65], np.uint8))
    bias = b.initializer("bias", np.array([1.0, 2.0, 3.0], np.float32))
    b.op("MatMulNBits", ["x", packed, scales, zero_points, "", bias], "/fc", output="y",
         domain="com.microsoft", K=40, N=3, bits=bits, block_size=32)
    model = b.model([tensor("x", FLOAT, [2, 40])], [tensor("y", FLOAT, [2, 3])])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def recurrent(op_type="GRU", seq=3, **attrs):
    """op_type over x: float[seq, 2, 4] with 5 hidden units, constant weights and bias; outputs Y
    and Y_h (Y_c too for LSTM)."""
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op_type]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    b = Builder(seed=13)
    w = b.initializer("W", b.rng.uniform(-1, 1, (dirs, gates * 5, 4)).astype(np.float32))
    r = b.initializer("R", b.rng.uniform(-1, 1, (dirs, gates * 5, 5)).astype(np.float32))
    bias = b.initializer("B", b.rng.uniform(-1, 1, (dirs, 2 * gates * 5)).astype(np.float32))
    outputs = ["Y", "Y_h"] + (["Y_c"] if op_type == "LSTM" else [])
    b.ops(op_type, ["x", w, r, bias], outputs=outputs, hidden_size=5, **attrs)
    return b.model([tensor("x", FLOAT, [seq, 2, 4])],
                   [tensor(n, FLOAT, None) for n in outputs])


def bad_legacy_training_batch_norm():
    """An opset 6 BatchNormalization without is_test = 1: training mode."""
    b = Builder()
    params = [b.initializer(n, np.ones(3, np.float32)) for n in ("scale", "bias", "mean", "var")]
    b.op("BatchNormalization", ["x"] + params, output="y")
    return b.model([tensor("x", FLOAT, [2, 3, 4])], [tensor("y", FLOAT, [2, 3, 4])], opset=6)


def shape_arithmetic():
    """The TorchScript exporter's shape arithmetic on x: float[b, s, 8], with symbolic dims that
    --shape fixes: x.mean(0, keepdim=True).expand(b, -1, -1) (Equal/Where on the target shape),
    a nearest resize to floor(float(s) * 1.5) rows (Cast, Mul, Floor, Cast on a Shape slice),
    and x.reshape(x.numel()) (ReduceProd of the shape)."""
    b = Builder()
    shape = b.op("Shape", ["x"])
    batch = b.op("Unsqueeze", [b.op("Gather", [shape, b.const(0)]), b.const([0])])
    target = b.op("Concat", [batch, b.const([-1, -1])], axis=0)
    minus_one = b.const([-1])
    is_free = b.op("Equal", [target, minus_one])
    ones = b.op("ConstantOfShape", [b.op("Shape", [target])],
                value=numpy_helper.from_array(np.array([1], np.int64)))
    fixed = b.op("Where", [is_free, ones, target])
    mean = b.op("ReduceMean", ["x"], axes=[0], keepdims=1)
    b.op("Expand", [mean, fixed], output="expanded")
    rows = b.op("Slice", [shape, b.const([1]), b.const([2])])
    scaled = b.op("Mul", [b.op("Cast", [rows], to=FLOAT),
                          b.const(np.float32(1.5), dtype=np.float32)])
    size = b.op("Cast", [b.op("Floor", [scaled])], to=helper.TensorProto.INT64)
    sizes = b.op("Concat", [batch, size, b.const([8])], axis=0)
    b.op("Resize", ["x", "", "", sizes], mode="nearest", output="resized")
    b.op("Reshape", ["x", b.op("ReduceProd", [shape], keepdims=1)], output="flat")
    return b.model([tensor("x", FLOAT, ["b", "s", 8])],
                   [tensor(n, FLOAT, None) for n in ("expanded", "resized", "flat")])


def large_fill():
    """ConstantOfShape of [512, 256] (2.5), an output and added to x: too large to be a weight."""
    b = Builder()
    shape = b.initializer("shape", np.array([512, 256], np.int64))
    value = numpy_helper.from_array(np.array([2.5], np.float32))
    fill = b.op("ConstantOfShape", [shape], "/fill", output="y", value=value)
    b.op("Add", [fill, "x"], "/add", output="z")
    return b.model([tensor("x", FLOAT, [512, 256])],
                   [tensor("y", FLOAT, [512, 256]), tensor("z", FLOAT, [512, 256])])


def bad_huge_tensor():
    """ConstantOfShape of [2^21, 2^21, 2]: 2^43 elements, more than any model can hold."""
    b = Builder()
    shape = b.initializer("shape", np.array([1 << 21, 1 << 21, 2], np.int64))
    b.op("ConstantOfShape", [shape], "/fill", output="y")
    return b.model([], [tensor("y", FLOAT, [1 << 21, 1 << 21, 2])])


def typed_initializer(b, name, elem_type, values):
    """Initializer of a type numpy lacks (bfloat16, int4), stored the way onnx.helper packs it."""
    b.initializers.append(helper.make_tensor(name, elem_type, [len(values)], values))
    return name


def cast_chain(b, x, elem_types, scope):
    for elem_type in elem_types:
        x = b.op("Cast", [x], scope, to=elem_type)
    return x


def dtypes():
    b = Builder(seed=11)
    scope = "/cast_chain"
    half = b.op("Add", [b.op("Cast", ["x"], scope, to=TensorProto.FLOAT16),
                        b.initializer("bias_f16", np.array([0.5, -1, 2, 0.25], np.float16))], scope, output="half")
    narrow = [TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E5M2, FLOAT, TensorProto.INT4, FLOAT]
    chain = cast_chain(b, half, narrow, scope)
    scope = "/typed_initializers"
    extras = [
        typed_initializer(b, "bias_bf16", TensorProto.BFLOAT16, [1.5, -0.5, 0.0, 3.0]),
        b.initializer("bias_i8", np.array([-128, -1, 1, 127], np.int8)),
        typed_initializer(b, "bias_i4", TensorProto.INT4, [-8, -1, 3, 7]),
    ]
    total = chain
    for extra in extras:
        total = b.op("Add", [total, b.op("Cast", [extra], scope, to=FLOAT)], scope)
    b.op("Where", [b.initializer("select", np.array([True, False, True, False])), total, "x"], scope, output="selected")
    outputs = [tensor("half", TensorProto.FLOAT16, [4]), tensor("selected", FLOAT, [4])]
    return b.model([tensor("x", FLOAT, [4])], outputs, opset=21, ir_version=10)


def save_external(model, out):
    """Saves `model` with every initializer in one external file, OUT.data, next to OUT."""
    location = os.path.basename(out) + ".data"
    data_path = os.path.join(os.path.dirname(out), location)
    if os.path.exists(data_path):
        os.remove(data_path)  # onnx appends to an existing data file
    onnx.save_model(model, out, save_as_external_data=True, all_tensors_to_one_file=True, location=location,
                    size_threshold=0)


def external_data(out, options):
    save_external(mlp(hidden=256), out)


def large_weights(out, options):
    """A stack of options.layers Linear+Relu layers of width options.hidden, weights in external data."""
    b = Builder(seed=12)
    h = "x"
    for layer in range(options.layers):
        scope = f"/layers.{layer}"
        h = linear(b, h, scope, f"layers.{layer}", options.hidden, options.hidden)
        h = b.op("Relu", [h], scope, output="y" if layer == options.layers - 1 else None)
    io_shape = [1, options.hidden]
    save_external(b.model([tensor("x", FLOAT, io_shape)], [tensor("y", FLOAT, io_shape)]), out)


def write_bytes(out, data):
    with open(out, "wb") as f:
        f.write(data)


def bad_empty(out, options):
    write_bytes(out, b"")


def bad_truncated(out, options):
    data = mlp().SerializeToString()
    write_bytes(out, data[: len(data) // 2])


def bad_not_onnx(out, options):
    write_bytes(out, b"hello\n")


def bad_random_bytes(out, options):
    write_bytes(out, np.random.default_rng(13).bytes(4096))


def bad_deep_nesting(out, options):
    """300 If nodes, each in the then_branch of the one before: 900 nested messages, encoded
    by hand (protobuf's own encoders refuse such depths)."""
    def field(number, payload):
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def varint(value):
        encoded = b""
        while value >= 0x80:
            encoded += bytes([value & 0x7F | 0x80])
            value >>= 7
        return encoded + bytes([value])

    graph = b""
    for _ in range(300):
        attribute = field(1, b"then_branch") + varint(20 << 3) + varint(5) + field(6, graph)
        node = field(1, b"c") + field(2, b"y") + field(4, b"If") + field(5, attribute)
        graph = field(1, node)
    opset = varint(2 << 3) + varint(17)
    write_bytes(out, varint(1 << 3) + varint(8) + field(8, opset) + field(7, graph))


def raw_model(nodes, inputs, outputs, initializers=(), opset=17, extra_opsets=()):
    """A model built without any checking, for the malformed cases."""
    graph = helper.make_graph(nodes, "main_graph", inputs, outputs, list(initializers))
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8, producer_name="catfish-make-model")


def unary_model(op_type, opset=17, domain="", **attrs):
    """y = op_type(x) on x: float[2, 3]."""
    node = helper.make_node(op_type, ["x"], ["y"], name=f"/{op_type}", domain=domain, **attrs)
    extra = [(domain, 1)] if domain else []
    outputs = [tensor("y", FLOAT, ["d0", "d1"])]
    return raw_model([node], [tensor("x", FLOAT, [2, 3])], outputs, opset=opset, extra_opsets=extra)


def binary_model(op_type, other_shape):
    """y = op_type(x, w) on x: float[2, 3] and an initializer w: float[other_shape]."""
    weight = numpy_helper.from_array(np.ones(other_shape, np.float32), "w")
    node = helper.make_node(op_type, ["x", "w"], ["y"], name=f"/{op_type}")
    return raw_model([node], [tensor("x", FLOAT, [2, 3])], [tensor("y", FLOAT, ["d0", "d1"])], [weight])


def bad_cycle():
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="/Add"),
        helper.make_node("Add", ["a", "x"], ["b"], name="/Add_1"),
    ]
    return raw_model(nodes, [tensor("x", FLOAT, [2, 3])], [tensor("a", FLOAT, [2, 3])])


def bad_undefined_value():
    node = helper.make_node("Add", ["x", "nowhere"], ["y"], name="/Add")
    return raw_model([node], [tensor("x", FLOAT, [2, 3])], [tensor("y", FLOAT, [2, 3])])


def bad_defined_twice():
    nodes = [
        helper.make_node("Relu", ["x"], ["y"], name="/Relu"),
        helper.make_node("Neg", ["x"], ["y"], name="/Neg"),
    ]
    return raw_model(nodes, [tensor("x", FLOAT, [2, 3])], [tensor("y", FLOAT, [2, 3])])


def bad_unproduced_output():
    node = helper.make_node("Relu", ["x"], ["y"], name="/Relu")
    outputs = [tensor("y", FLOAT, [2, 3]), tensor("ghost", FLOAT, [2, 3])]
    return raw_model([node], [tensor("x", FLOAT, [2, 3])], outputs)


def bad_short_initializer():
    weight = TensorProto(name="w", data_type=FLOAT, dims=[4, 4], raw_data=bytes(12))
    node = helper.make_node("Add", ["x", "w"], ["y"], name="/Add")
    return raw_model([node], [tensor("x", FLOAT, [4, 4])], [tensor("y", FLOAT, [4, 4])], [weight])


def bad_reshape_mismatch():
    shape = numpy_helper.from_array(np.array([4, 4], np.int64))
    nodes = [
        helper.make_node("Constant", [], ["shape"], name="/Constant", value=shape),
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="/Reshape"),
    ]
    return raw_model(nodes, [tensor("x", FLOAT, [2, 3])], [tensor("y", FLOAT, [4, 4])])


def bad_resize_runtime_scales():
    """Resize whose scales arrive at run time: the output shape is unknown when compiling."""
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="/Resize", mode="nearest")
    inputs = [tensor("x", FLOAT, [1, 1, 2, 2]), tensor("scales", FLOAT, [4])]
    return raw_model([node], inputs, [tensor("y", FLOAT, None)], opset=19)


def bad_range_runtime_limit():
    """Range up to a graph input: its length has no bound at compile time."""
    node = helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="/Range")
    start = numpy_helper.from_array(np.array(0, np.int64), "start")
    delta = numpy_helper.from_array(np.array(1, np.int64), "delta")
    inputs = [tensor("limit", INT64, [])]
    return raw_model([node], inputs, [tensor("y", INT64, None)], initializers=[start, delta])


def bad_training_dropout():
    """Dropout whose training_mode is a graph input: it may drop at random."""
    node = helper.make_node("Dropout", ["x", "", "training"], ["y"], name="/Dropout")
    inputs = [tensor("x", FLOAT, [2, 3]), tensor("training", TensorProto.BOOL, [])]
    return raw_model([node], inputs, [tensor("y", FLOAT, [2, 3])])


def external_model(location, length=64):
    """y = x + w, x: float[4, 4], w stored externally at `location` (offset 0, `length` bytes)."""
    weight = TensorProto(name="w", data_type=FLOAT, dims=[4, 4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", "0"), ("length", str(length))):
        weight.external_data.add(key=key, value=value)
    node = helper.make_node("Add", ["x", "w"], ["y"], name="/Add")
    return raw_model([node], [tensor("x", FLOAT, [4, 4])], [tensor("y", FLOAT, [4, 4])], [weight])


def bad_external_missing(out, options):
    onnx.save_model(external_model("does_not_exist.bin"), out)


def bad_external_short(out, options):
    location = os.path.basename(out) + ".data"
    write_bytes(os.path.join(os.path.dirname(out), location), bytes(32))
    onnx.save_model(external_model(location, length=64), out)


def bad_external_absolute(out, options):
    onnx.save_model(external_model("/etc/passwd"), out)


def bad_external_parent(out, options):
    """Points at ../secret.bin, and creates it (if we may) so only the path check can reject the model."""
    parent = os.path.dirname(os.path.dirname(os.path.abspath(out)))
    if os.access(parent, os.W_OK):
        staging = os.path.join(parent, f"secret.bin.{os.getpid()}")
        write_bytes(staging, bytes(range(64)))
        os.replace(staging, os.path.join(parent, "secret.bin"))
    onnx.save_model(external_model("../secret.bin"), out)


def saved(build):
    """Adapts a function returning a ModelProto into a case writer."""
    def write(out, options):
        onnx.save_model(build(), out)
    return write


CASES = {
    "mlp": saved(mlp),
    "gemm": saved(gemm),
    "views": saved(views),
    "elementwise": saved(elementwise),
    "reductions": saved(reductions),
    "cnn": saved(cnn),
    "bert_layer": saved(bert_layer),
    "gpt2_block": saved(gpt2_block),
    "llama_block": saved(llama_block),
    "moe_block": saved(moe_block),
    "topk": saved(topk),
    "topk_sort": saved(lambda: topk(sort_k=100)),
    "shape_subgraph": saved(shape_subgraph),
    "if_loop": saved(if_loop),
    "attention": saved(attention),
    "norms": saved(norms),
    "half_mlp": saved(half_mlp),
    "bf16_mlp": saved(bf16_mlp),
    "quant": saved(quant),
    "qoperator": saved(qoperator),
    "matmul_nbits": saved(matmul_nbits),
    "dtypes": saved(dtypes),
    "external_data": external_data,
    "large_weights": large_weights,
    "bad_empty": bad_empty,
    "bad_truncated": bad_truncated,
    "bad_not_onnx": bad_not_onnx,
    "bad_random_bytes": bad_random_bytes,
    "bad_deep_nesting": bad_deep_nesting,
    "bad_unknown_op": saved(lambda: unary_model("FooBar")),
    "bad_custom_domain": saved(lambda: unary_model("FusedGelu", domain="com.example")),
    "bad_contrib_op": saved(lambda: unary_model("FusedGelu", domain="com.microsoft")),
    "bad_channels_last": saved(lambda: qoperator(channels_last=1)),
    "bad_matmul_nbits_bits": saved(lambda: matmul_nbits(bits=8)),
    "bad_huge_tensor": saved(bad_huge_tensor),
    "large_fill": saved(large_fill),
    "gru": saved(recurrent),
    "shape_arithmetic": saved(shape_arithmetic),
    "nonzero_select": saved(nonzero_select),
    "bad_nonzero_reduce": saved(lambda: nonzero_select(reduce_after=True)),
    "bad_roi_align_adaptive": saved(bad_roi_align_adaptive),
    "bad_if_nonzero": saved(bad_if_nonzero),
    "bad_nonzero_shape": saved(bad_nonzero_shape),
    "bad_nonzero_shape_output": saved(bad_nonzero_shape_output),
    "bad_tfidf_duplicate": saved(bad_tfidf_duplicate),
    "bad_roi_align_batch_indices": saved(bad_roi_align_batch_indices),
    "bad_rnn_dynamic_sequence": saved(lambda: recurrent("RNN", seq="seq")),
    "bad_lstm_activation": saved(lambda: recurrent("LSTM", activations=["Sigmoid", "Gelu", "Tanh"])),
    "bad_gru_activation_count": saved(lambda: recurrent("GRU", direction="bidirectional",
                                                        activations=["Sigmoid", "Tanh"])),
    "bad_opset_too_new": saved(lambda: unary_model("Relu", opset=99)),
    "bad_opset_too_old": saved(lambda: unary_model("Relu", opset=0)),
    "bad_legacy_training_batch_norm": saved(bad_legacy_training_batch_norm),
    "bad_bad_attribute": saved(lambda: unary_model("Transpose", perm=[1, 0, 2])),
    "bad_cycle": saved(bad_cycle),
    "bad_undefined_value": saved(bad_undefined_value),
    "bad_defined_twice": saved(bad_defined_twice),
    "bad_unproduced_output": saved(bad_unproduced_output),
    "bad_incompatible_shapes": saved(lambda: binary_model("Add", [4, 5])),
    "bad_short_initializer": saved(bad_short_initializer),
    "bad_external_missing": bad_external_missing,
    "bad_external_short": bad_external_short,
    "bad_external_absolute": bad_external_absolute,
    "bad_external_parent": bad_external_parent,
    "bad_matmul_shapes": saved(lambda: binary_model("MatMul", [4, 5])),
    "bad_missing_attribute": saved(lambda: unary_model("Cast")),
    "bad_reshape_mismatch": saved(bad_reshape_mismatch),
    "bad_resize_runtime_scales": saved(bad_resize_runtime_scales),
    "bad_range_runtime_limit": saved(bad_range_runtime_limit),
    "bad_training_dropout": saved(bad_training_dropout),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", choices=CASES, metavar="NAME")
    parser.add_argument("out", nargs="?", metavar="OUT_PATH")
    parser.add_argument("--list", action="store_true", help="print every case name and exit")
    parser.add_argument("--layers", type=int, default=4, help="large_weights: number of layers")
    parser.add_argument("--hidden", type=int, default=256, help="large_weights: layer width")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return
    if args.name is None or args.out is None:
        parser.error("NAME and OUT_PATH are required")
    if args.layers < 1 or args.hidden < 1:
        parser.error("--layers and --hidden must be positive")
    CASES[args.name](args.out, args)


if __name__ == "__main__":
    main(sys.argv[1:])
