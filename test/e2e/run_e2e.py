#!/usr/bin/env python3
"""End-to-end numerics: compile generated models to CPU artifacts, run them with catfish-run
and compare every output with ONNX Runtime (CPU) on the same inputs.

Each model runs with fusion on, with --no-fusion, with every kernel that has parallel loops
split into parts run by 3 threads (--task-min-work 1, --threads 3), and compiled for x86-64-v3
alone (the default artifact runs its x86-64-v4 code on an AVX-512 machine). With --device cuda-emulator
the models are compiled for --target cuda --cuda-emulation instead and their CUDA plans run on
the CUDA emulator (the threads variant then splits each launch's blocks over 3 threads), and
once more as one --target cpu,cuda artifact run on the CPU and on the emulator. With --device cuda
(a GPU; scripts/gpu-check.sh) they are compiled for --target cuda and run on GPU 0: with fusion,
without, without CUDA Graphs, and as a --target cpu,cuda artifact. Tolerances per element type are in
TOLERANCES (docs/e2e.md repeats them). Exits 1 and names the model, output and worst element
on any mismatch or tool failure.

  run_e2e.py --bin-dir build/bin --work-dir /tmp/e2e [--models mlp,cnn] [--device cuda-emulator]
      [--variants fusion,threads] [--run-bin-dir build/runtime-asan/bin]
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.reference
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MODEL = os.path.join(HERE, "..", "Import", "Inputs", "make_model.py")

MODELS = ["mlp", "views", "cnn", "bert_layer", "gpt2_block", "llama_block", "moe_block", "topk",
          "attention", "norms", "half_mlp", "bf16_mlp"]
# The CUDA plans (emulator, GPU) run these: the CPU's list and two kernel-level models.
CUDA_MODELS = ["elementwise", "reductions"] + MODELS

# Models onnxruntime cannot run (the pinned 1.22 has no opset-23 Attention), checked against
# the ONNX reference implementation instead, which the backend node tests' data come from.
ONNX_REFERENCE_MODELS = {"attention"}

# Models whose bf16 ops onnxruntime cannot run (no bf16 MatMul on its CPU): it runs them in f32
# with every bf16 value rounded to bf16 where it is made (Cast to bf16 and back).
BF16_MODELS = {"bf16_mlp"}

# Models whose f32 outputs carry another type's rounding: (rtol, atol) for all their outputs.
MODEL_TOLERANCES = {"bf16_mlp": (2e-2, 2e-2)}

# (rtol, atol) per numpy dtype name; integers and bools must match exactly.
TOLERANCES = {
    "float32": (1e-4, 1e-5),
    "float64": (1e-7, 1e-9),
    "float16": (1e-2, 1e-3),
}


def make_inputs(model, seed):
    """Seeded inputs: floats ~ N(0, 0.5^2); masks all ones; other integers in [0, 2)."""
    rng = np.random.default_rng(seed)
    initializers = {i.name for i in model.graph.initializer}
    inputs = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        shape = [d.dim_value for d in tensor_type.shape.dim]
        if np.issubdtype(dtype, np.floating):
            data = (rng.standard_normal(shape) * 0.5).astype(dtype)
        elif "mask" in value.name:
            data = np.ones(shape, dtype=dtype)
        else:
            data = rng.integers(0, 2, size=shape).astype(dtype)
        inputs[value.name] = data
    return inputs


# The newest default-domain opset the pinned onnxruntime runs.
ORT_MAX_OPSET = 22


def reference_model(model, path):
    """The model for onnxruntime: stamped down to ORT_MAX_OPSET when newer (generated
    models only use ops whose semantics did not change there)."""
    stamped = False
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > ORT_MAX_OPSET:
            opset.version = ORT_MAX_OPSET
            stamped = True
    if not stamped:
        return path
    reference = path.replace(".onnx", ".ort.onnx")
    onnx.save(model, reference)
    return reference


def rounded_bf16_model(model, path):
    """`model` with its bf16 values held in f32, each rounded to bf16 where it is made: a Cast
    to bf16 becomes that Cast and one back, a Cast of a bf16 value to f32 an Identity, and any
    other op on bf16 values computes in f32 and rounds its results."""
    graph = model.graph
    bf16_values = set()
    nodes = []

    def rounded(value, output):
        nodes.append(onnx.helper.make_node("Cast", [value], [value + "_bf16"],
                                           to=onnx.TensorProto.BFLOAT16))
        nodes.append(onnx.helper.make_node("Cast", [value + "_bf16"], [output],
                                           to=onnx.TensorProto.FLOAT))

    for node in graph.node:
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        if node.op_type == "Cast" and to == onnx.TensorProto.BFLOAT16:
            bf16_values.add(node.output[0])
            rounded(node.input[0], node.output[0])
        elif node.op_type == "Cast" and node.input[0] in bf16_values:
            nodes.append(onnx.helper.make_node("Identity", list(node.input), list(node.output)))
        elif any(i in bf16_values for i in node.input):
            exact = onnx.NodeProto()
            exact.CopyFrom(node)
            del exact.output[:]
            exact.output.extend(o + "_f32" for o in node.output)
            nodes.append(exact)
            for output in node.output:
                bf16_values.add(output)
                rounded(output + "_f32", output)
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    reference = path.replace(".onnx", ".bf16-in-f32.onnx")
    onnx.save(model, reference)
    return reference


def reference_outputs(name, model, path, inputs):
    if name in BF16_MODELS:
        path = rounded_bf16_model(model, path)
    if name in ONNX_REFERENCE_MODELS:
        evaluator = onnx.reference.ReferenceEvaluator(model)
        # Rows that mask every key are NaN, as softmax over nothing is.
        with np.errstate(invalid="ignore"):
            return dict(zip(evaluator.output_names, evaluator.run(None, inputs)))
    session = ort.InferenceSession(reference_model(model, path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))


def output_file_name(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) + ".npy"


def compare(expected, actual, label, tolerance=None):
    if expected.shape != actual.shape:
        return f"{label}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype != actual.dtype:
        return f"{label}: dtype {actual.dtype}, expected {expected.dtype}"
    tolerance = tolerance or TOLERANCES.get(expected.dtype.name)
    if tolerance is None:
        bad = np.argwhere(expected != actual)
        if bad.size:
            index = tuple(bad[0])
            return f"{label}: {len(bad)} elements differ, first at {index}: {actual[index]} vs {expected[index]}"
        return None
    rtol, atol = tolerance
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        index = np.unravel_index(np.nanargmax(np.where(close, 0, error)), error.shape)
        return (f"{label}: {np.count_nonzero(~close)} of {close.size} elements outside rtol={rtol} "
                f"atol={atol}; worst at {tuple(int(i) for i in index)}: {actual[index]} vs "
                f"{expected[index]} (abs error {error[index]:.3g})")
    return None


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def check_model(name, args):
    work = os.path.join(args.work_dir, name)
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, name + ".onnx")
    made = run([sys.executable, MAKE_MODEL, name, path])
    if made.returncode:
        return [f"{name}: generating the model failed: {made.stderr.strip()}"]
    model = onnx.load(path)
    inputs = make_inputs(model, seed=sum(map(ord, name)))
    input_args = []
    for input_name, data in inputs.items():
        file = os.path.join(work, output_file_name(input_name))
        np.save(file, data)
        input_args += ["--input", f"{input_name}={file}"]
    expected = reference_outputs(name, model, path, inputs)

    failures = []
    variants = {
        "fusion": ([], []),
        "no fusion": (["--no-fusion"], []),
        "threads": (["--task-min-work", "1"], ["--threads", "3"]),
        # The default artifact runs its x86-64-v4 code on an AVX-512 machine; this one the
        # AVX2 code.
        "x86-64-v3": (["--arch", "x86-64-v3"], []),
    }
    if args.device == "cuda-emulator":
        variants["threads"] = ([], ["--threads", "3"])
        del variants["x86-64-v3"]  # the emulator's host code is for the first arch already
        target = (["--target", "cuda", "--cuda-emulation"], ["--device", "cuda-emulator"])
        variants = {variant: (compile_flags + target[0], run_flags + target[1])
                    for variant, (compile_flags, run_flags) in variants.items()}
        # One artifact for both targets, run on each device.
        both = ["--target", "cpu,cuda", "--cuda-emulation"]
        variants["cpu,cuda on cpu"] = (both, ["--device", "cpu"])
        variants["cpu,cuda on emulator"] = (both, ["--device", "cuda-emulator"])
    elif args.device == "cuda":
        target = (["--target", "cuda"], ["--device", "cuda"])
        variants = {
            "fusion": (target[0], target[1]),
            "no fusion": (["--no-fusion"] + target[0], target[1]),
            "no cuda graph": (target[0], target[1] + ["--no-cuda-graph"]),
            "cpu,cuda on cuda": (["--target", "cpu,cuda"], ["--device", "cuda"]),
        }
    if args.variants:
        variants = {variant: flags for variant, flags in variants.items()
                    if variant in args.variants.split(",")}
    for variant, (compile_flags, run_flags) in variants.items():
        label = f"{name} ({args.device}, {variant})"
        tag = variant.replace(" ", "-").replace(",", "-")
        artifact = os.path.join(work, f"{name}.{tag}.catfish")
        compiled = run([os.path.join(args.bin_dir, "catfish-compile"), path, "-o", artifact]
                       + compile_flags)
        if compiled.returncode:
            failures.append(f"{label}: catfish-compile failed: {compiled.stderr.strip()}")
            continue
        out_dir = os.path.join(work, "out-" + tag)
        ran = run([os.path.join(args.run_bin_dir or args.bin_dir, "catfish-run"), artifact, "--output-dir", out_dir]
                  + run_flags + input_args)
        if ran.returncode:
            failures.append(f"{label}: catfish-run failed: {ran.stderr.strip()}")
            continue
        for output_name, reference in expected.items():
            actual = np.load(os.path.join(out_dir, output_file_name(output_name)))
            problem = compare(reference, actual, f"{label} output '{output_name}'",
                              MODEL_TOLERANCES.get(name))
            if problem:
                failures.append(problem)
        if not any(f.startswith(label) for f in failures):
            source = ("the ONNX reference" if name in ONNX_REFERENCE_MODELS else
                      "onnxruntime (bf16 rounding in f32)" if name in BF16_MODELS else
                      "onnxruntime")
            print(f"ok: {label}: {len(expected)} output(s) match {source}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--models", help="comma-separated; default: MODELS for the CPU, "
                        "CUDA_MODELS for the emulator and the GPU")
    parser.add_argument("--device", choices=["cpu", "cuda-emulator", "cuda"], default="cpu")
    parser.add_argument("--run-bin-dir",
                        help="where catfish-run is, if not in --bin-dir (a sanitized runtime build)")
    parser.add_argument("--variants", help="only these variants (comma-separated names, "
                        "as the ok: lines print them)")
    args = parser.parse_args()
    failures = []
    models = (args.models.split(",") if args.models else
              MODELS if args.device == "cpu" else CUDA_MODELS)
    for name in models:
        failures += check_model(name, args)
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
