"""Compiling and running a model with catfish-compile and catfish-run, as the Python checks
under test/ do it: for the CPU or as a CUDA plan on the emulator, with fusion and without."""
import os
import subprocess

# Per device: catfish-compile flags, catfish-run flags.
DEVICES = {
    "cpu": (["--target", "cpu"], []),
    "cuda-emulator": (["--target", "cuda", "--cuda-emulation"], ["--device", "cuda-emulator"]),
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
