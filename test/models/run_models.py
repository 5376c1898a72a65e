#!/usr/bin/env python3
"""The real-model suite against onnxruntime: every model under suite/ (made by make_models.py:
PyTorch modules and transformers models exported by torch.onnx's TorchScript and dynamo
exporters, some with symbolic batch and sequence dims) is compiled by catfish-compile with
each input's dims fixed by --shape to its stored input's, run by catfish-run on its stored inputs
(on the CPU with fusion and without, or as a CUDA plan on the emulator), and every output must
match onnxruntime on the same inputs within rtol 1e-3, atol 1e-4 (integers exactly).

  run_models.py --bin-dir build/bin --work-dir /tmp/models [--models bert] [--device cpu]
      [--suite DIR]
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import DEVICES, VARIANTS, compile_and_run, output_file_name

SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite")


def check(name, args):
    model_dir = os.path.join(args.suite, name)
    path = os.path.join(model_dir, "model.onnx")
    inputs_dir = os.path.join(model_dir, "inputs")
    feeds = {f[:-4]: np.load(os.path.join(inputs_dir, f)) for f in sorted(os.listdir(inputs_dir))}
    outputs = [o.name for o in onnx.load(path, load_external_data=False).graph.output]
    expected = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    input_args = []
    for n in feeds:
        input_args += ["--input", f"{n}={os.path.join(inputs_dir, n + '.npy')}"]
    # Models exported with symbolic dims get them fixed to the stored inputs' dims, as a user
    # compiling for a serving shape does.
    shape_args = []
    for n, value in feeds.items():
        shape_args += ["--shape", f"{n}={'x'.join(str(d) for d in value.shape)}"]
    failures = []
    variants = VARIANTS if args.device == "cpu" else VARIANTS[:1]
    for variant, flags in variants:
        work = os.path.join(args.work_dir, name, variant.replace(" ", "_"))
        os.makedirs(work, exist_ok=True)
        out_dir, error = compile_and_run(args.bin_dir, path, work, args.device, flags + shape_args,
                                         input_args)
        if error:
            failures.append(f"{name} ({variant}): {error.splitlines()[0]}")
            continue
        for n, want in zip(outputs, expected):
            got = np.load(os.path.join(out_dir, output_file_name(n)))
            if got.shape != want.shape or got.dtype != want.dtype:
                failures.append(f"{name} ({variant}): {n} is {got.dtype}{got.shape}, "
                                f"onnxruntime's {want.dtype}{want.shape}")
            elif not np.allclose(got, want, rtol=1e-3, atol=1e-4, equal_nan=True):
                err = np.max(np.abs(got.astype(np.float64) - want))
                failures.append(f"{name} ({variant}): {n} differs by up to {err:.3g}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--models", default="", help="run the models whose names contain this")
    parser.add_argument("--device", choices=sorted(DEVICES), default="cpu")
    parser.add_argument("--suite", default=SUITE, help="a folder of models as make_models.py writes")
    args = parser.parse_args()
    names = sorted(n for n in os.listdir(args.suite) if args.models in n)
    failures = []
    for name in names:
        failures += check(name, args)
    for failure in failures:
        print(failure, file=sys.stderr)
    failed = {f.split(" ")[0] for f in failures}
    print(f"{len(names) - len(failed)} / {len(names)} models match onnxruntime on {args.device}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
