#!/usr/bin/env python3
"""Writes single-convolution ONNX models (Conv with bias, then Relu; random weights), one per
layer shape, to time a network's layers one by one against onnxruntime with
bench/cpu_latency.py. Each shape is C,F,HW,K,S: input channels, output channels, input height
and width, kernel size (padding K // 2) and stride. The model of C,F,HW,K,S is
DIR/conv_C_F_HW_K_S.onnx, input 'x' [1, C, HW, HW].

    .venv/bin/python bench/make_convs.py build/bench/convs 64,64,56,3,1 512,512,7,3,1
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make(path, channels, filters, size, kernel, stride):
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((filters, channels, kernel, kernel))
              * np.sqrt(2.0 / (channels * kernel * kernel))).astype(np.float32)
    bias = (rng.standard_normal(filters) * 0.1).astype(np.float32)
    pad = kernel // 2
    out = (size + 2 * pad - kernel) // stride + 1
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[kernel, kernel],
                              strides=[stride, stride], pads=[pad] * 4),
             helper.make_node("Relu", ["y"], ["z"])]
    graph = helper.make_graph(
        nodes, "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, size, size])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, filters, out, out])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")])
    # IR version 8 so that onnxruntime releases before 1.23 load it too.
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("shapes", nargs="+", help="C,F,HW,K,S")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    for shape in args.shapes:
        c, f, hw, k, s = (int(v) for v in shape.split(","))
        path = os.path.join(args.dir, f"conv_{c}_{f}_{hw}_{k}_{s}.onnx")
        make(path, c, f, hw, k, s)
        print(path)


if __name__ == "__main__":
    main()
