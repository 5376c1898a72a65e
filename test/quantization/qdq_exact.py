#!/usr/bin/env python3
"""QuantizeLinear and DequantizeLinear, bit for bit against onnxruntime.

For every quantized element type (int8, uint8, int16, uint16, int4, uint4 and the four float8
types), every granularity (per tensor, per axis along each axis, blocked along each axis with
a partial last block) and a few opset forms (opset 10 and 13 per-tensor/per-axis, 19 with
`saturate`, 21 with blocks and `output_dtype`), a model computes DequantizeLinear(
QuantizeLinear(x)) over 1000x1000 elements. Catfish compiles and runs it (with fusion, so Q and
DQ share a kernel, and without, so each has its own) and its output must equal onnxruntime's
bit for bit. onnxruntime's Python API cannot return int4 or float8 tensors, so the pair is
compared: dequantizing is injective in the quantized value, so equal outputs mean equal
quantized values. DequantizeLinear alone is checked on integer inputs over their whole range,
and QuantizeLinear of constants (weights, per axis and blocked), which Catfish quantizes at
compile time (catfish-fold-constant-quantize), for every integer type.

The data holds what breaks quantizers: exact ties (k + 1/2 steps, power-of-two scales so the
division is exact), values far past the type's range and +-inf (saturation), +-0, subnormals,
all-zero blocks, and for the float8 types NaN and saturate=0 (overflow to inf or NaN). NaN is
left out for integer types, where ONNX leaves its result undefined.

  qdq_exact.py --bin-dir build/bin --work-dir /tmp/qdq [--cases int8,float8e4m3fn]
      [--device cpu|cuda-emulator]
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import DEVICES, VARIANTS, compile_and_run

# name -> (ONNX type, (lowest, highest) for integers or None for float8)
TYPES = {
    "int8": (TensorProto.INT8, (-128, 127)),
    "uint8": (TensorProto.UINT8, (0, 255)),
    "int16": (TensorProto.INT16, (-32768, 32767)),
    "uint16": (TensorProto.UINT16, (0, 65535)),
    "int4": (TensorProto.INT4, (-8, 7)),
    "uint4": (TensorProto.UINT4, (0, 15)),
    "float8e4m3fn": (TensorProto.FLOAT8E4M3FN, None),
    "float8e4m3fnuz": (TensorProto.FLOAT8E4M3FNUZ, None),
    "float8e5m2": (TensorProto.FLOAT8E5M2, None),
    "float8e5m2fnuz": (TensorProto.FLOAT8E5M2FNUZ, None),
}
FLOAT8_MAX = {"float8e4m3fn": 448.0, "float8e4m3fnuz": 240.0, "float8e5m2": 57344.0,
              "float8e5m2fnuz": 57344.0}


def granularities(type_name):
    """(label, opset, attributes, scale shape for a [R, C] input) of each granularity."""
    rows, cols = SHAPE
    forms = [("tensor", 21, {}, []),
             ("axis0", 21, {"axis": 0}, [rows]),
             ("axis1", 21, {"axis": -1}, [cols]),
             ("block0x32", 21, {"axis": 0, "block_size": 32}, [-(-rows // 32), cols]),
             ("block1x128", 21, {"axis": 1, "block_size": 128}, [rows, -(-cols // 128)])]
    if type_name in ("int8", "uint8"):
        forms += [("opset10", 10, {}, []), ("opset13-axis1", 13, {"axis": 1}, [cols])]
    if type_name.startswith("float8"):
        forms += [("tensor-nosat", 21, {"saturate": 0}, []),
                  ("axis1-nosat", 21, {"axis": 1, "saturate": 0}, [cols]),
                  ("opset19", 19, {}, [])]
    return forms


SHAPE = (1000, 1000)


def random_scales(rng, shape, dtype):
    """Positive scales: half powers of two (exact ties), half log-uniform in [1e-3, 10]."""
    count = int(np.prod(shape)) if shape else 1
    powers = np.exp2(rng.integers(-8, 4, size=count)).astype(np.float64)
    arbitrary = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), size=count))
    scales = np.where(rng.random(count) < 0.5, powers, arbitrary).astype(dtype)
    return scales.reshape(shape)


def broadcast_param(param, attributes, shape):
    """A scale or zero point expanded to the data's shape."""
    if param.ndim == 0:
        return np.broadcast_to(param, shape)
    axis = attributes.get("axis", 1) % len(shape)
    block = attributes.get("block_size", 0)
    if block:
        return np.repeat(param, block, axis=axis)[tuple(slice(0, d) for d in shape)]
    view = [1] * len(shape)
    view[axis] = -1
    return np.broadcast_to(param.reshape(view), shape)


def make_data(rng, type_name, attributes, scale, zero_point, dtype):
    """x over SHAPE: steps (x / scale - zero point) drawn to hit ties, saturation and zeros.
    Values past f16's range become inf there, which is one more case."""
    with np.errstate(over="ignore"):
        return spread_data(rng, type_name, attributes, scale, zero_point, dtype)


def spread_data(rng, type_name, attributes, scale, zero_point, dtype):
    bounds = TYPES[type_name][1]
    n = int(np.prod(SHAPE))
    kind = rng.integers(0, 8, size=n)
    if bounds:
        lo, hi = bounds
        span_lo, span_hi = lo - 0.25 * (hi - lo) - 2, hi + 0.25 * (hi - lo) + 2
    else:
        top = FLOAT8_MAX[type_name]
        span_lo, span_hi = -1.5 * top, 1.5 * top
    steps = rng.uniform(span_lo, span_hi, size=n)
    ties = np.floor(steps) + 0.5
    small = rng.uniform(-3, 3, size=n)
    steps = np.select([kind == 0, kind == 1, kind == 2], [ties, small, np.zeros(n)], steps)
    zero = broadcast_param(zero_point, attributes, SHAPE).reshape(-1).astype(np.float64)
    full_scale = broadcast_param(scale, attributes, SHAPE).reshape(-1).astype(np.float64)
    x = ((steps + (zero if bounds else 0)) * full_scale).astype(dtype)
    if not bounds:
        # Float8 also gets values spread over every binade, down to f32 subnormals.
        spread = kind == 3
        magnitudes = np.exp2(rng.uniform(-140, 20, size=n)) * np.where(rng.random(n) < 0.5, -1, 1)
        x[spread] = magnitudes[spread].astype(dtype)
    specials = [np.inf, -np.inf, -0.0, 0.0, np.finfo(dtype).tiny, -np.finfo(dtype).max]
    if not bounds:
        specials.append(np.nan)
    positions = rng.choice(n, size=64 * len(specials), replace=False)
    x[positions] = np.repeat(np.array(specials, dtype=dtype), 64)
    x = x.reshape(SHAPE)
    # All-zero blocks: a 64x64 corner of zeros.
    x[:64, :64] = 0
    return x


def qdq_model(type_name, opset, attributes, scale, zero_point, float_type, zero_point_form,
              constant_x=None):
    """Q then DQ; `zero_point_form` is "input", "output_dtype" (no zero point, the type as an
    attribute) or "default" (neither: uint8). With `constant_x`, x is an initializer holding
    it (weights, which Catfish quantizes at compile time) and the model has no input."""
    onnx_type = TYPES[type_name][0]
    x = helper.make_tensor_value_info("x", float_type, list(SHAPE))
    y = helper.make_tensor_value_info("y", float_type, list(SHAPE))
    initializers = [helper.make_tensor("scale", float_type, list(scale.shape),
                                       scale.reshape(-1).tolist())]
    if constant_x is not None:
        initializers.append(onnx.numpy_helper.from_array(constant_x, "x"))
    q_inputs, q_attributes = ["x", "scale"], dict(attributes)
    if zero_point_form == "input":
        initializers.append(helper.make_tensor("zero_point", onnx_type, list(zero_point.shape),
                                               zero_point.reshape(-1).tolist()))
        q_inputs.append("zero_point")
    elif zero_point_form == "output_dtype":
        q_attributes["output_dtype"] = onnx_type
    dq_attributes = {k: v for k, v in attributes.items() if k != "saturate"}
    nodes = [helper.make_node("QuantizeLinear", q_inputs, ["q"], **q_attributes),
             helper.make_node("DequantizeLinear", ["q"] + q_inputs[1:], ["y"], **dq_attributes)]
    inputs = [] if constant_x is not None else [x]
    graph = helper.make_graph(nodes, "qdq", inputs, [y], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def dq_model(type_name, scale, zero_point):
    onnx_type = TYPES[type_name][0]
    x = helper.make_tensor_value_info("x", onnx_type, list(SHAPE))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(SHAPE))
    initializers = [helper.make_tensor("scale", TensorProto.FLOAT, list(scale.shape),
                                       scale.reshape(-1).tolist()),
                    helper.make_tensor("zero_point", onnx_type, list(zero_point.shape),
                                       zero_point.reshape(-1).tolist())]
    node = helper.make_node("DequantizeLinear", ["x", "scale", "zero_point"], ["y"], axis=1)
    graph = helper.make_graph([node], "dq", [x], [y], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


def spec_departures(type_name, model, x, expected, actual, bad):
    """Of the differing positions `bad`, those where onnxruntime departs from the ONNX spec in
    a known way and Catfish's value is the spec's:
    - integer types on its blocked and int4 paths: x / scale beyond the int32
      range (+-inf, +-3e38) is converted to int32 before the zero point is added and the
      result clamped, so it wraps instead of saturating;
    - float8 with a zero point: -0 / scale + 0 is +0, which onnxruntime keeps as -0;
    - float8 with saturate=0: ONNX's Cast table sends |x / scale| > max to NaN (E4M3FN and
      the FNUZ types) or +-inf (E5M2); onnxruntime gives max for [480, 496) on E4M3FN and NaN
      instead of +-inf on E5M2.
    Returns a boolean mask over `bad`'s shape."""
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in model.graph.node[0].attribute}
    if model.graph.node[0].op_type != "QuantizeLinear":
        return np.zeros_like(bad)
    params = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    scale = broadcast_param(params["scale"], attributes, x.shape).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        steps = x.astype(np.float32) / scale
        bounds = TYPES[type_name][1]
        if bounds:
            zero_point = params.get("zero_point", np.zeros([], np.int32))
            zero = broadcast_param(zero_point, attributes, x.shape).astype(np.float64)
            saturated = np.where(steps < 0, bounds[0], bounds[1])
            spec = ((saturated - zero) * scale).astype(actual.dtype)
            return bad & (np.abs(steps) >= 2.0**31) & (actual == spec)
        if len(model.graph.node[0].input) > 2:
            # -0 / scale + 0 is +0, as the spec's formula and ONNX's reference (the float4 node
            # test) compute it; onnxruntime leaves the zero point out and keeps -0.
            negative_zero = (steps == 0) & np.signbit(steps)
            return bad & negative_zero & (actual == 0) & ~np.signbit(actual)
        if attributes.get("saturate", 1):
            return np.zeros_like(bad)
        overflow = np.abs(steps) > FLOAT8_MAX[type_name]
        if type_name == "float8e5m2":
            return bad & overflow & (actual == np.copysign(np.inf, x))
        return bad & overflow & np.isnan(actual)


def same_bits(expected, actual):
    """The positions where the two differ, NaNs of any payload being equal."""
    both_nan = np.isnan(expected) & np.isnan(actual)
    wide = np.uint32 if expected.dtype == np.float32 else np.uint16
    return ~both_nan & (expected.view(wide) != actual.view(wide))


def widened_to_f32(model):
    """`model` with its f16 input, output and scale in f32 (every f16 value is exact there)."""
    wide = onnx.ModelProto()
    wide.CopyFrom(model)
    for value in list(wide.graph.input) + list(wide.graph.output):
        value.type.tensor_type.elem_type = TensorProto.FLOAT
    for i, tensor in enumerate(wide.graph.initializer):
        if tensor.data_type == TensorProto.FLOAT16:
            data = onnx.numpy_helper.to_array(tensor).astype(np.float32)
            wide.graph.initializer[i].CopyFrom(onnx.numpy_helper.from_array(data, tensor.name))
    return wide


def reference(model, x):
    """onnxruntime's output. Its f16 QuantizeLinear truncates instead of rounding to nearest
    even (onnxruntime#18576, fixed after 1.29 by #32452), so f16 models run in f32, where every
    f16 input and scale is exact and onnxruntime rounds as ONNX says, and the output is rounded
    to f16 once."""
    feeds = {"x": x} if model.graph.input else {}
    if x.dtype == np.float16:
        session = ort.InferenceSession(widened_to_f32(model).SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        with np.errstate(over="ignore"):
            feeds = {name: value.astype(np.float32) for name, value in feeds.items()}
            return session.run(None, feeds)[0].astype(np.float16)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def check(label, model, x, args):
    work = os.path.join(args.work_dir, label)
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    expected = reference(model, x)
    x_path = os.path.join(work, "x.npy")
    np.save(x_path, x)
    failures = []
    inputs = ["--input", f"x={x_path}"] if model.graph.input else []
    for variant, flags in VARIANTS:
        out_dir, error = compile_and_run(args.bin_dir, path, work, args.device, flags, inputs)
        if error:
            failures.append(f"{label} ({variant}): {error}")
            continue
        actual = np.load(os.path.join(out_dir, "y.npy"))
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            failures.append(f"{label} ({variant}): got {actual.dtype}{list(actual.shape)}, "
                            f"expected {expected.dtype}{list(expected.shape)}")
            continue
        bad = same_bits(expected, actual)
        departures = spec_departures(label.split("-")[0], model, x, expected, actual, bad)
        bad &= ~departures
        if departures.any() and variant == "fusion":
            print(f"{label}: {np.count_nonzero(departures)} elements where onnxruntime departs "
                  "from the ONNX spec hold the spec's value")
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            failures.append(f"{label} ({variant}): {np.count_nonzero(bad)} of {bad.size} differ; "
                            f"first at {index}: x={x[index]!r} got {actual[index]!r}, "
                            f"expected {expected[index]!r}")
    return failures


def cases(selected):
    """(label, model, input) for each case, data seeded by the label."""
    for type_name in TYPES:
        if selected and type_name not in selected:
            continue
        onnx_type, bounds = TYPES[type_name]
        zero_dtype = helper.tensor_dtype_to_np_dtype(onnx_type) if bounds else np.float32
        forms = [(label, opset, attributes, scale_shape, "f32")
                 for label, opset, attributes, scale_shape in granularities(type_name)]
        forms.append(("tensor", 21, {}, [], "f16"))
        for label, opset, attributes, scale_shape, float_name in forms:
            name = f"{type_name}-{label}-{float_name}"
            float_type, dtype = ((TensorProto.FLOAT, np.float32) if float_name == "f32"
                                 else (TensorProto.FLOAT16, np.float16))
            rng = np.random.default_rng(sum(map(ord, name)))
            scale = random_scales(rng, scale_shape, dtype)
            if bounds:
                zero_point = rng.integers(bounds[0], bounds[1] + 1, size=scale_shape)
                zero_point = zero_point.astype(zero_dtype)
                form = "input"
            else:
                # Float8 zero points are 0: given as an input (opset 19) or left out.
                zero_point = np.zeros(scale_shape, dtype=np.float32)
                form = "input" if opset == 19 else "output_dtype"
            x = make_data(rng, type_name, attributes, scale, zero_point, dtype)
            yield name, qdq_model(type_name, opset, attributes, scale, zero_point, float_type,
                                  form), x
        # Weights: x a constant, which Catfish quantizes at compile time.
        for label, opset, attributes, scale_shape in granularities(type_name)[1:5:3]:
            if not bounds:
                continue
            name = f"{type_name}-{label}-constant"
            rng = np.random.default_rng(sum(map(ord, name)))
            scale = random_scales(rng, scale_shape, np.float32)
            zero_point = rng.integers(bounds[0], bounds[1] + 1, size=scale_shape)
            zero_point = zero_point.astype(zero_dtype)
            x = make_data(rng, type_name, attributes, scale, zero_point, np.float32)
            yield name, qdq_model(type_name, opset, attributes, scale, zero_point,
                                  TensorProto.FLOAT, "input", constant_x=x), x
        if type_name == "uint8":
            name = "uint8-default-type"
            rng = np.random.default_rng(sum(map(ord, name)))
            scale = random_scales(rng, [], np.float32)
            zero_point = np.zeros([], dtype=np.uint8)
            x = make_data(rng, type_name, {}, scale, zero_point, np.float32)
            yield name, qdq_model(type_name, 13, {}, scale, zero_point, TensorProto.FLOAT,
                                  "default"), x
        if bounds and onnx_type not in (TensorProto.INT4, TensorProto.UINT4):
            name = f"{type_name}-dequantize-only"
            rng = np.random.default_rng(sum(map(ord, name)))
            scale = random_scales(rng, [SHAPE[1]], np.float32)
            zero_point = rng.integers(bounds[0], bounds[1] + 1, size=[SHAPE[1]]).astype(zero_dtype)
            x = rng.integers(bounds[0], bounds[1] + 1, size=SHAPE).astype(zero_dtype)
            yield name, dq_model(type_name, scale, zero_point), x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--cases", help="comma-separated type names (default: all)")
    parser.add_argument("--device", choices=sorted(DEVICES), default="cpu",
                        help="cuda-emulator: compile for --target cuda and run the CUDA plan on "
                        "the CUDA emulator")
    args = parser.parse_args()
    selected = set(args.cases.split(",")) if args.cases else set()
    failures = []
    count = 0
    for label, model, x in cases(selected):
        problems = check(label, model, x, args)
        count += 1
        print(f"{label}: {'FAIL' if problems else 'ok'} ({x.size} elements)", flush=True)
        failures += problems
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{count - len({f.split(' ')[0] for f in failures})} / {count} cases bit-exact")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
