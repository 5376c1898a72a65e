#!/usr/bin/env python3
"""--calibrator=mse checked against a brute-force search over the raw calibration values.

onnxruntime has no MSE calibrator, so the reference is computed here from the samples
themselves: for symmetric clips [-t, t] (cut to the values seen) on a grid of t, the mean
squared error of quantizing every calibration value with that range (onnxruntime's int8
compute_scale_zp; E4M3 with scale t / 448 for fp8, rounded by ONNX's own float8 conversion).
The range Catfish reports must reach the brute-force minimum to within 2 % (Catfish searches
a 2048-bin histogram, taking each bin's values at its center, so its clip may differ by a bin
or two where the error curve is flat). On heavy-tailed activations (Laplace with rare 30x
outliers) the MSE clip must also beat MinMax's quantization SQNR in the accuracy report.

  mse_calibrator.py --bin-dir build/bin --work-dir /tmp/mse
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

K, N, ROWS, SAMPLES = 256, 64, 32, 8
MAX_EXCESS = 0.02


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def int8_error(values, low, high):
    """onnxruntime's compute_scale_zp for int8 and the squared error of quantizing `values`."""
    low, high = min(np.float32(low), np.float32(0)), max(np.float32(high), np.float32(0))
    scale = (np.float64(high) - np.float64(low)) / 255.0
    if scale < np.finfo(np.float32).tiny:
        scale, zero = 1.0, 0
    else:
        zero = int(np.clip(np.round(-128.0 - np.float64(low) / scale), -128, 127))
        scale = float(np.float32(scale))
    q = np.clip(np.round(values / scale) + zero, -128, 127)
    return float(((values - (q - zero) * scale) ** 2).sum())


def e4m3(values):
    """Round to nearest even E4M3FN, saturating (checked against ONNX's conversion below)."""
    magnitude = np.minimum(np.abs(values), 448.0)
    _, exponent = np.frexp(magnitude.astype(np.float32))
    step = np.ldexp(1.0, np.maximum(exponent - 1, -6) - 3)
    return np.sign(values) * np.minimum(np.round(magnitude / step) * step, 448.0)


def fp8_error(values, low, high):
    amax = max(abs(float(low)), abs(float(high)))
    scale = float(np.float32(amax / 448.0)) if amax / 448.0 >= np.finfo(np.float32).tiny else 1.0
    scaled = (values / scale).astype(np.float32)
    return float(((values - e4m3(scaled) * scale) ** 2).sum())


def check_e4m3():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(4000) * 10 ** rng.uniform(-4, 3, 4000),
                        np.arange(-480, 481, 0.25)]).astype(np.float32)
    want = np.vectorize(lambda v: helper.float32_to_float8e4m3(v, saturate=True), otypes=[np.uint8])(x)
    decoded = numpy_helper.float8e4m3_to_float32(want)
    return [] if np.array_equal(e4m3(x), decoded) else ["the test's E4M3 rounding differs from ONNX's"]


def make(work):
    rng = np.random.default_rng(11)
    w = (rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mse",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])],
        [numpy_helper.from_array(w, "w")])
    path = os.path.join(work, "model.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    values = []
    for index in range(SAMPLES):
        x = rng.laplace(size=(ROWS, K)).astype(np.float32)
        outliers = rng.random((ROWS, K)) < 2e-4
        x[outliers] *= 30
        folder = os.path.join(work, "samples", f"{index:04d}")
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "x.npy"), x)
        values.append(x.ravel())
    return path, np.concatenate(values).astype(np.float64)


def calibrate(args, path, work, scheme, calibrator):
    report = os.path.join(work, f"{scheme}-{calibrator}.json")
    done = run([os.path.join(args.bin_dir, "catfish-compile"), path, "-o",
                os.path.join(work, f"{scheme}-{calibrator}.catfish"), f"--quantize={scheme}",
                f"--calibrator={calibrator}", "--calibration-data", os.path.join(work, "samples"),
                "--accuracy-report", report])
    if done.returncode:
        return None, f"catfish-compile --quantize={scheme} --calibrator={calibrator} failed: {done.stderr.strip()}"
    with open(report) as f:
        return json.load(f)["ops"][0]["inputs"][0], None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    failures = check_e4m3()
    path, values = make(args.work_dir)
    low, high = values.min(), values.max()
    largest = max(abs(low), abs(high))
    grid = np.linspace(0, largest, 1025)[1:]
    for scheme, error in (("int8", int8_error), ("fp8", fp8_error)):
        best = min(error(values, max(-t, low), min(t, high)) for t in grid)
        picked, problem = calibrate(args, path, args.work_dir, scheme, "mse")
        if problem:
            failures.append(problem)
            continue
        ours = error(values, *picked["range"])
        excess = ours / best - 1
        minmax, problem = calibrate(args, path, args.work_dir, scheme, "minmax")
        if problem:
            failures.append(problem)
            continue
        print(f"{scheme}: mse range [{picked['range'][0]:.3f}, {picked['range'][1]:.3f}] of "
              f"[{low:.3f}, {high:.3f}], error {excess * 100:+.2f} % against the brute-force "
              f"minimum; quantization SQNR {picked['quantization_sqnr_db']:.1f} dB, minmax "
              f"{minmax['quantization_sqnr_db']:.1f} dB", flush=True)
        if not excess <= MAX_EXCESS:
            failures.append(f"{scheme}: the mse range's error is {excess * 100:.2f} % above the "
                            f"brute-force minimum")
        if scheme == "int8" and not picked["quantization_sqnr_db"] > minmax["quantization_sqnr_db"]:
            failures.append("int8: mse does not beat minmax on heavy-tailed activations")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
