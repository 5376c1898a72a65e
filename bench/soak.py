#!/usr/bin/env python3
"""Soak: long use of compiled models, and whether memory stays flat.

Compiles generated models (test/Import/Inputs/make_model.py) for the CPU and for the CUDA
emulator, runs bench/soak.cpp (build/bin/catfish-soak) on each: 10^4 runs in one session,
10^3 session create/release cycles, 10^2 model load/release cycles, each measured as the growth
of the resident set. Prints a markdown table (docs/hardening.md keeps one) and exits 1 when a
phase grew by more than --max-growth-kib.

  bench/soak.py [--bin-dir build/bin] [--work /tmp/soak] [--models mlp,bert_layer]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MODEL = os.path.join(HERE, "..", "test", "Import", "Inputs", "make_model.py")
LINE = re.compile(r"^(\w+): (\d+) cycles in ([\d.]+) s, resident (\d+) -> (\d+) KiB \(([+-]\d+) KiB\)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bin"))
    parser.add_argument("--work", default="/tmp/catfish-soak")
    parser.add_argument("--models", default="mlp,cnn,bert_layer,gpt2_block,moe_block")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--max-growth-kib", type=int, default=1024)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print("| model | device | phase | cycles | seconds | resident before (KiB) | growth (KiB) |")
    print("|---|---|---|---:|---:|---:|---:|")
    failed = False
    for name in args.models.split(","):
        model = os.path.join(args.work, name + ".onnx")
        subprocess.run([sys.executable, MAKE_MODEL, name, model], check=True)
        for device, flags in (("cpu", []), ("cuda-emulator", ["--target", "cuda", "--cuda-emulation"])):
            artifact = os.path.join(args.work, f"{name}.{device}.catfish")
            subprocess.run([os.path.join(args.bin_dir, "catfish-compile"), model, "-o", artifact]
                           + flags, check=True, stdout=subprocess.DEVNULL)
            ran = subprocess.run([os.path.join(args.bin_dir, "catfish-soak"), artifact,
                                  "--device", device, "--runs", str(args.runs),
                                  "--sessions", str(args.sessions), "--loads", str(args.loads),
                                  "--max-growth-kib", str(args.max_growth_kib)],
                                 capture_output=True, text=True)
            failed |= ran.returncode != 0
            for line in ran.stdout.splitlines():
                m = LINE.match(line)
                if m:
                    phase, cycles, seconds, before, _, growth = m.groups()
                    print(f"| {name} | {device} | {phase} | {cycles} | {seconds} | {before} | {growth} |")
            if ran.returncode and ran.stderr:
                print(ran.stderr.strip(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
