#!/usr/bin/env python3
"""catfish-compile --quantize=int4-weights checked against onnxruntime.

- Round to nearest (--weight-method rtn) writes the very MatMulNBits initializers (packed
  weights, scales, zero points) that onnxruntime's MatMulNBitsQuantizer writes, for blocks of
  16, 32, 64 and 128, symmetric and not, on the e2e BERT layer and GPT-2 block.
- onnxruntime runs the --emit=onnx-qdq model, and Catfish's artifact of the same quantization
  matches it (max abs error within 1e-4 of the largest output: both dequantize the same
  weights exactly and multiply in f32).
- GPTQ (--weight-method gptq) beats round to nearest on held-out inputs: the GPT-2 block fed
  hidden states with a few outlier channels (as language models have), 64 calibration and 32
  evaluation samples, every output's SQNR in the accuracy report higher with GPTQ.
- --quantize=int8-weights (blocks of 32 and 128, symmetric and not; round to nearest and
  GPTQ): every weight becomes a DequantizeLinear blocked along K (int8 without zero points,
  or uint8 with them) whose values lie within one step of the float weight (round to
  nearest); the model passes
  onnx.checker's full check, onnxruntime runs it and Catfish's artifact matches it (1e-4 of
  the largest output); each output's SQNR is at least 18 dB above int4's at the same block.

  weight_only.py --bin-dir build/bin --work-dir /tmp/weight-only
"""
import argparse
import json
import logging
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                             MatMulNBitsQuantizer)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantized_models import MAKE_MODEL, make_inputs  # noqa: E402

CONFIGS = ((16, True), (32, False), (64, False), (128, True), (128, False))


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def matmul_nbits(model):
    values = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    return {n.output[0]: ([values[i] for i in n.input[1:]],
                          {a.name: a.i for a in n.attribute if a.name != "accuracy_level"})
            for n in model.graph.node if n.op_type == "MatMulNBits"}


def matches_onnxruntime(label, model_path, artifact, inputs, work, args):
    """onnxruntime runs the model at `model_path`; Catfish's artifact of it matches (max abs
    error within 1e-4 of the largest output: both dequantize the same weights exactly and
    multiply in f32)."""
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    expected = session.run(None, inputs)
    cmd = [os.path.join(args.bin_dir, "catfish-run"), artifact, "--output-dir",
           os.path.join(work, "out")]
    for n, v in inputs.items():
        np.save(os.path.join(work, f"{n}.npy"), v)
        cmd += ["--input", f"{n}={os.path.join(work, n + '.npy')}"]
    done = run(cmd)
    if done.returncode:
        return [f"{label}: catfish-run failed: {done.stderr.strip()}"]
    failures = []
    for output, want in zip(session.get_outputs(), expected):
        got = np.load(os.path.join(work, "out", output.name + ".npy"))
        error = float(np.abs(got - want).max())
        if not error <= 1e-4 * float(np.abs(want).max()) + 1e-6:
            failures.append(f"{label}: {output.name} differs from onnxruntime by {error:.3g}")
    return failures


def check_rtn(name, path, work, args):
    failures = []
    inputs = make_inputs(onnx.load(path), 1000)
    for block, symmetric in CONFIGS:
        before = len(failures)
        label = f"{name} (block {block}, {'symmetric' if symmetric else 'zero points'})"
        ours = os.path.join(work, f"rtn-{block}-{symmetric}.onnx")
        artifact = ours.replace(".onnx", ".catfish")
        flags = ["--quantize=int4-weights", f"--weight-block={block}",
                 *(["--weight-symmetric"] if symmetric else [])]
        compiler = os.path.join(args.bin_dir, "catfish-compile")
        for cmd in ([path, "--emit=onnx-qdq", "-o", ours, *flags], [path, "-o", artifact, *flags]):
            done = run([compiler, *cmd])
            if done.returncode:
                failures.append(f"{label}: catfish-compile failed: {done.stderr.strip()}")
                break
        else:
            quantizer = MatMulNBitsQuantizer(onnx.load(path), algo_config=DefaultWeightOnlyQuantConfig(
                block_size=block, is_symmetric=symmetric))
            quantizer.process()
            reference = matmul_nbits(quantizer.model.model)
            got = matmul_nbits(onnx.load(ours))
            if set(got) != set(reference):
                failures.append(f"{label}: quantized {sorted(got)}, onnxruntime {sorted(reference)}")
            for output, (tensors, attrs) in got.items():
                ref_tensors, ref_attrs = reference.get(output, ([], {}))
                if attrs != ref_attrs or len(tensors) != len(ref_tensors) or not all(
                        np.array_equal(a, b) for a, b in zip(tensors, ref_tensors)):
                    failures.append(f"{label}: MatMulNBits for {output} differs from "
                                    f"MatMulNBitsQuantizer's")
            failures += matches_onnxruntime(label, ours, artifact, inputs, work, args)
        print(f"{label}: {'FAIL' if len(failures) > before else 'ok'}", flush=True)
    return failures


def check_gptq(work, path, args):
    """GPTQ against round to nearest on held-out inputs with outlier channels."""
    model = onnx.load(path)
    scale = np.ones(32, np.float32)
    scale[np.random.default_rng(5).choice(32, 3, replace=False)] = 8
    for directory, seeds in (("calib", range(64)), ("eval", range(1000, 1032))):
        for seed in seeds:
            folder = os.path.join(work, directory, f"{seed:04d}")
            os.makedirs(folder, exist_ok=True)
            for name, value in make_inputs(model, seed).items():
                np.save(os.path.join(folder, name + ".npy"), value * scale if name == "x" else value)
    sqnr = {}
    for method in ("rtn", "gptq"):
        report = os.path.join(work, f"{method}.json")
        done = run([os.path.join(args.bin_dir, "catfish-compile"), path, "--quantize=int4-weights",
                    "--weight-block=32", f"--weight-method={method}", "--calibration-data",
                    os.path.join(work, "calib"), "--evaluation-data", os.path.join(work, "eval"),
                    "--accuracy-report", report, "--emit=onnx-qdq", "-o",
                    os.path.join(work, f"{method}.onnx")])
        if done.returncode:
            return [f"gptq check: catfish-compile failed: {done.stderr.strip()}"]
        with open(report) as f:
            sqnr[method] = {o["name"]: o["sqnr_db"] for o in json.load(f)["outputs"]}
    failures = [f"GPT-2 block: output {name}: GPTQ {sqnr['gptq'][name]:.2f} dB, round to nearest "
                f"{db:.2f} dB" for name, db in sqnr["rtn"].items() if not sqnr["gptq"][name] > db]
    summary = ", ".join(f"{n} {sqnr['rtn'][n]:.1f} -> {sqnr['gptq'][n]:.1f} dB" for n in sqnr["rtn"])
    print(f"GPT-2 block, GPTQ vs round to nearest (block 32, held-out inputs): "
          f"{'FAIL' if failures else 'ok'} ({summary})", flush=True)
    return failures


def check_int8(name, path, work, args):
    """--quantize=int8-weights against the float weights, onnxruntime and int4."""
    failures = []
    os.makedirs(work, exist_ok=True)
    original = onnx.load(path)
    floats = {t.name: onnx.numpy_helper.to_array(t) for t in original.graph.initializer}
    inputs = make_inputs(original, 1000)
    calibration = os.path.join(work, "calibration")
    for seed in range(8):
        folder = os.path.join(calibration, f"{seed:04d}")
        os.makedirs(folder, exist_ok=True)
        for n, v in make_inputs(original, seed).items():
            np.save(os.path.join(folder, n + ".npy"), v)
    compiler = os.path.join(args.bin_dir, "catfish-compile")
    for block, symmetric, method in ((32, False, "rtn"), (128, True, "rtn"), (32, False, "gptq")):
        label = f"{name} int8-weights (block {block}, {'symmetric' if symmetric else 'zero points'}, {method})"
        before = len(failures)
        sqnr = {}
        for bits in (8, 4):
            flags = [f"--quantize=int{bits}-weights", f"--weight-block={block}",
                     f"--weight-method={method}", "--calibration-data", calibration,
                     *(["--weight-symmetric"] if symmetric else [])]
            ours = os.path.join(work, f"int{bits}-{block}-{symmetric}-{method}.onnx")
            report = ours.replace(".onnx", ".json")
            done = run([compiler, path, "--emit=onnx-qdq", "-o", ours, "--accuracy-report", report, *flags])
            if done.returncode:
                failures.append(f"{label}: catfish-compile failed: {done.stderr.strip()}")
                break
            with open(report) as f:
                sqnr[bits] = {o["name"]: o["sqnr_db"] for o in json.load(f)["outputs"]}
            if bits == 4:
                break
            artifact = ours.replace(".onnx", ".catfish")
            done = run([compiler, path, "-o", artifact, *flags])
            if done.returncode:
                failures.append(f"{label}: catfish-compile failed: {done.stderr.strip()}")
                break
            model = onnx.load(ours)
            onnx.checker.check_model(model, full_check=True)
            inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
            dequantized = [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
            if not dequantized:
                failures.append(f"{label}: no DequantizeLinear")
            for node in dequantized:
                values, scale = inits[node.input[0]], inits[node.input[1]]
                zero = inits[node.input[2]] if len(node.input) > 2 else np.zeros_like(scale, values.dtype)
                if (values.dtype == np.int8) != symmetric or (len(node.input) > 2) == symmetric:
                    failures.append(f"{label}: {node.input[0]} is {values.dtype} with "
                                    f"{len(node.input) - 2} zero points")
                attrs = {a.name: a.i for a in node.attribute}
                axis = attrs["axis"]
                expand = lambda t: np.repeat(t, attrs["block_size"], axis=axis)[
                    tuple(slice(0, d) for d in values.shape)]
                step = np.abs(expand(scale))
                w = (values.astype(np.float32) - expand(zero).astype(np.float32)) * expand(scale)
                source = floats[node.input[0][:-len("_quantized")]]
                # GPTQ moves weights to cancel earlier columns' errors; rounding moves them a step at most.
                if method == "rtn" and not (np.abs(w - source) <= step * 1.0001 + 1e-12).all():
                    failures.append(f"{label}: {node.input[0]} is more than one step off the float weight")
            failures += matches_onnxruntime(label, ours, artifact, inputs, work, args)
        if len(sqnr) == 2:
            for output, db in sqnr[8].items():
                if not db >= sqnr[4][output] + 18:
                    failures.append(f"{label}: {output} at {db:.1f} dB, int4 {sqnr[4][output]:.1f} dB")
        summary = ", ".join(f"{o} {sqnr[8][o]:.1f} dB (int4 {sqnr[4][o]:.1f})" for o in sqnr.get(4, {}))
        print(f"{label}: {'FAIL' if len(failures) > before else 'ok'} ({summary})", flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    failures = []
    paths = {}
    for name in ("bert_layer", "gpt2_block"):
        work = os.path.join(args.work_dir, name)
        os.makedirs(work, exist_ok=True)
        paths[name] = os.path.join(work, "float.onnx")
        made = run([sys.executable, MAKE_MODEL, name, paths[name]])
        if made.returncode:
            failures.append(f"{name}: generating the model failed: {made.stderr.strip()}")
            continue
        failures += check_rtn(name, paths[name], work, args)
    failures += check_gptq(os.path.join(args.work_dir, "gptq"), paths["gpt2_block"], args)
    for name, path in paths.items():
        failures += check_int8(name, path, os.path.join(args.work_dir, name, "int8"), args)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
