#!/usr/bin/env python3
"""Models quantized by onnxruntime.quantization.quantize_static run by Catfish as onnxruntime
runs them.

The e2e CNN and BERT layer (test/Import/Inputs/make_model.py) are calibrated on seeded random
inputs and quantized the two ways onnxruntime writes (and make_model.py's `qoperator`, made
quantized, has one of each com.microsoft op, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu,
QLinearAveragePool and QGemm with and without y_scale among them), and their weights are
quantized alone by MatMulNBitsQuantizer (com.microsoft MatMulNBits: 4 bits in blocks of 32 with zero
points and of 128, symmetric): QDQ (int8 activations and per-channel
int8 weights, QuantizeLinear/DequantizeLinear around float ops) and QOperator (uint8
activations: QLinearConv, QLinearMatMul and the com.microsoft ops QLinearAdd, QLinearMul,
QLinearSoftmax, QLinearGlobalAveragePool, QGemm). Catfish compiles each for the CPU, with
fusion and without, and runs it on other seeded inputs. Every quantized (integer) tensor the
model computes is made a graph output, and each must be within 1 of onnxruntime's (its fused
integer kernels round requantization differently from dequantize-compute-quantize); each
float output must have a cosine similarity of at least 0.9999 with onnxruntime's, and with
weight-only quantization (the same f32 arithmetic on both sides) a max abs error within 1e-4
of the output's largest magnitude.

  quantized_models.py --bin-dir build/bin --work-dir /tmp/qmodels [--models cnn] [--device ...]
"""
import argparse
import logging
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                             MatMulNBitsQuantizer)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import DEVICES, VARIANTS, compile_and_run, output_file_name

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MODEL = os.path.join(HERE, "..", "Import", "Inputs", "make_model.py")
# name -> the make_model.py case; "qoperator" is quantized already (every com.microsoft op).
MODELS = {"cnn": "cnn", "bert": "bert_layer", "gpt2": "gpt2_block", "qoperator": "qoperator"}
FORMATS = {
    "qdq": (QuantFormat.QDQ, QuantType.QInt8),
    "qoperator": (QuantFormat.QOperator, QuantType.QUInt8),
}
# Weight-only formats: (block size, symmetric, bits) for onnxruntime's MatMulNBitsQuantizer,
# which writes com.microsoft MatMulNBits (round to nearest), as LLM exports ship. 4 bits only:
# onnxruntime's CPU kernel computes no other width.
WEIGHT_ONLY = {
    "int4-block32": (32, False, 4),
    "int4-block128-symmetric": (128, True, 4),
}
MIN_COSINE = 0.9999


def make_inputs(model, seed):
    """Seeded inputs: floats ~ N(0, 1); masks with trailing zeros (padding); ids in [0, 2)."""
    rng = np.random.default_rng(seed)
    initializers = {i.name for i in model.graph.initializer}
    inputs = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        shape = [d.dim_value for d in tensor_type.shape.dim]
        if np.issubdtype(dtype, np.floating):
            inputs[value.name] = rng.standard_normal(shape).astype(dtype)
        elif "mask" in value.name:
            mask = np.ones(shape, dtype=dtype)
            mask[..., shape[-1] - rng.integers(0, shape[-1] // 2 + 1):] = 0
            inputs[value.name] = mask
        elif dtype in (np.uint8, np.int8):
            info = np.iinfo(dtype)
            inputs[value.name] = rng.integers(info.min, info.max + 1, size=shape).astype(dtype)
        else:
            inputs[value.name] = rng.integers(0, 2, size=shape).astype(dtype)
    return inputs


class Calibration(CalibrationDataReader):
    def __init__(self, model, count=16):
        self.samples = iter([make_inputs(model, seed) for seed in range(count)])

    def get_next(self):
        return next(self.samples, None)


def with_quantized_outputs(model):
    """`model` with every integer tensor a quantizing node makes as a graph output."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    outputs = {o.name for o in model.graph.output}
    integer = {onnx.TensorProto.INT8, onnx.TensorProto.UINT8}
    for node in model.graph.node:
        if not (node.op_type == "QuantizeLinear" or node.op_type.startswith("QLinear")
                or node.op_type == "QGemm"):
            continue
        name = node.output[0]
        info = types.get(name)
        if name in outputs or info is None or info.type.tensor_type.elem_type not in integer:
            continue
        model.graph.output.append(info)
        outputs.add(name)
    return model


def compare(name, expected, actual, stats, weight_only):
    """A failure message, or None; `stats` gathers off-by-one counts and the lowest cosine."""
    if expected.shape != actual.shape or expected.dtype != actual.dtype:
        return (f"{name}: got {actual.dtype}{list(actual.shape)}, expected "
                f"{expected.dtype}{list(expected.shape)}")
    if np.issubdtype(expected.dtype, np.integer):
        difference = np.abs(expected.astype(np.int32) - actual.astype(np.int32))
        stats["off by one"] += int(np.count_nonzero(difference == 1))
        stats["elements"] += difference.size
        if difference.max(initial=0) > 1:
            index = tuple(int(i) for i in np.unravel_index(np.argmax(difference), difference.shape))
            return (f"{name}: {np.count_nonzero(difference > 1)} elements differ by more than "
                    f"1; worst at {index}: {actual[index]} vs {expected[index]}")
        return None
    a, e = actual.astype(np.float64).ravel(), expected.astype(np.float64).ravel()
    if weight_only:
        # Both dequantize the weights exactly and multiply in f32: f32 rounding apart.
        error = np.abs(a - e).max(initial=0)
        limit = 1e-4 * np.abs(e).max(initial=0) + 1e-6
        if not error <= limit:
            return f"{name}: max abs error {error:.3g} > {limit:.3g}"
    norms = np.linalg.norm(a) * np.linalg.norm(e)
    cosine = 1.0 if norms == 0 and not a.any() and not e.any() else float(a @ e / norms)
    stats["cosine"] = min(stats["cosine"], cosine)
    if not cosine >= MIN_COSINE:
        return f"{name}: cosine similarity {cosine:.6f} < {MIN_COSINE}"
    return None


def check(model_name, format_name, args):
    work = os.path.join(args.work_dir, f"{model_name}-{format_name}")
    os.makedirs(work, exist_ok=True)
    float_path = os.path.join(work, "float.onnx")
    made = subprocess.run([sys.executable, MAKE_MODEL, MODELS[model_name], float_path],
                          capture_output=True, text=True)
    if made.returncode:
        return [f"{model_name}: generating the model failed: {made.stderr.strip()}"]
    float_model = onnx.load(float_path)
    quant_format, activation_type = FORMATS.get(format_name, (None, None))
    path = os.path.join(work, "quantized.onnx")
    if format_name in WEIGHT_ONLY:
        block_size, symmetric, bits = WEIGHT_ONLY[format_name]
        config = DefaultWeightOnlyQuantConfig(block_size=block_size, is_symmetric=symmetric,
                                              bits=bits)
        quantizer = MatMulNBitsQuantizer(float_model, algo_config=config)
        quantizer.process()
        quantizer.model.save_model_to_file(path)
    elif format_name:
        quantize_static(float_path, path, Calibration(float_model), quant_format=quant_format,
                        per_channel=True, activation_type=activation_type,
                        weight_type=QuantType.QInt8)
    else:
        path = float_path
    onnx.save(with_quantized_outputs(onnx.load(path)), path)

    inputs = make_inputs(float_model, seed=1000)
    input_args = []
    for name, data in inputs.items():
        file = os.path.join(work, output_file_name(name))
        np.save(file, data)
        input_args += ["--input", f"{name}={file}"]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    expected = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))

    failures = []
    stats = {"off by one": 0, "elements": 0, "cosine": 1.0}
    label = f"{model_name} ({format_name or 'as made'})"
    for variant, flags in VARIANTS:
        out_dir, error = compile_and_run(args.bin_dir, path, work, args.device, flags, input_args)
        if error:
            failures.append(f"{label}, {variant}: {error}")
            continue
        for name, reference in expected.items():
            got = np.load(os.path.join(out_dir, output_file_name(name)))
            problem = compare(name, reference, got, stats, format_name in WEIGHT_ONLY)
            if problem:
                failures.append(f"{label}, {variant}: {problem}")
    integers = sum(np.issubdtype(v.dtype, np.integer) for v in expected.values())
    print(f"{label}: {'FAIL' if failures else 'ok'} ({integers} quantized tensors: "
          f"{stats['off by one']} of {stats['elements']} elements off by one over both runs; "
          f"{len(expected) - integers} float outputs: lowest cosine {stats['cosine']:.7f})",
          flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--device", choices=sorted(DEVICES), default="cpu")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's advice on pre-processing
    failures = []
    for model_name in args.models.split(","):
        formats = {"cnn": list(FORMATS), "bert": list(FORMATS) + list(WEIGHT_ONLY),
                   "gpt2": list(WEIGHT_ONLY), "qoperator": [""]}[model_name]
        for format_name in formats:
            failures += check(model_name, format_name, args)
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
