#!/usr/bin/env python3
"""DFT, STFT and MelWeightMatrix against onnxruntime (one case against the ONNX reference
implementation): real and complex signals, forward and inverse, one- and two-sided, each signal
axis, dft_length padding and cutting, the opset 17 and 20 forms, STFT with and without a
window, frames that leave part of the signal out; mel filters with constant and run-time rates
and edges. Catfish compiles and
runs each node (with fusion and without on the CPU; with fusion as a CUDA plan on the
emulator); every output must match onnxruntime within rtol 1e-4, atol 1e-4 (the DFT sums up to
64 terms of unit magnitude).

  spectral_ops.py --bin-dir build/bin --work-dir /tmp/spectral [--cases stft] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases


def single_node(op, inputs, constants, opset, reference="onnxruntime", **attrs):
    """(model, feeds, the reference's outputs): `inputs` are graph inputs (name -> array),
    `constants` initializers; the node reads them in the order given. `reference` is
    onnxruntime, or the ONNX reference implementation where onnxruntime is wrong."""
    names = list(inputs) + list(constants)
    if op == "DFT" and "dft_length" not in names and "axis" in names:
        names.insert(1, "")
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node], op.lower(),
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in constants.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    if reference == "onnx":
        return model, inputs, ReferenceEvaluator(model).run(None, inputs)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, inputs)
    return model, inputs, expected


def signal(*shape):
    return np.random.default_rng(sum(shape)).uniform(-1, 1, shape).astype(np.float32)


def mel_weights(mels, dft_length, rate, low, high, runtime=()):
    """MelWeightMatrix with its five inputs in order; those named in `runtime` are graph
    inputs (as the node tests feed the edges), the rest initializers."""
    values = {"num_mel_bins": np.int64(mels), "dft_length": np.int64(dft_length),
              "sample_rate": np.int64(rate), "lower_edge_hertz": np.float32(low),
              "upper_edge_hertz": np.float32(high)}
    feeds = {n: np.asarray(v) for n, v in values.items() if n in runtime}
    node = helper.make_node("MelWeightMatrix", list(values), ["y"])
    graph = helper.make_graph(
        [node], "mel",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in feeds.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in values.items() if n not in runtime])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


CASES = {
    "dft_real_axis1": lambda: single_node("DFT", {"x": signal(2, 16, 3, 1)}, {}, 17, axis=1),
    "dft_complex_axis2": lambda: single_node("DFT", {"x": signal(2, 3, 12, 2)}, {}, 17, axis=2),
    "dft_onesided": lambda: single_node("DFT", {"x": signal(3, 15, 1)}, {}, 17, axis=1,
                                        onesided=1),
    "dft_inverse": lambda: single_node("DFT", {"x": signal(2, 10, 2)}, {}, 17, axis=1,
                                       inverse=1),
    "dft_length_pads": lambda: single_node(
        "DFT", {"x": signal(2, 10, 1)}, {"dft_length": np.int64(16)}, 17, axis=1),
    "dft_length_cuts": lambda: single_node(
        "DFT", {"x": signal(2, 20, 2)}, {"dft_length": np.int64(12)}, 17, axis=1),
    "dft_opset20_axis_input": lambda: single_node(
        "DFT", {"x": signal(2, 6, 8, 2)}, {"axis": np.int64(-3)}, 20),
    "dft_opset20_default_axis": lambda: single_node("DFT", {"x": signal(4, 64, 1)}, {}, 20),
    "stft_window": lambda: single_node(
        "STFT", {"signal": signal(2, 100, 1)},
        {"frame_step": np.int64(8), "window": np.hanning(24).astype(np.float32)}, 17),
    # onnxruntime 1.22's STFT of a complex signal returns garbage (values near 1e31).
    "stft_complex_two_sided": lambda: single_node(
        "STFT", {"signal": signal(1, 64, 2)},
        {"frame_step": np.int64(5), "window": np.ones(16, np.float32),
         "frame_length": np.int64(16)}, 17, reference="onnx", onesided=0),
    "mel_constant": lambda: mel_weights(10, 64, 16000, 20.0, 8000.0),
    "mel_runtime_edges": lambda: mel_weights(8, 32, 8000, 100.0, 3500.0,
                                             runtime=("lower_edge_hertz", "upper_edge_hertz")),
    "mel_runtime_rate": lambda: mel_weights(20, 512, 22050, 0.0, 11025.0,
                                            runtime=("sample_rate",)),
}


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, 1e-4, 1e-4))
