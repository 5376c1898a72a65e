#!/usr/bin/env python3
"""Writes seeded sample inputs for a model in --calibration-data layout: DIR/NNNN/<input>.npy.

  make_samples.py MODEL.onnx DIR [--count 8] [--seed 0]
"""
import argparse
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantized_models import make_inputs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("dir")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = onnx.load(args.model, load_external_data=False)
    for seed in range(args.seed, args.seed + args.count):
        folder = os.path.join(args.dir, f"{seed:04d}")
        os.makedirs(folder, exist_ok=True)
        for name, value in make_inputs(model, seed).items():
            np.save(os.path.join(folder, name + ".npy"), value)


if __name__ == "__main__":
    main()
