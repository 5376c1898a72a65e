"""Compiling and running a model with catfish-compile and catfish-run, as the Python checks
under test/ do it: for the CPU or as a CUDA plan on the emulator, with fusion and without."""
import os
import subprocess

# Per device: catfish-compile flags, catfish-run flags.
DEVICES = {
    "cpu": (["--target", "cpu"], []),
    "cuda-emulator": (["--target", "cuda", "--cuda-emulation"], ["--device", "cuda-emulator"]),
    # A GPU (scripts/gpu-check.sh).
    "cuda": (["--target", "cuda"], ["--device", "cuda:0"]),
}
VARIANTS = (("fusion", []), ("no fusion", ["--no-fusion"]))


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def output_file_name(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) + ".npy"


def compile_and_run(bin_dir, model_path, work, device, variant_flags, input_args):
    """Compiles `model_path` and runs it on `input_args`; returns (output dir, None) or
    (None, what failed)."""
    compile_flags, run_flags = DEVICES[device]
    artifact = os.path.join(work, "model.catfish")
    compiled = run([os.path.join(bin_dir, "catfish-compile"), model_path, "-o", artifact] +
                   compile_flags + variant_flags)
    if compiled.returncode:
        return None, f"catfish-compile failed: {compiled.stderr.strip()}"
    out_dir = os.path.join(work, "out")
    ran = run([os.path.join(bin_dir, "catfish-run"), artifact, "--output-dir", out_dir] +
              input_args + run_flags)
    if ran.returncode:
        return None, f"catfish-run failed: {ran.stderr.strip()}"
    return out_dir, None


def check_model(name, model, feeds, expected, bin_dir, work_dir, device="cpu",
                variants=VARIANTS, rtol=1e-4, atol=1e-5):
    """Compiles and runs `model` (an in-memory ModelProto) on `feeds` for each variant and
    compares every output with `expected` (onnxruntime's, in graph-output order): same shapes
    and dtypes, values within rtol/atol (integers and booleans exactly; NaN matches NaN).
    Returns the failures as lines naming the case, device and variant."""
    import numpy as np
    import onnx

    failures = []
    for variant, flags in variants:
        label = f"{name} ({device}, {variant})"
        work = os.path.join(work_dir, name, variant.replace(" ", "_"))
        os.makedirs(work, exist_ok=True)
        path = os.path.join(work, "model.onnx")
        onnx.save(model, path)
        input_args = []
        for n, value in feeds.items():
            file = os.path.join(work, n + ".npy")
            np.save(file, value)
            input_args += ["--input", f"{n}={file}"]
        out_dir, error = compile_and_run(bin_dir, path, work, device, flags, input_args)
        if error:
            failures.append(f"{label}: {error}")
            continue
        for output, want in zip(model.graph.output, expected):
            got = np.load(os.path.join(out_dir, output_file_name(output.name)))
            if got.shape != want.shape or got.dtype != want.dtype:
                failures.append(f"{label}: {output.name} is {got.dtype}{got.shape}, "
                                f"onnxruntime's {want.dtype}{want.shape}")
            elif not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
                err = np.max(np.abs(got.astype(np.float64) - want))
                failures.append(f"{label}: {output.name} differs by up to {err:.3g}")
    return failures


def run_cases(doc, cases, rtol, atol, cpu_only=lambda name: False, devices=tuple(DEVICES)):
    """The command line of a case harness: --bin-dir, --work-dir, --cases (run the cases whose
    names contain it), --device. `cases` maps names to functions giving (model, feeds,
    expected outputs); each is checked by check_model within rtol/atol. On the emulator, cases
    for which `cpu_only(name)` holds are left out and only the fusion variant runs. Prints the
    failures and a summary; returns the exit status."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--cases", default="", help="run the cases whose names contain this")
    parser.add_argument("--device", choices=sorted(devices), default="cpu")
    args = parser.parse_args()
    names = [n for n in cases if args.cases in n and (args.device == "cpu" or not cpu_only(n))]
    variants = VARIANTS if args.device == "cpu" else VARIANTS[:1]
    failures = []
    for name in names:
        model, feeds, expected = cases[name]()
        failures += check_model(name, model, feeds, expected, args.bin_dir, args.work_dir,
                                args.device, variants, rtol, atol)
    for failure in failures:
        print(failure, file=sys.stderr)
    failed = {f.split(" ")[0] for f in failures}
    print(f"{len(names) - len(failed)} / {len(names)} cases match on {args.device}")
    return 1 if failures else 0
