#!/usr/bin/env python3
"""Import benchmark: catfish-compile --emit=mlir on a BERT-base encoder.

Builds (once, cached in --model-dir) a BERT-base encoder the way torch.onnx exports Hugging
Face's BertModel at opset 17: 12 layers, hidden 768, 12 heads, intermediate 3072, vocabulary
30522, symbolic inputs input_ids / attention_mask int64['batch', 'sequence'], seeded random
weights (~110M parameters, ~440 MB float32) in one external data file `model.onnx.data`.
The weights are streamed to that file tensor by tensor, so generation never holds more than
the largest tensor; the result is laid out as `onnx.save(..., save_as_external_data=True,
all_tensors_to_one_file=True)` writes it. A new model is checked with onnx.checker and run
once with onnxruntime.

It then compiles the model to MLIR --repeat times at batch 1, sequence 128, and reports the
weights size, peak RSS of the compiler, RSS / weights, wall time and MLIR output size against
the targets (peak RSS <= 1.5 x weights, wall <= 5 s). The measured runs print the whole IR,
weights included as hex, which catfish-compile streams to the output file. One more run adds
MLIR's --mlir-elide-resource-strings-if-larger=64 and is reported apart: that printer option
hex-encodes each weight in memory before it decides to leave it out, which costs about four
times the largest weight on top of the import.

Usage (from the repository root):
    .venv/bin/python bench/import_bert.py                      # generate if needed, measure
    .venv/bin/python bench/import_bert.py --generate-only      # only build + validate model
    .venv/bin/python bench/import_bert.py --repeat 5 --markdown-out bench/results.md

Delete --model-dir (default build/bench/bert-base) to regenerate the model.
"""

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "model.onnx"
DATA_NAME = "model.onnx.data"
EXTERNAL_THRESHOLD_BYTES = 1024  # onnx.save's default size_threshold

LAYERS, HIDDEN, HEADS, INTERMEDIATE = 12, 768, 12, 3072
VOCAB, MAX_POSITIONS, TYPE_VOCAB = 30522, 512, 2
HEAD_DIM = HIDDEN // HEADS
LN_EPSILON = 1e-12
BATCH, SEQUENCE = 1, 128

RSS_TARGET_RATIO = 1.5
WALL_TARGET_S = 5.0
ELIDE_FLAG = "--mlir-elide-resource-strings-if-larger=64"


# ---------------------------------------------------------------------------
# Model generation


class GraphBuilder:
    """Collects nodes and initializers; large initializers are appended to the data file."""

    def __init__(self, data_file, rng):
        self.nodes = []
        self.initializers = []
        self._data_file = data_file
        self._rng = rng

    def node(self, op_type, inputs, name, output=None, **attrs):
        output = output or f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output

    def constant(self, name, value):
        tensor = numpy_helper.from_array(np.asarray(value), f"{name}_value")
        return self.node("Constant", [], name, value=tensor)

    def initializer(self, name, array):
        if array.nbytes < EXTERNAL_THRESHOLD_BYTES:
            self.initializers.append(numpy_helper.from_array(array, name))
            return name
        tensor = TensorProto(name=name, dims=array.shape,
                             data_type=helper.np_dtype_to_tensor_dtype(array.dtype),
                             data_location=TensorProto.EXTERNAL)
        offset = self._data_file.tell()
        self._data_file.write(np.ascontiguousarray(array).tobytes())
        for key, value in (("location", DATA_NAME), ("offset", offset),
                           ("length", array.nbytes)):
            tensor.external_data.add(key=key, value=str(value))
        self.initializers.append(tensor)
        return name

    def random(self, name, shape, scale=0.02, mean=0.0):
        array = self._rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
        return self.initializer(name, array + np.float32(mean))

    def dense(self, x, prefix, name, in_dim, out_dim):
        """torch Linear on a 3-D input: MatMul with the [in, out] weight, then Add bias."""
        weight = self.random(f"onnx::MatMul_{prefix}.{name}", (in_dim, out_dim))
        bias = self.random(f"{prefix}.{name}.bias", (out_dim,))
        y = self.node("MatMul", [x, weight], f"/{prefix}/{name}/MatMul".replace(".", "/"))
        return self.node("Add", [bias, y], f"/{prefix}/{name}/Add".replace(".", "/"))

    def layer_norm(self, x, prefix, output=None):
        scale = self.random(f"{prefix}.weight", (HIDDEN,), mean=1.0)
        bias = self.random(f"{prefix}.bias", (HIDDEN,))
        return self.node("LayerNormalization", [x, scale, bias],
                         f"/{prefix}/LayerNormalization".replace(".", "/"), output=output,
                         axis=-1, epsilon=LN_EPSILON)

    def dims(self, x, name, indices):
        """Shape -> Gather -> Unsqueeze for each index: 1-D pieces for a Concat'd shape."""
        shape = self.node("Shape", [x], f"{name}/Shape")
        axes = self.constant(f"{name}/Constant_axes", np.array([0], np.int64))
        pieces = []
        for i in indices:
            index = self.constant(f"{name}/Constant_{i}", np.array(i, np.int64))
            dim = self.node("Gather", [shape, index], f"{name}/Gather_{i}", axis=0)
            pieces.append(self.node("Unsqueeze", [dim, axes], f"{name}/Unsqueeze_{i}"))
        return pieces

    def reshape(self, x, name, leading, trailing):
        """Reshape x to [x.shape[0], x.shape[1], *trailing] via the exported shape subgraph."""
        tail = self.constant(f"{name}/Constant_tail", np.array(trailing, np.int64))
        shape = self.node("Concat", [*self.dims(leading, name, (0, 1)), tail],
                          f"{name}/Concat", axis=0)
        return self.node("Reshape", [x, shape], f"{name}/Reshape")


def embeddings(b):
    seq_len = b.dims("input_ids", "/embeddings/seq", (1,))[0]
    batch = b.dims("input_ids", "/embeddings/batch", (0,))[0]
    zero = b.constant("/embeddings/Constant_start", np.array([0], np.int64))
    one = b.constant("/embeddings/Constant_axis", np.array([1], np.int64))

    position_buffer = b.initializer("embeddings.position_ids",
                                    np.arange(MAX_POSITIONS, dtype=np.int64)[None, :])
    positions = b.node("Slice", [position_buffer, zero, seq_len, one, one],
                       "/embeddings/Slice_position")
    type_buffer = b.initializer("embeddings.token_type_ids",
                                np.zeros((1, MAX_POSITIONS), np.int64))
    types = b.node("Slice", [type_buffer, zero, seq_len, one, one], "/embeddings/Slice_type")
    expand_shape = b.node("Concat", [batch, seq_len], "/embeddings/Concat", axis=0)
    types = b.node("Expand", [types, expand_shape], "/embeddings/Expand")

    tables = [("word_embeddings", VOCAB, "input_ids"),
              ("token_type_embeddings", TYPE_VOCAB, types),
              ("position_embeddings", MAX_POSITIONS, positions)]
    summed = None
    for table, rows, ids in tables:
        weight = b.random(f"embeddings.{table}.weight", (rows, HIDDEN))
        looked_up = b.node("Gather", [weight, ids], f"/embeddings/{table}/Gather")
        summed = looked_up if summed is None else b.node(
            "Add", [summed, looked_up], f"/embeddings/Add_{table}")
    return b.layer_norm(summed, "embeddings.LayerNorm")


def extended_attention_mask(b):
    """HF: (1.0 - mask[:, None, None, :].float()) * finfo(float32).min."""
    axis1 = b.constant("/mask/Constant_axis1", np.array([1], np.int64))
    axis2 = b.constant("/mask/Constant_axis2", np.array([2], np.int64))
    mask = b.node("Unsqueeze", ["attention_mask", axis1], "/mask/Unsqueeze_1")
    mask = b.node("Unsqueeze", [mask, axis2], "/mask/Unsqueeze_2")
    mask = b.node("Cast", [mask], "/mask/Cast", to=TensorProto.FLOAT)
    one = b.constant("/mask/Constant_one", np.array(1.0, np.float32))
    mask = b.node("Sub", [one, mask], "/mask/Sub")
    lowest = b.constant("/mask/Constant_min", np.array(np.finfo(np.float32).min, np.float32))
    return b.node("Mul", [mask, lowest], "/mask/Mul")


def self_attention(b, h, mask, prefix):
    name = "/" + prefix.replace(".", "/")
    heads = {}
    for proj, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])):
        x = b.dense(h, prefix, proj, HIDDEN, HIDDEN)
        x = b.reshape(x, f"{name}/{proj}_heads", x, [HEADS, HEAD_DIM])
        heads[proj] = b.node("Transpose", [x], f"{name}/{proj}/Transpose", perm=perm)
    scores = b.node("MatMul", [heads["query"], heads["key"]], f"{name}/MatMul")
    scale = b.constant(f"{name}/Constant_scale", np.array(np.sqrt(HEAD_DIM), np.float32))
    scores = b.node("Div", [scores, scale], f"{name}/Div")
    scores = b.node("Add", [scores, mask], f"{name}/Add")
    probs = b.node("Softmax", [scores], f"{name}/Softmax", axis=-1)
    context = b.node("MatMul", [probs, heads["value"]], f"{name}/MatMul_1")
    context = b.node("Transpose", [context], f"{name}/Transpose", perm=[0, 2, 1, 3])
    return b.reshape(context, f"{name}/merge", context, [HIDDEN])


def gelu(b, x, name):
    """torch's exact GELU: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    sqrt2 = b.constant(f"{name}/Constant_sqrt2", np.array(np.sqrt(2.0), np.float32))
    one = b.constant(f"{name}/Constant_one", np.array(1.0, np.float32))
    half = b.constant(f"{name}/Constant_half", np.array(0.5, np.float32))
    y = b.node("Div", [x, sqrt2], f"{name}/Div")
    y = b.node("Erf", [y], f"{name}/Erf")
    y = b.node("Add", [y, one], f"{name}/Add")
    y = b.node("Mul", [x, y], f"{name}/Mul")
    return b.node("Mul", [y, half], f"{name}/Mul_1")


def encoder_layer(b, h, mask, index, output=None):
    prefix = f"encoder.layer.{index}"
    context = self_attention(b, h, mask, f"{prefix}.attention.self")
    attn = b.dense(context, f"{prefix}.attention.output", "dense", HIDDEN, HIDDEN)
    attn = b.node("Add", [attn, h], f"/{prefix}/attention/output/Add_residual".replace(".", "/"))
    attn = b.layer_norm(attn, f"{prefix}.attention.output.LayerNorm")
    inter = b.dense(attn, f"{prefix}.intermediate", "dense", HIDDEN, INTERMEDIATE)
    inter = gelu(b, inter, f"/{prefix}/intermediate/gelu".replace(".", "/"))
    out = b.dense(inter, f"{prefix}.output", "dense", INTERMEDIATE, HIDDEN)
    out = b.node("Add", [out, attn], f"/{prefix}/output/Add_residual".replace(".", "/"))
    return b.layer_norm(out, f"{prefix}.output.LayerNorm", output=output)


def pooler(b, h):
    """First token -> Linear (exported as Gemm on the 2-D input) -> Tanh."""
    index = b.constant("/pooler/Constant", np.array(0, np.int64))
    first = b.node("Gather", [h, index], "/pooler/Gather", axis=1)
    weight = b.random("pooler.dense.weight", (HIDDEN, HIDDEN))
    bias = b.random("pooler.dense.bias", (HIDDEN,))
    dense = b.node("Gemm", [first, weight, bias], "/pooler/dense/Gemm",
                   alpha=1.0, beta=1.0, transB=1)
    return b.node("Tanh", [dense], "/pooler/Tanh", output="pooler_output")


def build_graph(b):
    h = embeddings(b)
    mask = extended_attention_mask(b)
    for i in range(LAYERS):
        h = encoder_layer(b, h, mask, i, output="last_hidden_state" if i == LAYERS - 1 else None)
    pooler(b, h)
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                             ["batch", "sequence", HIDDEN]),
               helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT,
                                             ["batch", HIDDEN])]
    graph = helper.make_graph(b.nodes, "main_graph", inputs, outputs, b.initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             ir_version=8, producer_name="catfish-bench")


def generate(model_dir, seed):
    """Writes model.onnx + model.onnx.data; model.onnx appears last, so it marks completion."""
    model_dir.mkdir(parents=True, exist_ok=True)
    partial_data = model_dir / f"{DATA_NAME}.partial"
    with open(partial_data, "wb") as data_file:
        model = build_graph(GraphBuilder(data_file, np.random.default_rng(seed)))
    partial_data.replace(model_dir / DATA_NAME)
    partial_model = model_dir / f"{MODEL_NAME}.partial"
    onnx.save(model, partial_model)
    partial_model.replace(model_dir / MODEL_NAME)


def validate(model_path):
    onnx.checker.check_model(str(model_path), full_check=True)
    session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    mask = np.ones((BATCH, SEQUENCE), np.int64)
    mask[:, SEQUENCE // 2:] = 0
    feeds = {"input_ids": rng.integers(0, VOCAB, (BATCH, SEQUENCE), dtype=np.int64),
             "attention_mask": mask}
    start = time.perf_counter()
    outputs = session.run(None, feeds)
    elapsed = time.perf_counter() - start
    if not all(np.isfinite(o).all() for o in outputs):
        raise RuntimeError("onnxruntime produced non-finite outputs")
    shapes = ", ".join(f"{o.name} {list(v.shape)}"
                       for o, v in zip(session.get_outputs(), outputs))
    print(f"onnxruntime: {shapes} in {elapsed:.2f} s")


def ensure_model(model_dir, seed):
    model_path = model_dir / MODEL_NAME
    if model_path.exists():
        print(f"reusing {model_path}")
        return model_path
    print(f"generating {model_path} (seed {seed})")
    start = time.perf_counter()
    generate(model_dir, seed)
    print(f"generated in {time.perf_counter() - start:.1f} s")
    validate(model_path)
    return model_path


def weights_bytes(model_path):
    model = onnx.load(str(model_path), load_external_data=False)
    return sum(int(np.prod(t.dims)) * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
               for t in model.graph.initializer)


# ---------------------------------------------------------------------------
# Measurement


@dataclass(frozen=True)
class Run:
    wall_s: float
    max_rss_bytes: int
    output_bytes: int


def compile_command(compiler, model_path, out_path, elide=False):
    return [str(compiler), str(model_path), "--emit=mlir", "-o", str(out_path),
            "--shape", f"input_ids={BATCH}x{SEQUENCE}",
            "--shape", f"attention_mask={BATCH}x{SEQUENCE}", *([ELIDE_FLAG] if elide else [])]


def measure_once(command, out_path):
    """Runs the compiler; peak RSS comes from wait4's rusage of that one child."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            stderr.seek(0)
            sys.exit(f"compiler failed with exit status {proc.returncode}:\n"
                     f"{stderr.read().decode(errors='replace')}")
    if not out_path.exists():
        sys.exit(f"compiler exited 0 but wrote no {out_path}")
    run = Run(wall, usage.ru_maxrss * 1024, out_path.stat().st_size)
    out_path.unlink()
    return run


def measure(compiler, model_path, repeat):
    """(the measured runs printing the whole IR, one run with MLIR's resource elision)."""
    with tempfile.TemporaryDirectory(prefix="catfish-bert-") as tmp:
        out_path = Path(tmp) / "bert.mlir"
        command = compile_command(compiler, model_path, out_path)
        print("running:", " ".join(command))
        runs = [measure_once(command, out_path) for _ in range(repeat)]
        elided = measure_once(compile_command(compiler, model_path, out_path, elide=True),
                              out_path)
        return runs, elided


# ---------------------------------------------------------------------------
# Report


def first_line(command):
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=10,
                              cwd=REPO_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = proc.stdout.strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else "unknown"


def size(n):
    if n < 2**20:
        return f"{n / 2**10:.1f} KiB"
    return f"{n / 2**20:.1f} MiB"


def verdict(ok):
    return "ok" if ok else "MISSED"


def report(compiler, weights, runs, elided):
    walls = [r.wall_s for r in runs]
    peak_rss = max(r.max_rss_bytes for r in runs)
    ratio = peak_rss / weights
    median_wall = statistics.median(walls)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### BERT-base import ({BATCH}x{SEQUENCE}), {now}",
        "",
        f"Compiler: {first_line([str(compiler), '--version'])}; "
        f"commit {first_line(['git', 'rev-parse', '--short', 'HEAD'])}; "
        f"host: {platform.machine()}, {os.cpu_count()} CPUs; {len(runs)} runs.",
        "",
        "| Metric | Value | Target | Status |",
        "| --- | --- | --- | --- |",
        f"| Weights | {size(weights)} ({weights} bytes) | | |",
        f"| Peak RSS | {size(peak_rss)} | <= {size(RSS_TARGET_RATIO * weights)} "
        f"| {verdict(ratio <= RSS_TARGET_RATIO)} |",
        f"| RSS / weights | {ratio:.2f} | <= {RSS_TARGET_RATIO} "
        f"| {verdict(ratio <= RSS_TARGET_RATIO)} |",
        f"| Wall min / median | {min(walls):.2f} s / {median_wall:.2f} s "
        f"| median <= {WALL_TARGET_S:g} s | {verdict(median_wall <= WALL_TARGET_S)} |",
        f"| MLIR output (weights as hex) | {size(runs[-1].output_bytes)} | | |",
        f"| With {ELIDE_FLAG}: peak RSS, output | {size(elided.max_rss_bytes)} "
        f"({elided.max_rss_bytes / weights:.2f}x), {size(elided.output_bytes)} | | |",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiler", type=Path, default=REPO_ROOT / "build/bin/catfish-compile")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "build/bench/bert-base")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="weights seed (new models only)")
    parser.add_argument("--markdown-out", type=Path, help="append the result table to FILE")
    parser.add_argument("--generate-only", action="store_true",
                        help="build and validate the model, do not run the compiler")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.generate_only and not args.compiler.is_file():
        parser.error(f"compiler not found: {args.compiler}")
    return args


def main(argv):
    args = parse_args(argv)
    model_path = ensure_model(args.model_dir, args.seed)
    if args.generate_only:
        return 0
    runs, elided = measure(args.compiler, model_path, args.repeat)
    table = report(args.compiler, weights_bytes(model_path), runs, elided)
    print(table)
    if args.markdown_out:
        with open(args.markdown_out, "a") as f:
            f.write("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
