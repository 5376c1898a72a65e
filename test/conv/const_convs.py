#!/usr/bin/env python3
"""Convolutions by constant weights (initializers, as every exported CNN has them) against
onnxruntime: 1-D, 2-D and 3-D, strides, dilations, asymmetric pads, batch 2, no bias, output
channels in panels of 32, 16 and 8 or in none (12: left unpacked), output rows flattened
(under 16) or not, 1x1 with and without padding, and epilogues that join the convolution's
region on the CPU (ReLU, a residual add then ReLU, a clip). The CPU packs these weights by
output channel (catfish-pack-weights); the CUDA plan computes them as im2col GEMMs. Catfish
compiles and runs each model (with fusion and without on the CPU; with fusion as a CUDA plan
on the emulator).

  const_convs.py --bin-dir build/bin --work-dir /tmp/convs [--cases stride] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases


def conv_model(input_shape, filters, kernel, bias=True, epilogue=None, **attrs):
    """Conv of a [N, C, spatial...] input by a seeded [filters, C, kernel...] initializer, then
    `epilogue`: None, "relu", "residual" (add a second input of the result's shape, then
    ReLU) or "clip"."""
    rng = np.random.default_rng(sum(input_shape) + filters)
    channels = input_shape[1]
    weight = (rng.standard_normal((filters, channels, *kernel)) /
              np.sqrt(channels * np.prod(kernel))).astype(np.float32)
    inits = [numpy_helper.from_array(weight, "w")]
    inputs = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(filters).astype(np.float32), "b"))
        inputs.append("b")
    nodes = [helper.make_node("Conv", inputs, ["y"], kernel_shape=list(kernel), **attrs)]
    x = rng.standard_normal(input_shape).astype(np.float32)
    feeds = {"x": x}
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)]
    out = "y"
    if epilogue == "relu":
        nodes.append(helper.make_node("Relu", ["y"], ["z"]))
        out = "z"
    elif epilogue == "clip":
        inits += [numpy_helper.from_array(np.float32(0.0), "lo"),
                  numpy_helper.from_array(np.float32(6.0), "hi")]
        nodes.append(helper.make_node("Clip", ["y", "lo", "hi"], ["z"]))
        out = "z"
    elif epilogue == "residual":
        # The residual's shape is the convolution's: run the convolution alone once for it.
        shape = ort.InferenceSession(
            helper.make_model(helper.make_graph(
                nodes, "shape", graph_inputs,
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits),
                opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString(),
            providers=["CPUExecutionProvider"]).run(None, feeds)[0].shape
        feeds["r"] = rng.standard_normal(shape).astype(np.float32)
        graph_inputs.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, shape))
        nodes += [helper.make_node("Add", ["y", "r"], ["s"]),
                  helper.make_node("Relu", ["s"], ["z"])]
        out = "z"
    graph = helper.make_graph(nodes, "conv", graph_inputs,
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


CASES = {
    # 7x7 outputs: rows flattened (49), panels of 32.
    "late_3x3_relu": lambda: conv_model([1, 16, 7, 7], 64, (3, 3), pads=[1, 1, 1, 1],
                                        epilogue="relu"),
    "late_1x1_residual": lambda: conv_model([1, 32, 7, 7], 64, (1, 1), epilogue="residual"),
    # 20-wide rows: not flattened; 16 output channels (a panel of 16).
    "wide_rows_3x3": lambda: conv_model([1, 8, 12, 20], 16, (3, 3), pads=[1, 1, 1, 1],
                                        epilogue="relu"),
    "stride_2": lambda: conv_model([1, 8, 15, 15], 32, (3, 3), strides=[2, 2],
                                   pads=[1, 1, 1, 1], epilogue="relu"),
    "stride_2_1x1": lambda: conv_model([1, 16, 14, 14], 32, (1, 1), strides=[2, 2]),
    "dilated_asymmetric_pads": lambda: conv_model([1, 4, 11, 13], 8, (3, 2), dilations=[2, 3],
                                                  pads=[2, 0, 1, 3]),
    "padded_1x1": lambda: conv_model([1, 8, 5, 5], 8, (1, 1), pads=[1, 2, 0, 1]),
    "batch_2_no_bias": lambda: conv_model([2, 6, 9, 9], 24, (3, 3), bias=False,
                                          pads=[1, 1, 1, 1], epilogue="clip"),
    "first_layer_7x7": lambda: conv_model([1, 3, 32, 32], 16, (7, 7), strides=[2, 2],
                                          pads=[3, 3, 3, 3], epilogue="relu"),
    "conv1d": lambda: conv_model([1, 8, 40], 32, (5,), pads=[2, 2], epilogue="relu"),
    "conv1d_short": lambda: conv_model([2, 4, 9], 8, (3,), strides=[2]),
    "conv3d": lambda: conv_model([1, 4, 5, 6, 7], 16, (3, 3, 3), pads=[1, 1, 1, 1, 1, 1],
                                 epilogue="residual"),
    "channels_12_unpacked": lambda: conv_model([1, 4, 7, 7], 12, (3, 3), pads=[1, 1, 1, 1],
                                               epilogue="relu"),
    "many_channels": lambda: conv_model([1, 64, 6, 6], 96, (3, 3), pads=[1, 1, 1, 1],
                                        epilogue="residual"),
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-4, atol=1e-4))
