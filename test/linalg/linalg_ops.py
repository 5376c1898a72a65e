#!/usr/bin/env python3
"""Det and training-mode BatchNormalization against onnxruntime: batches of matrices that need
row swaps, singular and nearly singular ones, 1x1 and 0-row edge sizes, f64; batch statistics
over 2-D to 5-D inputs with the running mean and variance updated by momentum. Catfish compiles
and runs each model (with fusion and without on the CPU; with fusion as a CUDA plan on the
emulator).

  linalg_ops.py --bin-dir build/bin --work-dir /tmp/linalg [--cases det] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


def model_of(nodes, feeds, outputs, constants=None, opset=15, onnx_reference=False):
    """The model, its feeds and onnxruntime's outputs (the ONNX reference implementation's
    where onnxruntime lacks the kernel: Det in f64)."""
    inputs = [helper.make_tensor_value_info(n, ONNX_TYPES[v.dtype], v.shape)
              for n, v in feeds.items()]
    graph = helper.make_graph(
        nodes, "linalg", inputs,
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in (constants or {}).items()])
    for value in graph.output:
        value.type.Clear()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    if onnx_reference:
        expected = ReferenceEvaluator(model).run(None, feeds)
    else:
        expected = ort.InferenceSession(model.SerializeToString(),
                                        providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


def det(x):
    return model_of([helper.make_node("Det", ["x"], ["y"])], {"x": x}, ["y"],
                    onnx_reference=x.dtype == np.float64)


def matrices(*shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def permuted(n, seed):
    """Rows of a well-conditioned matrix in an order whose first pivot is zero."""
    m = np.eye(n) * 3 + matrices(n, n, seed=seed, dtype=np.float64) * 0.5
    m[0, 0] = 0
    return m[np.random.default_rng(seed).permutation(n)].astype(np.float32)


def singular(n, seed):
    m = matrices(n, n, seed=seed)
    m[-1] = m[0] * 2 - m[1]
    return m


def batch_norm(x, momentum=None, epsilon=None):
    c = x.shape[1]
    rng = np.random.default_rng(c)
    constants = {"scale": rng.uniform(0.5, 1.5, c).astype(x.dtype),
                 "bias": rng.standard_normal(c).astype(x.dtype),
                 "mean": rng.standard_normal(c).astype(x.dtype),
                 "var": rng.uniform(0.5, 2, c).astype(x.dtype)}
    attrs = {"training_mode": 1}
    if momentum is not None:
        attrs["momentum"] = momentum
    if epsilon is not None:
        attrs["epsilon"] = epsilon
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"],
                            ["y", "running_mean", "running_var"], **attrs)
    return model_of([node], {"x": x}, ["y", "running_mean", "running_var"], constants=constants)


CASES = {
    "det_2x2": lambda: det(matrices(2, 2, seed=1)),
    "det_batched": lambda: det(matrices(3, 4, 5, 5, seed=2)),
    "det_pivoting": lambda: det(np.stack([permuted(6, s) for s in range(4)])),
    "det_singular": lambda: det(np.stack([singular(4, 5), np.zeros((4, 4), np.float32)])),
    "det_1x1": lambda: det(np.array([[[-2.5]], [[0.0]]], np.float32)),
    "det_f64": lambda: det(matrices(2, 7, 7, seed=6, dtype=np.float64)),
    "det_large": lambda: det(matrices(24, 24, seed=7) + np.eye(24, dtype=np.float32) * 4),
    "batch_norm_training_2d": lambda: batch_norm(matrices(8, 5, seed=8)),
    "batch_norm_training_4d": lambda: batch_norm(matrices(2, 3, 4, 5, seed=9) * 3 + 1,
                                                 momentum=0.7, epsilon=1e-3),
    "batch_norm_training_5d": lambda: batch_norm(matrices(2, 4, 2, 3, 3, seed=10)),
    "batch_norm_training_f64": lambda: batch_norm(matrices(4, 3, 6, seed=11, dtype=np.float64),
                                                  momentum=0.0),
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-4, atol=1e-5))
