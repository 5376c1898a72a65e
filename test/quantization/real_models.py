#!/usr/bin/env python3
"""--quantize on the real-model suite (test/models/suite: PyTorch and transformers exports by
the TorchScript and dynamo exporters) as a user would run it.

For one export of each model (every model and variant with --all) and each scheme (int8 with
MinMax, fp8-block, whose opset raise meets the exporters' forms, and int4-weights), with its
stored inputs and three seeded perturbations of its float inputs as calibration samples and its dims fixed by --shape:
catfish-compile writes the quantized ONNX model and an accuracy report; the model passes
onnx.checker and onnxruntime runs it; Catfish's artifact of the same quantization matches
onnxruntime on it (cosine >= 0.999 per output, integers exactly); and the report gives every
output a finite SQNR or none (exact). Prints per model the ops quantized and each output's
SQNR against the float model.

  real_models.py --bin-dir build/bin --work-dir /tmp/real-quant [--models resnet]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, os.pardir, "models", "suite")
SCHEMES = {"int8": ["--quantize=int8"], "fp8-block": ["--quantize=fp8-block"],
           "int4": ["--quantize=int4-weights", "--weight-block=32"]}
MIN_COSINE = 0.999


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def samples(feeds, directory):
    """The stored inputs and three perturbations (floats scaled and noised; others as stored)."""
    rng = np.random.default_rng(0)
    for k in range(4):
        folder = os.path.join(directory, f"{k:04d}")
        os.makedirs(folder, exist_ok=True)
        for name, value in feeds.items():
            if k and np.issubdtype(value.dtype, np.floating):
                value = (value * rng.uniform(0.8, 1.2) +
                         rng.normal(0, 0.1 * (np.std(value) + 1e-6), value.shape)).astype(value.dtype)
            np.save(os.path.join(folder, name + ".npy"), value)


def check(name, args):
    model_dir = os.path.join(SUITE, name)
    inputs_dir = os.path.join(model_dir, "inputs")
    feeds = {f[:-4]: np.load(os.path.join(inputs_dir, f)) for f in sorted(os.listdir(inputs_dir))}
    work = os.path.join(args.work_dir, name)
    calib = os.path.join(work, "calib")
    samples(feeds, calib)
    shapes = []
    for n, value in feeds.items():
        shapes += ["--shape", f"{n}={'x'.join(str(d) for d in value.shape)}"]
    failures, lines = [], []
    for scheme, flags in SCHEMES.items():
        label = f"{name} ({scheme})"
        # The quantized model goes next to the input: external data stays readable there.
        qdq = os.path.join(work, f"{scheme}.onnx")
        os.makedirs(work, exist_ok=True)
        model = os.path.join(work, "model.onnx")
        if not os.path.exists(model):
            os.symlink(os.path.abspath(os.path.join(model_dir, "model.onnx")), model)
        report_path, artifact = (os.path.join(work, f"{scheme}.{e}") for e in ("json", "catfish"))
        common = [*flags, "--calibration-data", calib, *shapes]
        done = run([os.path.join(args.bin_dir, "catfish-compile"), model, "--emit=onnx-qdq", "-o",
                    qdq, "--accuracy-report", report_path, *common])
        if done.returncode:
            failures.append(f"{label}: catfish-compile failed: {done.stderr.strip()}")
            continue
        done = run([os.path.join(args.bin_dir, "catfish-compile"), qdq, "-o", artifact, *shapes])
        if done.returncode:
            failures.append(f"{label}: compiling the quantized model failed: "
                            f"{done.stderr.strip()}")
            continue
        onnx.checker.check_model(onnx.load(qdq), full_check=False)
        # onnxruntime 1.22's extended optimizations fuse a float8 DequantizeLinear into
        # MatMulIntegerToFloat, which takes no float8: basic ones only for FP8.
        options = ort.SessionOptions()
        if scheme.startswith("fp8"):
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        session = ort.InferenceSession(qdq, options, providers=["CPUExecutionProvider"])
        expected = session.run(None, feeds)
        out_dir = os.path.join(work, f"out-{scheme}")
        cmd = [os.path.join(args.bin_dir, "catfish-run"), artifact, "--output-dir", out_dir]
        for n in feeds:
            cmd += ["--input", f"{n}={os.path.join(inputs_dir, n + '.npy')}"]
        done = run(cmd)
        if done.returncode:
            failures.append(f"{label}: catfish-run failed: {done.stderr.strip()}")
            continue
        for output, want in zip(session.get_outputs(), expected):
            got = np.load(os.path.join(out_dir, "".join(
                c if c.isalnum() or c in "._-" else "_" for c in output.name) + ".npy"))
            if not np.issubdtype(want.dtype, np.floating):
                if not np.array_equal(got, want):
                    failures.append(f"{label}: output {output.name} differs from onnxruntime")
                continue
            a, b = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
            norms = np.linalg.norm(a) * np.linalg.norm(b)
            cosine = 1.0 if norms == 0 else float(a @ b / norms)
            if not cosine >= MIN_COSINE:
                failures.append(f"{label}: output {output.name}: cosine {cosine:.5f} with "
                                f"onnxruntime running the quantized model")
        with open(report_path) as f:
            report = json.load(f)
        quantized = sum(op["precision"] != "f32" for op in report["ops"])
        sqnr = ", ".join(f"{o['name']} {'exact' if o['sqnr_db'] is None else format(o['sqnr_db'], '.1f')}"
                         for o in report["outputs"])
        lines.append(f"{label}: {quantized} of {len(report['ops'])} ops; {sqnr}")
    for line in lines:
        print(line, flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--models", default="")
    parser.add_argument("--all", action="store_true",
                        help="every model, both exporters' and the symbolic-dims variants")
    args = parser.parse_args()
    names = sorted(os.listdir(SUITE))
    if args.models:
        names = [n for n in names if any(m in n for m in args.models.split(","))]
    elif not args.all:
        # One export of each model: the TorchScript one where both exporters made it, and no
        # symbolic-dims twin (the quantizer sees the same graph once --shape fixes the dims).
        names = [n for n in names if not n.endswith("_dynamic") and not (
            n.endswith("_dynamo") and n[:-len("dynamo")] + "ts" in names)]
    failures = []
    for name in names:
        failures += check(name, args)
    for failure in failures:
        print("FAIL:", failure)
    print(f"{len(names)} models, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
