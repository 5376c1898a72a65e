#!/usr/bin/env python3
"""Calibration benchmark: catfish-compile --quantize=int8 on a BERT-base encoder.

Uses bench/import_bert.py's BERT-base encoder (12 layers, hidden 768, ~110M parameters in an
external data file; generated once into --model-dir) and writes --samples seeded calibration
samples (input_ids, attention_mask at batch 1, sequence 128, the second half of each mask
padding). It then runs

    catfish-compile model.onnx --quantize=int8 --calibration-data DIR --emit=onnx-qdq -o Q.onnx

once per calibrator and reports wall time and the compiler's peak RSS against the targets of
issue 13 (32 samples in <= 60 s, peak memory <= 2x the weights). Calibration compiles the float
model for the host CPU with every calibrated activation as an extra output, runs the samples
one at a time and streams each activation into its statistics.

    .venv/bin/python bench/calibrate_bert.py [--samples 32] [--calibrators minmax,entropy]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_bert  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def write_samples(directory, count):
    rng = np.random.default_rng(0)
    for k in range(count):
        folder = directory / f"{k:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        ids = rng.integers(0, import_bert.VOCAB, (import_bert.BATCH, import_bert.SEQUENCE))
        mask = np.ones((import_bert.BATCH, import_bert.SEQUENCE), np.int64)
        mask[:, import_bert.SEQUENCE // 2:] = 0
        np.save(folder / "input_ids.npy", ids.astype(np.int64))
        np.save(folder / "attention_mask.npy", mask)


def measure(command):
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"catfish-compile failed:\n{proc.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiler", type=Path, default=REPO_ROOT / "build/bin/catfish-compile")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "build/bench/bert-base")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--calibrators", default="minmax,entropy")
    args = parser.parse_args()
    model = import_bert.ensure_model(args.model_dir, 0)
    weights = import_bert.weights_bytes(model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="catfish-calibrate-") as tmp:
        samples = Path(tmp) / "samples"
        write_samples(samples, args.samples)
        for calibrator in args.calibrators.split(","):
            out = Path(tmp) / f"{calibrator}.onnx"
            wall, rss = measure([str(args.compiler), str(model), "--quantize=int8",
                                 f"--calibrator={calibrator}", "--calibration-data",
                                 str(samples), "--emit=onnx-qdq", "-o", str(out),
                                 "--shape", f"input_ids=1x{import_bert.SEQUENCE}",
                                 "--shape", f"attention_mask=1x{import_bert.SEQUENCE}"])
            rows.append(f"| {calibrator} | {args.samples} | {wall:.1f} s (<= 60) | "
                        f"{rss / 2**20:.0f} MiB = {rss / weights:.2f}x the weights (<= 2x) |")
    print(f"BERT-base, weights {weights / 2**20:.0f} MiB, {os.cpu_count()} cores\n")
    print("| calibrator | samples | wall | peak RSS |\n| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
