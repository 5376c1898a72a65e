#!/usr/bin/env python3
"""MaxPool's indices output, MaxUnpool and Col2Im against onnxruntime: 1-D, 2-D and 3-D windows with
pads, strides, dilations, ceil_mode and storage_order = 1, ties inside a window (the first
maximum wins), and MaxPool -> MaxUnpool as SegNet-style decoders and torch's
max_pool2d(return_indices=True) / max_unpool2d write it. Catfish compiles and runs each model
(with fusion and without on the CPU; with fusion as a CUDA plan on the emulator); outputs must
match onnxruntime exactly.

  pooling_ops.py --bin-dir build/bin --work-dir /tmp/pooling [--cases unpool] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases


def model_of(nodes, x, outputs, opset=12):
    graph = helper.make_graph(
        nodes, "pooling", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs])
    for value in graph.output:
        value.type.Clear()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    feeds = {"x": x}
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


def data(*shape, ties=False):
    rng = np.random.default_rng(sum(shape))
    if ties:  # few distinct values: windows hold several maxima
        return rng.integers(0, 3, shape).astype(np.float32)
    return rng.uniform(-1, 1, shape).astype(np.float32)


def max_pool(x, **attrs):
    return model_of([helper.make_node("MaxPool", ["x"], ["y", "i"], **attrs)], x, ["y", "i"])


def pool_unpool(x, output_shape=False, **attrs):
    nodes = [helper.make_node("MaxPool", ["x"], ["p", "i"], **attrs)]
    inputs = ["p", "i"]
    if output_shape:
        nodes.append(helper.make_node(
            "Constant", [], ["shape"],
            value=helper.make_tensor("shape", TensorProto.INT64, [len(x.shape)], x.shape)))
        inputs.append("shape")
    unpool_attrs = {k: v for k, v in attrs.items() if k in ("kernel_shape", "strides", "pads")}
    nodes.append(helper.make_node("MaxUnpool", inputs, ["y"], **unpool_attrs))
    return model_of(nodes, x, ["y"])


def col2im(x, image, block, **attrs):
    nodes = [helper.make_node("Constant", [], ["image"], value=helper.make_tensor(
                 "image", TensorProto.INT64, [len(image)], image)),
             helper.make_node("Constant", [], ["block"], value=helper.make_tensor(
                 "block", TensorProto.INT64, [len(block)], block)),
             helper.make_node("Col2Im", ["x", "image", "block"], ["y"], **attrs)]
    return model_of(nodes, x, ["y"], opset=18)


CASES = {
    "pool_2d": lambda: max_pool(data(2, 3, 8, 8), kernel_shape=[2, 2], strides=[2, 2]),
    "pool_2d_ties": lambda: max_pool(data(1, 2, 6, 6, ties=True), kernel_shape=[3, 3]),
    "pool_2d_pads_strides": lambda: max_pool(data(1, 2, 7, 9), kernel_shape=[3, 2],
                                             strides=[2, 3], pads=[1, 0, 1, 1]),
    "pool_2d_dilations": lambda: max_pool(data(1, 1, 9, 9), kernel_shape=[2, 2],
                                          dilations=[2, 3]),
    "pool_2d_ceil_mode": lambda: max_pool(data(1, 2, 7, 7), kernel_shape=[2, 2],
                                          strides=[2, 2], ceil_mode=1),
    "pool_2d_column_major": lambda: max_pool(data(2, 2, 5, 6), kernel_shape=[2, 3],
                                             storage_order=1),
    "pool_1d": lambda: max_pool(data(2, 3, 11), kernel_shape=[3], strides=[2], pads=[1, 1]),
    "pool_3d": lambda: max_pool(data(1, 2, 4, 5, 6), kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
    "unpool_2d": lambda: pool_unpool(data(2, 3, 8, 8), kernel_shape=[2, 2], strides=[2, 2]),
    "unpool_output_shape": lambda: pool_unpool(data(1, 2, 7, 9), output_shape=True,
                                               kernel_shape=[2, 2], strides=[2, 2]),
    # Col2Im (torch's fold): overlapping blocks sum (a scatter with a reduction, one GPU thread
    # on the CUDA target).
    "col2im_overlapping": lambda: col2im(data(2, 2 * 3 * 3, 6 * 4), [7, 6], [3, 3],
                                         pads=[1, 0, 0, 0], strides=[1, 1], dilations=[1, 1]),
    "col2im_strided_dilated": lambda: col2im(data(1, 3 * 2 * 2, 3 * 3), [7, 8], [2, 2],
                                             pads=[0, 1, 1, 0], strides=[2, 3], dilations=[2, 1]),
}


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, 0, 0))
