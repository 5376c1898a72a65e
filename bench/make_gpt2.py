#!/usr/bin/env python3
"""Writes a GPT-2-small-shaped decoder (random weights) the way torch.onnx.export's TorchScript
exporter writes Hugging Face's GPT2LMHeadModel at opset 17 for a prefill: 12 blocks, hidden
768, 12 heads, MLP 3072, vocabulary 50257, 1024 positions; input 'input_ids' int64
['batch', 'sequence'], output 'logits' ['batch', 'sequence', 50257].

As that exporter writes it:
- positions are Range(0, sequence) from the input's Shape, unsqueezed;
- every Conv1D is Reshape to 2-D, Gemm with the [in, out] weight and bias, Reshape back, the
  shapes computed by Shape/Gather/Concat subgraphs;
- c_attn is split into query, key and value by Split; heads by Reshape and Transpose; the
  scores are divided by sqrt(64) and masked by Where on a slice of the causal bool buffer
  [1, 1, 1024, 1024] (the slice bounds computed from the shapes), with float32's lowest value;
- GELU is gelu_new, the tanh form written out op by op;
- the LM head is tied to the token embedding; the exporter folds its transpose into an
  initializer of its own ([768, 50257]).
About 163 M stored parameters (~650 MB), written as bench/import_bert.py writes BERT-base:
DIR/model.onnx and its external data DIR/model.onnx.data, streamed tensor by tensor.

    .venv/bin/python bench/make_gpt2.py build/bench/gpt2
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from import_bert import DATA_NAME, MODEL_NAME, GraphBuilder

LAYERS, HIDDEN, HEADS, INNER = 12, 768, 12, 3072
VOCAB, POSITIONS = 50257, 1024
HEAD_DIM = HIDDEN // HEADS
LN_EPSILON = 1e-5


class Builder(GraphBuilder):
    """import_bert's builder (nodes, constants, streamed initializers, exported shape pieces)
    with the shapes of GPT-2's Conv1D and attention."""

    def reshape(self, x, name, leading, tail):
        """Reshape x to [*leading, *tail]; `leading` are 1-D pieces from `dims`."""
        shape = self.node("Concat", [*leading, self.constant(f"{name}/tail",
                                                               np.array(tail, np.int64))],
                          f"{name}/Concat", axis=0)
        return self.node("Reshape", [x, shape], f"{name}/Reshape")

    def conv1d(self, x, name, n_in, n_out):
        """HF Conv1D: addmm(bias, x.view(-1, n_in), weight).view(*x.shape[:-1], n_out)."""
        leading = self.dims(x, f"{name}/size", (0, 1))
        flat = self.reshape(x, f"{name}/flat", [], [-1, n_in])
        y = self.node("Gemm", [flat, self.random(f"{name}.weight", (n_in, n_out)),
                               self.random(f"{name}.bias", (n_out,))], f"{name}/Gemm",
                      alpha=1.0, beta=1.0)
        return self.reshape(y, f"{name}/view", leading, [n_out])

    def layer_norm(self, x, name, output=None):
        return self.node("LayerNormalization",
                         [x, self.random(f"{name}.weight", (HIDDEN,), mean=1.0),
                          self.random(f"{name}.bias", (HIDDEN,))],
                         f"{name}/LayerNormalization", output=output, axis=-1,
                         epsilon=LN_EPSILON)


def attention(b, x, name):
    qkv = b.conv1d(x, f"{name}.c_attn", HIDDEN, 3 * HIDDEN)
    split = b.constant(f"{name}/split", np.array([HIDDEN] * 3, np.int64))
    parts = [f"{name}/Split_output_{i}" for i in range(3)]
    b.nodes.append(helper.make_node("Split", [qkv, split], parts, name=f"{name}/Split", axis=2))
    heads = []
    for part, label in zip(parts, ("query", "key", "value")):
        leading = b.dims(part, f"{name}/{label}_size", (0, 1))
        h = b.reshape(part, f"{name}/{label}_heads", leading, [HEADS, HEAD_DIM])
        heads.append(b.node("Transpose", [h], f"{name}/{label}/Transpose", perm=[0, 2, 1, 3]))
    query, key, value = heads
    key_t = b.node("Transpose", [key], f"{name}/key_t/Transpose", perm=[0, 1, 3, 2])
    scores = b.node("MatMul", [query, key_t], f"{name}/MatMul")
    scale = b.constant(f"{name}/scale", np.array(np.sqrt(HEAD_DIM), np.float32))
    scores = b.node("Div", [scores, scale], f"{name}/Div")

    # causal_mask = bias[:, :, key_len - query_len : key_len, :key_len]
    query_len = b.dims(query, f"{name}/query_len", (2,))[0]
    key_len = b.dims(key, f"{name}/key_len", (2,))[0]
    start = b.node("Sub", [key_len, query_len], f"{name}/Sub")
    rows_axis = b.constant(f"{name}/rows_axis", np.array([2], np.int64))
    rows = b.node("Slice", ["attn.bias", start, key_len, rows_axis], f"{name}/Slice_rows")
    zero = b.constant(f"{name}/zero", np.array([0], np.int64))
    cols_axis = b.constant(f"{name}/cols_axis", np.array([3], np.int64))
    mask = b.node("Slice", [rows, zero, key_len, cols_axis], f"{name}/Slice_cols")
    lowest = b.constant(f"{name}/lowest", np.array(np.finfo(np.float32).min, np.float32))
    scores = b.node("Where", [mask, scores, lowest], f"{name}/Where")

    probs = b.node("Softmax", [scores], f"{name}/Softmax", axis=-1)
    context = b.node("MatMul", [probs, value], f"{name}/MatMul_1")
    context = b.node("Transpose", [context], f"{name}/merge/Transpose", perm=[0, 2, 1, 3])
    leading = b.dims(context, f"{name}/merge_size", (0, 1))
    context = b.reshape(context, f"{name}/merge", leading, [HIDDEN])
    return b.conv1d(context, f"{name}.c_proj", HIDDEN, HIDDEN)


def gelu_new(b, x, name):
    """0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))."""
    c = {k: b.constant(f"{name}/{k}", np.array(v, np.float32)) for k, v in (
        ("half", 0.5), ("three", 3.0), ("coeff", 0.044715), ("sqrt_2_pi", np.sqrt(2 / np.pi)),
        ("one", 1.0))}
    half_x = b.node("Mul", [c["half"], x], f"{name}/Mul")
    cube = b.node("Pow", [x, c["three"]], f"{name}/Pow")
    inner = b.node("Mul", [c["coeff"], cube], f"{name}/Mul_1")
    inner = b.node("Add", [x, inner], f"{name}/Add")
    inner = b.node("Mul", [c["sqrt_2_pi"], inner], f"{name}/Mul_2")
    t = b.node("Tanh", [inner], f"{name}/Tanh")
    t = b.node("Add", [c["one"], t], f"{name}/Add_1")
    return b.node("Mul", [half_x, t], f"{name}/Mul_3")


def block(b, h, index):
    name = f"transformer.h.{index}"
    a = attention(b, b.layer_norm(h, f"{name}.ln_1"), f"{name}.attn")
    h = b.node("Add", [a, h], f"{name}/Add")
    m = b.conv1d(b.layer_norm(h, f"{name}.ln_2"), f"{name}.mlp.c_fc", HIDDEN, INNER)
    m = gelu_new(b, m, f"{name}.mlp.act")
    m = b.conv1d(m, f"{name}.mlp.c_proj", INNER, HIDDEN)
    return b.node("Add", [h, m], f"{name}/Add_1")


def build(b, rng):
    b.initializer("attn.bias", np.tril(np.ones((POSITIONS, POSITIONS), bool))[None, None])
    wte_data = rng.standard_normal((VOCAB, HIDDEN), dtype=np.float32) * np.float32(0.02)
    wte = b.initializer("transformer.wte.weight", wte_data)
    seq = b.node("Gather", [b.node("Shape", ["input_ids"], "/pos/Shape"),
                            b.constant("/pos/index", np.array(1, np.int64))],
                 "/pos/Gather", axis=0)
    positions = b.node("Range", [b.constant("/pos/start", np.array(0, np.int64)), seq,
                                 b.constant("/pos/delta", np.array(1, np.int64))], "/pos/Range")
    positions = b.node("Unsqueeze", [positions, b.constant("/pos/axes", np.array([0], np.int64))],
                       "/pos/Unsqueeze")
    h = b.node("Add", [b.node("Gather", [wte, "input_ids"], "/wte/Gather"),
                       b.node("Gather", [b.random("transformer.wpe.weight", (POSITIONS, HIDDEN),
                                                  0.01), positions], "/wpe/Gather")], "/embed/Add")
    for i in range(LAYERS):
        h = block(b, h, i)
    h = b.layer_norm(h, "transformer.ln_f")
    lm_head = b.initializer("onnx::MatMul_lm_head", np.ascontiguousarray(wte_data.T))
    b.node("MatMul", [h, lm_head], "/lm_head/MatMul", output="logits")
    graph = helper.make_graph(
        b.nodes, "main_graph",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", "sequence", VOCAB])], b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="catfish-bench")
    model.ir_version = 8  # onnxruntime 1.22 reads IR versions up to 10
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    args = parser.parse_args()
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(out / DATA_NAME, "wb") as data_file:
        model = build(Builder(data_file, rng), rng)
    onnx.save(model, out / MODEL_NAME)
    onnx.checker.check_model(str(out / MODEL_NAME), full_check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
