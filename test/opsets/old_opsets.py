#!/usr/bin/env python3
"""Default-domain opsets 1 to 8 in their old forms, against onnxruntime.

onnxruntime runs opset 7 and later only. A case of opset 1 to 6 is therefore checked against
onnxruntime on the same computation written in opset 13 (what the old form means by the ONNX
changelog: legacy broadcast with `axis`, Reshape's `shape` attribute, Pad's `paddings`, Cast's
string `to`, Tile's (tiles, axis) inputs, per-channel PRelu slopes, `is_test`, LpPool's float
`p`, consumed_inputs); a case of opset 7 to 9 (Upsample's `scales` attribute, spatial = 0
batch norm, the experimental ops ImageScaler, Scale, Affine, ScaledTanh, ParametricSoftplus
and Crop) is checked against onnxruntime on the model itself. Catfish compiles and runs the old
model on the CPU, with fusion and without; outputs must match within rtol 1e-5, atol 1e-6
(integers and booleans exactly).

  old_opsets.py --bin-dir build/bin --work-dir /tmp/opsets [--cases pad]
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.uniform(-2, 2, shape).astype(np.float32)


def model(nodes, inputs, opset):
    """A model of `nodes` whose graph inputs are `inputs` (name -> array) and whose output is
    the last node's first output."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for n, v in inputs.items()],
        [onnx.ValueInfoProto(name=nodes[-1].output[0])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=7)


def const(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value)))


def node(op, inputs, **attrs):
    return helper.make_node(op, inputs, ["y"], **attrs)


CASES = {}


def case(name, old, reference=None):
    """`old`: (nodes, inputs, opset) of the old form; `reference`: (nodes, opset) of the same
    computation that onnxruntime runs, on the same inputs (None: onnxruntime runs `old`)."""
    CASES[name] = (old, reference)


a4, b34 = rand(2, 3, 4, 5), rand(3, 4)
case("add_broadcast_axis",
     ([node("Add", ["a", "b"], broadcast=1, axis=1)], {"a": a4, "b": b34}, 6),
     ([const("s", [3, 4, 1]), helper.make_node("Reshape", ["b", "s"], ["b3"]),
       node("Add", ["a", "b3"])], 13))
case("mul_broadcast_suffix",
     ([node("Mul", ["a", "b"], broadcast=1)], {"a": rand(2, 3, 4), "b": rand(4)}, 6),
     ([node("Mul", ["a", "b"])], 13))
case("sub_consumed_inputs",
     ([node("Sub", ["a", "b"], consumed_inputs=[0, 0])], {"a": rand(2, 3), "b": rand(2, 3)}, 1),
     ([node("Sub", ["a", "b"])], 13))
case("div_broadcast_scalar",
     ([node("Div", ["a", "b"], broadcast=1)], {"a": rand(2, 3), "b": rand(1)}, 6),
     ([node("Div", ["a", "b"])], 13))
case("pow_broadcast_axis",
     ([node("Pow", ["a", "b"], broadcast=1, axis=1)],
      {"a": np.abs(rand(2, 3, 4)) + 0.1, "b": rand(3)}, 1),
     ([const("s", [3, 1]), helper.make_node("Reshape", ["b", "s"], ["b3"]),
       node("Pow", ["a", "b3"])], 13))
case("greater_broadcast_axis",
     ([node("Greater", ["a", "b"], broadcast=1, axis=0)], {"a": rand(3, 4), "b": rand(3)}, 1),
     ([const("s", [3, 1]), helper.make_node("Reshape", ["b", "s"], ["b3"]),
       node("Greater", ["a", "b3"])], 13))
case("equal_broadcast_axis",
     ([node("Equal", ["a", "b"], broadcast=1, axis=1)],
      {"a": RNG.integers(0, 3, (2, 3, 4)), "b": RNG.integers(0, 3, (3,))}, 1),
     ([const("s", [3, 1]), helper.make_node("Reshape", ["b", "s"], ["b3"]),
       node("Equal", ["a", "b3"])], 13))
case("and_broadcast_axis",
     ([node("And", ["a", "b"], broadcast=1, axis=1)],
      {"a": RNG.integers(0, 2, (2, 3, 4)).astype(bool), "b": RNG.integers(0, 2, (3, 4)).astype(bool)}, 1),
     ([node("And", ["a", "b"])], 13))
case("prelu_per_channel",
     ([node("PRelu", ["x", "slope"])], {"x": a4, "slope": rand(3)}, 6),
     ([const("s", [3, 1, 1]), helper.make_node("Reshape", ["slope", "s"], ["slope3"]),
       node("PRelu", ["x", "slope3"])], 13))
case("relu_consumed_inputs",
     ([node("Relu", ["x"], consumed_inputs=[0])], {"x": rand(3, 4)}, 1),
     ([node("Relu", ["x"])], 13))
case("sum_consumed_inputs",
     ([node("Sum", ["a", "b", "c"], consumed_inputs=[0, 0, 0])],
      {"a": rand(2, 3), "b": rand(2, 3), "c": rand(2, 3)}, 1),
     ([node("Sum", ["a", "b", "c"])], 13))
case("reshape_shape_attribute",
     ([node("Reshape", ["x"], shape=[6, -1])], {"x": rand(2, 3, 4)}, 1),
     ([const("s", [6, -1]), node("Reshape", ["x", "s"])], 13))
case("concat_default_axis",
     ([node("Concat", ["a", "b"])], {"a": rand(2, 3), "b": rand(2, 2)}, 1),
     ([node("Concat", ["a", "b"], axis=1)], 13))
case("pad_paddings",
     ([node("Pad", ["x"], paddings=[0, 1, 2, 0], value=2.5)], {"x": rand(2, 3)}, 1),
     ([const("p", [0, 1, 2, 0]), const("v", np.float32(2.5)), node("Pad", ["x", "p", "v"])], 13))
case("pad_v2_reflect",
     ([node("Pad", ["x"], pads=[1, 2, 1, 0], mode="reflect")], {"x": rand(3, 4)}, 2),
     ([const("p", [1, 2, 1, 0]), node("Pad", ["x", "p"], mode="reflect")], 13))
case("cast_string_to",
     ([node("Cast", ["x"], to="INT32")], {"x": rand(3, 4) * 10}, 1),
     ([node("Cast", ["x"], to=TensorProto.INT32)], 13))
case("tile_one_axis",
     ([const("tiles", np.int64(3)), const("axis", np.int64(1)), node("Tile", ["x", "tiles", "axis"])],
      {"x": rand(2, 3)}, 1),
     ([const("r", [1, 3]), node("Tile", ["x", "r"])], 13))
case("batchnorm_is_test",
     ([node("BatchNormalization", ["x", "s", "b", "m", "v"], is_test=1, epsilon=1e-3,
            consumed_inputs=[0, 0, 0, 1, 1])],
      {"x": a4, "s": rand(3), "b": rand(3), "m": rand(3), "v": np.abs(rand(3)) + 0.5}, 1),
     ([node("BatchNormalization", ["x", "s", "b", "m", "v"], epsilon=1e-3)], 13))
case("batchnorm_spatial0",
     ([node("BatchNormalization", ["x", "s", "b", "m", "v"], spatial=0, epsilon=1e-3)],
      {"x": a4, "s": rand(3, 4, 5), "b": rand(3, 4, 5), "m": rand(3, 4, 5),
       "v": np.abs(rand(3, 4, 5)) + 0.5}, 7))
case("dropout_is_test",
     ([node("Dropout", ["x"], is_test=1, ratio=0.3)], {"x": rand(3, 4)}, 6),
     ([node("Identity", ["x"])], 13))
case("lppool_float_p",
     ([node("LpPool", ["x"], kernel_shape=[2, 2], p=2.0)], {"x": a4}, 1),
     ([node("LpPool", ["x"], kernel_shape=[2, 2], p=2)], 13))
case("gemm_broadcast",
     ([node("Gemm", ["a", "b", "c"], broadcast=1, transB=1, alpha=0.5)],
      {"a": rand(2, 4), "b": rand(3, 4), "c": rand(3)}, 6),
     ([node("Gemm", ["a", "b", "c"], transB=1, alpha=0.5)], 13))
case("upsample_scales_attribute",
     ([node("Upsample", ["x"], scales=[1.0, 1.0, 2.0, 3.0])], {"x": rand(1, 2, 3, 4)}, 7))
case("upsample_linear_scales_attribute",
     ([node("Upsample", ["x"], scales=[1.0, 1.0, 2.0, 2.0], mode="linear")], {"x": rand(1, 2, 3, 4)}, 8))
case("upsample_bilinear_experimental",
     ([node("Upsample", ["x"], height_scale=2.0, width_scale=2.0, mode="bilinear")],
      {"x": rand(1, 2, 3, 4)}, 1),
     ([node("Upsample", ["x"], scales=[1.0, 1.0, 2.0, 2.0], mode="linear")], 8))
case("image_scaler",
     ([node("ImageScaler", ["x"], scale=0.5, bias=[1.0, -2.0, 3.0])], {"x": a4}, 8))
case("scale", ([node("Scale", ["x"], scale=-1.5)], {"x": a4}, 8))
case("affine", ([node("Affine", ["x"], alpha=2.0, beta=-0.5)], {"x": a4}, 8))
case("scaled_tanh", ([node("ScaledTanh", ["x"], alpha=1.5, beta=0.7)], {"x": a4}, 8))
case("parametric_softplus",
     ([node("ParametricSoftplus", ["x"], alpha=0.8, beta=1.3)], {"x": a4}, 8))
case("crop_borders", ([node("Crop", ["x"], border=[1, 0, 2, 1])], {"x": rand(1, 2, 4, 6)}, 8))
case("crop_scale", ([node("Crop", ["x"], border=[1, 2, 0, 0], scale=[2, 3])], {"x": rand(1, 2, 5, 6)}, 8))


def prepared(name):
    """(the old model, feeds, onnxruntime's outputs) of case `name`."""
    (nodes, feeds, opset), reference = CASES[name]
    old = model(nodes, feeds, opset)
    ref_model = old if reference is None else model(reference[0], feeds, reference[1])
    want = ort.InferenceSession(ref_model.SerializeToString(),
                                providers=["CPUExecutionProvider"]).run(None, feeds)
    return old, feeds, want


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, {n: (lambda n=n: prepared(n)) for n in CASES}, 1e-5, 1e-6,
                       devices=("cpu",)))
