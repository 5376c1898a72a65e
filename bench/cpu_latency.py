#!/usr/bin/env python3
"""CPU latency: catfish (catfish-run --benchmark) vs onnxruntime on the same model, inputs
and machine, in one run. Both run with 1 thread and with all cores (catfish-run --threads,
onnxruntime intra_op_num_threads); reports the medians and the ratio catfish / onnxruntime at
each thread count.

    .venv/bin/python bench/cpu_latency.py MODEL.onnx ARTIFACT.catfish --shape input_ids=1x128 \
        --shape attention_mask=1x128 [--runs 10]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("artifact")
    parser.add_argument("--shape", action="append", default=[], help="NAME=DIMS (e.g. 1x128)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--bin-dir", default="build/bin")
    args = parser.parse_args()
    shapes = {s.split("=")[0]: [int(d) for d in s.split("=")[1].split("x")] for s in args.shape}

    model = onnx.load(args.model, load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        cli = []
        for value in model.graph.input:
            if value.name in initializers:
                continue
            t = value.type.tensor_type
            dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
            shape = shapes.get(value.name) or [d.dim_value for d in t.shape.dim]
            data = (rng.standard_normal(shape).astype(dtype) if np.issubdtype(dtype, np.floating)
                    else np.ones(shape, dtype=dtype))
            feeds[value.name] = data
            path = os.path.join(tmp, value.name + ".npy")
            np.save(path, data)
            cli += ["--input", f"{value.name}={path}"]
        catfish = {}
        for threads in (1, os.cpu_count()):
            out = subprocess.run([os.path.join(args.bin_dir, "catfish-run"), args.artifact,
                                  "--threads", str(threads), "--benchmark", str(args.runs)]
                                 + cli, capture_output=True, text=True, check=True).stdout
            catfish[threads] = float(re.search(r"median ([0-9.]+)", out).group(1))

    onnxruntime = {}
    for threads in catfish:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            session.run(None, feeds)
            times.append((time.perf_counter() - start) * 1e3)
        onnxruntime[threads] = statistics.median(times)

    print(f"model: {args.model} ({os.cpu_count()} cores, {args.runs} runs)")
    for threads, median in onnxruntime.items():
        print(f"{threads} thread(s): catfish median {catfish[threads]:.2f} ms, onnxruntime "
              f"median {median:.2f} ms; catfish / onnxruntime = {catfish[threads] / median:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
