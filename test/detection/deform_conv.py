#!/usr/bin/env python3
"""DeformConv (2-D) against the ONNX reference implementation (onnxruntime 1.22 has no
DeformConv kernel): offsets moving taps between pixels and outside the image, groups and offset
groups, strides, pads and dilations, with and without mask and bias; a 1-pixel-high input with
zero offsets against onnxruntime's Conv. Catfish compiles and runs
each model (with fusion and without on the CPU; with fusion as a CUDA plan on the emulator).

  deform_conv.py --bin-dir build/bin --work-dir /tmp/dcn [--cases groups] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases


def deform_conv(c=2, oc=2, hw=(5, 6), kernel=(3, 3), group=1, offset_group=1, strides=(1, 1),
                pads=(1, 1, 1, 1), dilations=(1, 1), mask=False, bias=False, seed=0,
                reference=True):
    rng = np.random.default_rng(seed)
    h, w = hw
    kh, kw = kernel
    oh = (h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) // strides[0] + 1
    ow = (w + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) // strides[1] + 1
    feeds = {"x": rng.standard_normal((2, c, h, w)).astype(np.float32),
             "w": rng.standard_normal((oc, c // group, kh, kw)).astype(np.float32),
             "offset": (rng.standard_normal((2, 2 * offset_group * kh * kw, oh, ow)) * 1.5)
             .astype(np.float32)}
    inputs = ["x", "w", "offset"]
    if bias or mask:
        feeds["b"] = rng.standard_normal(oc).astype(np.float32)
        inputs.append("b" if bias else "")
    if mask:
        feeds["mask"] = rng.uniform(0, 1, (2, offset_group * kh * kw, oh, ow)).astype(np.float32)
        inputs.append("mask")
    if mask and not bias:
        del feeds["b"]
    node = helper.make_node("DeformConv", inputs, ["y"], kernel_shape=list(kernel), group=group,
                            offset_group=offset_group, strides=list(strides), pads=list(pads),
                            dilations=list(dilations))
    graph = helper.make_graph(
        [node], "deform_conv",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in feeds.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=8)
    return model, feeds, ReferenceEvaluator(model).run(None, feeds) if reference else None


def single_row_zero_offsets():
    """A 1-pixel-high input (the ONNX reference divides by H - 1 there and fails): with zero
    offsets DeformConv is a plain convolution, which onnxruntime computes."""
    model, feeds, _ = deform_conv(c=2, oc=3, hw=(1, 7), kernel=(1, 3), pads=(0, 1, 0, 1), seed=6,
                                  reference=False)
    feeds["offset"] = np.zeros_like(feeds["offset"])
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 3], pads=[0, 1, 0, 1])
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, feeds[k].shape) for k in ("x", "w")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    conv = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=8)
    expected = ort.InferenceSession(conv.SerializeToString(), providers=["CPUExecutionProvider"]
                                    ).run(None, {k: feeds[k] for k in ("x", "w")})
    return model, feeds, expected


CASES = {
    "basic": lambda: deform_conv(),
    "no_pads_2x2": lambda: deform_conv(kernel=(2, 2), pads=(0, 0, 0, 0), seed=1),
    "groups_and_offset_groups": lambda: deform_conv(c=4, oc=6, group=2, offset_group=2, seed=2),
    "strided_dilated": lambda: deform_conv(hw=(7, 8), strides=(2, 1), dilations=(1, 2),
                                           pads=(1, 2, 0, 1), seed=3),
    "mask_and_bias": lambda: deform_conv(c=4, oc=3, offset_group=4, mask=True, bias=True, seed=4),
    "mask_only": lambda: deform_conv(mask=True, seed=5),
    "single_row_zero_offsets": single_row_zero_offsets,
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-4, atol=1e-4))
