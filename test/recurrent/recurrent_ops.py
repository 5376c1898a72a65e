#!/usr/bin/env python3
"""RNN, GRU, LSTM, ReverseSequence and Scan against onnxruntime.

Each case is one node with seeded random inputs (weights as graph inputs or initializers),
covering every direction, both layouts, biases, initial states, sequence lengths (including a
zero and a full length), peepholes, input_forget, linear_before_reset, the cell clip, every
activation function with its alpha and beta, f64 (against the ONNX reference implementation:
onnxruntime computes these ops in f32 only), and outputs left out; sequences of 5 steps, which
are unrolled, and of 24 to 40, which run as a loop over time in the plan. Catfish compiles and runs it (with fusion and without on the CPU; with fusion as a CUDA plan on the emulator) and
every output must match onnxruntime within rtol 1e-4, atol 1e-5. One exception: onnxruntime
leaves the last state of a length-0 batch entry unwritten; the reference there is the initial
state, as no step ran.

  recurrent_ops.py --bin-dir build/bin --work-dir /tmp/rnn [--cases gru_] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
SEQ, BATCH, INPUT, HIDDEN = 5, 3, 4, 6


def recurrent_case(op, direction="forward", bias=True, initial=False, lens=None, layout=0,
                   peephole=False, outputs=("Y", "Y_h", "Y_c"), dtype=np.float32,
                   weights_constant=False, seq=SEQ, seed=0, **attrs):
    """(model, feeds, expected outputs) for one recurrent node. onnxruntime computes only
    layout 0, so a layout 1 node's reference is its layout 0 twin on the transposed inputs,
    with the outputs transposed back."""
    rng = np.random.default_rng(seed)
    dirs = 2 if direction == "bidirectional" else 1
    g = GATES[op]
    tensors = {
        "X": rng.uniform(-1, 1, (seq, BATCH, INPUT)),
        "W": rng.uniform(-0.6, 0.6, (dirs, g * HIDDEN, INPUT)),
        "R": rng.uniform(-0.6, 0.6, (dirs, g * HIDDEN, HIDDEN)),
    }
    if bias:
        tensors["B"] = rng.uniform(-0.5, 0.5, (dirs, 2 * g * HIDDEN))
    if lens is not None:
        tensors["sequence_lens"] = np.array(lens, np.int32)
    if initial:
        tensors["initial_h"] = rng.uniform(-1, 1, (dirs, BATCH, HIDDEN))
        if op == "LSTM":
            tensors["initial_c"] = rng.uniform(-1, 1, (dirs, BATCH, HIDDEN))
    if peephole:
        tensors["P"] = rng.uniform(-0.5, 0.5, (dirs, 3 * HIDDEN))
    tensors = {k: v if v.dtype == np.int32 else v.astype(dtype) for k, v in tensors.items()}
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h"]
    if op == "LSTM":
        order += ["initial_c", "P"]
    names = [n if n in tensors else "" for n in order]
    while names[-1] == "":
        names.pop()
    out_names = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    out_names = [n if n in outputs else "" for n in out_names]
    while out_names[-1] == "":
        out_names.pop()
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    constant = {"W", "R", "B", "P"} if weights_constant else set()

    def build(model_layout, feeds):
        node = helper.make_node(op, names, out_names, hidden_size=HIDDEN, direction=direction,
                                layout=model_layout, **attrs)
        graph = helper.make_graph(
            [node], op.lower(),
            [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype),
                                           feeds[n].shape)
             for n in names if n and n not in constant],
            [helper.make_tensor_value_info(n, onnx_type, None) for n in out_names if n],
            [numpy_helper.from_array(tensors[n], n) for n in names if n in constant])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)],
                                 ir_version=8)

    feeds = {n: tensors[n] for n in names if n and n not in constant}
    if dtype == np.float64:  # onnxruntime computes these ops in f32 only
        reference = ReferenceEvaluator(build(0, feeds)).run(None, feeds)
    else:
        reference = ort.InferenceSession(build(0, feeds).SerializeToString(),
                                         providers=["CPUExecutionProvider"]).run(None, feeds)
    # A batch entry of length 0 takes no step, so its last state is its initial one (zero when
    # not given). onnxruntime leaves those states unwritten (garbage), so they are set here.
    for b in np.flatnonzero(np.asarray(lens) == 0) if lens is not None else []:
        for i, n in enumerate(n for n in out_names if n):
            if n != "Y":
                initial_state = tensors.get("initial_h" if n == "Y_h" else "initial_c")
                reference[i][:, b] = 0 if initial_state is None else initial_state[:, b]
    if not layout:
        return build(0, feeds), feeds, reference
    batch_major = {"X": (1, 0, 2), "initial_h": (1, 0, 2), "initial_c": (1, 0, 2)}
    feeds = {n: v.transpose(batch_major[n]) if n in batch_major else v for n, v in feeds.items()}
    reference = [v.transpose((2, 0, 1, 3) if n == "Y" else (1, 0, 2))
                 for n, v in zip([n for n in out_names if n], reference)]
    return build(1, feeds), feeds, reference


def reverse_sequence_case(time_axis, seed=0):
    rng = np.random.default_rng(seed)
    shape = (4, 3, 5) if time_axis == 0 else (3, 4, 5)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    lens = np.array([4, 1, 3], np.int64)
    node = helper.make_node("ReverseSequence", ["x", "lens"], ["y"], time_axis=time_axis,
                            batch_axis=1 - time_axis)
    graph = helper.make_graph([node], "reverse_sequence",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
                               helper.make_tensor_value_info("lens", TensorProto.INT64, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    feeds = {"x": x, "lens": lens}
    return model, feeds, ort.InferenceSession(model.SerializeToString(),
                                              providers=["CPUExecutionProvider"]).run(None, feeds)


def scan_case(seed=0):
    """Scan (opset 16, unrolled at import): a running sum of x * y over axis 1 of both, y read
    backwards; the state and the per-step sums (stacked along axis 1, in reverse) are outputs."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, 5, 4)).astype(np.float32)
    y = rng.uniform(-1, 1, (3, 5, 4)).astype(np.float32)
    state = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    body = helper.make_graph(
        [helper.make_node("Mul", ["xt", "yt"], ["p"]), helper.make_node("Add", ["s", "p"], ["s2"]),
         helper.make_node("Identity", ["s2"], ["out"])], "body",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3, 4]) for n in ("s", "xt", "yt")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3, 4]) for n in ("s2", "out")])
    node = helper.make_node("Scan", ["state", "x", "y"], ["final", "sums"], body=body,
                            num_scan_inputs=2, scan_input_axes=[1, 1],
                            scan_input_directions=[0, 1], scan_output_axes=[1],
                            scan_output_directions=[1])
    graph = helper.make_graph(
        [node], "scan", [helper.make_tensor_value_info(n, TensorProto.FLOAT, v.shape)
                         for n, v in (("state", state), ("x", x), ("y", y))],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("final", "sums")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)], ir_version=8)
    feeds = {"state": state, "x": x, "y": y}
    return model, feeds, ort.InferenceSession(model.SerializeToString(),
                                              providers=["CPUExecutionProvider"]).run(None, feeds)


CASES = {}


def case(name, fn, *args, **kwargs):
    seed = len(CASES)
    CASES[name] = lambda: fn(*args, seed=seed, **kwargs)


for op in GATES:
    low = op.lower()
    case(f"{low}_defaults", recurrent_case, op, bias=False)
    case(f"{low}_reverse", recurrent_case, op, direction="reverse", initial=True)
    case(f"{low}_bidirectional", recurrent_case, op, direction="bidirectional", initial=True)
    case(f"{low}_lens", recurrent_case, op, lens=[5, 2, 0], initial=True)
    case(f"{low}_reverse_lens", recurrent_case, op, direction="reverse", lens=[3, 5, 1])
    case(f"{low}_bidirectional_lens", recurrent_case, op, direction="bidirectional",
         lens=[2, 5, 4], initial=True)
    case(f"{low}_layout1", recurrent_case, op, direction="bidirectional", layout=1, initial=True,
         lens=[4, 1, 5])
    case(f"{low}_clip", recurrent_case, op, clip=0.4)
    case(f"{low}_state_only", recurrent_case, op, outputs=("Y_h",), direction="bidirectional")
    case(f"{low}_constant_weights", recurrent_case, op, weights_constant=True,
         direction="bidirectional")
    case(f"{low}_f64", recurrent_case, op, dtype=np.float64, initial=True, outputs=("Y", "Y_h"))

case("rnn_activations", recurrent_case, "RNN", direction="bidirectional",
     activations=["Relu", "LeakyRelu"], activation_alpha=[0.0, 0.3])
case("rnn_scaled_tanh_affine", recurrent_case, "RNN", direction="bidirectional",
     activations=["ScaledTanh", "Affine"], activation_alpha=[1.5, 0.5], activation_beta=[0.7, 0.2])
case("rnn_elu_thresholded", recurrent_case, "RNN", direction="bidirectional",
     activations=["Elu", "ThresholdedRelu"], activation_alpha=[0.8, 0.1])
case("gru_activations", recurrent_case, "GRU", activations=["HardSigmoid", "Softsign"],
     activation_alpha=[0.3, 0.0], activation_beta=[0.4, 0.0])
case("gru_softplus", recurrent_case, "GRU", direction="bidirectional",
     activations=["Sigmoid", "Softplus", "Sigmoid", "Tanh"])
case("gru_linear_before_reset", recurrent_case, "GRU", direction="bidirectional",
     linear_before_reset=1, initial=True, lens=[5, 3, 1])
case("gru_linear_before_reset_no_bias", recurrent_case, "GRU", linear_before_reset=1,
     bias=False)
case("lstm_peepholes", recurrent_case, "LSTM", direction="bidirectional", peephole=True,
     initial=True, lens=[5, 4, 2])
case("lstm_input_forget", recurrent_case, "LSTM", input_forget=1, peephole=True)
case("lstm_activations", recurrent_case, "LSTM",
     activations=["HardSigmoid", "Elu", "Softsign"], activation_alpha=[0.25, 0.9, 0.0],
     activation_beta=[0.45, 0.0, 0.0])
# Longer than kMaxUnrolledSteps (16): a loop over time in the plan.
case("lstm_long_bidirectional_lens", recurrent_case, "LSTM", direction="bidirectional",
     initial=True, peephole=True, lens=[24, 9, 0], seq=24)
case("gru_long_reverse", recurrent_case, "GRU", direction="reverse", linear_before_reset=1,
     seq=20)
case("rnn_long_layout1", recurrent_case, "RNN", direction="bidirectional", layout=1,
     outputs=("Y", "Y_h"), seq=40)
case("lstm_long_state_only", recurrent_case, "LSTM", outputs=("Y_h", "Y_c"), seq=17)
case("reverse_sequence_time0", reverse_sequence_case, 0)
case("reverse_sequence_time1", reverse_sequence_case, 1)
case("scan_axes_directions", scan_case)


if __name__ == "__main__":
    # The CUDA target has no f64 GEMM (cuBLASLt steps) yet.
    sys.exit(run_cases(__doc__, CASES, 1e-4, 1e-5, cpu_only=lambda n: n.endswith("_f64")))
