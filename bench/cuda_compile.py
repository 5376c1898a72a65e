#!/usr/bin/env python3
"""CUDA compile benchmark: BERT-base compiled for --target cuda against --target cpu, and the
CUDA plan's launch and library-call counts per BERT layer.

Uses the BERT-base encoder of bench/import_bert.py (generated once into --model-dir), compiles
it at batch 1, sequence 128 for the CPU (x86-64-v3) and for CUDA (sm_80, sm_90a and compute_80
PTX) --repeat times each, alternating, and reports the median wall time of each and their
ratio (target: CUDA <= 1.5x CPU). Then it compiles the one-layer BERT of the e2e suite for
CUDA with fusion on and off and counts, from catfish-inspect, the steps, the kernel launches
and the cuBLASLt calls of the plan. No GPU is needed.

Usage (from the repository root):
    .venv/bin/python bench/cuda_compile.py [--repeat 3]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "build", "bin")
MAKE_MODEL = os.path.join(ROOT, "test", "Import", "Inputs", "make_model.py")
SHAPES = ["--shape", "input_ids=1x128", "--shape", "attention_mask=1x128"]


def compile_seconds(model, output, flags):
    start = time.monotonic()
    subprocess.run([os.path.join(BIN, "catfish-compile"), model, "-o", output, *SHAPES, *flags],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def plan_counts(artifact):
    text = subprocess.run([os.path.join(BIN, "catfish-inspect"), artifact, "--steps"],
                          check=True, capture_output=True, text=True).stdout
    steps = int(re.search(r"^steps: (\d+)", text, re.M).group(1))
    return steps, text.count("\n    launch "), text.count("\n    cublaslt matmul ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model-dir", default=os.path.join(ROOT, "build", "bench", "bert-base"))
    args = parser.parse_args()
    model = os.path.join(args.model_dir, "model.onnx")
    if not os.path.exists(model):
        subprocess.run([sys.executable, os.path.join(HERE, "import_bert.py"), "--generate-only",
                        "--model-dir", args.model_dir], check=True)
    with tempfile.TemporaryDirectory() as work:
        times = {"cpu": [], "cuda": []}
        for _ in range(args.repeat):
            for target in times:
                times[target].append(compile_seconds(
                    model, os.path.join(work, target + ".catfish"), ["--target", target]))
        cpu, cuda = (statistics.median(times[t]) for t in ("cpu", "cuda"))
        print("BERT-base 1x128 compile, median of %d: cpu %.1f s, cuda %.1f s, cuda/cpu %.2f "
              "(target <= 1.5)" % (args.repeat, cpu, cuda, cuda / cpu))
        layer = os.path.join(work, "bert_layer.onnx")
        subprocess.run([sys.executable, MAKE_MODEL, "bert_layer", layer], check=True)
        print("| BERT layer (e2e bert_layer) | steps | kernel launches | cuBLASLt calls |")
        print("| --- | --- | --- | --- |")
        for label, flags in (("fusion on", []), ("fusion off", ["--no-fusion"])):
            artifact = os.path.join(work, "layer.catfish")
            subprocess.run([os.path.join(BIN, "catfish-compile"), layer, "-o", artifact,
                            "--target", "cuda", *flags], check=True, stdout=subprocess.DEVNULL)
            print("| %s | %d | %d | %d |" % (label, *plan_counts(artifact)))


if __name__ == "__main__":
    main()
