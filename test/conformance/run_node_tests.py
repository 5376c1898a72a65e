#!/usr/bin/env python3
"""ONNX backend node-test conformance for catfish-compile and catfish-run.

Runs `catfish-compile MODEL --emit=mlir` on every test in the ONNX backend node suite
(shipped inside the `onnx` package) and writes a Markdown report grouped by the operator
under test. Tests that use features Catfish does not target (training, sequences and
optionals, strings, random generators, the ai.onnx.ml domain) are listed as out of scope.

With --execute, every test that imports is also compiled to a CPU artifact
(`catfish-compile MODEL -o T.catfish`), run on its first data set
(`catfish-run T.catfish --input NAME=input_K.pb ... --output-dir DIR`), and each output is
compared with output_K.pb: floats with the ONNX backend runner's tolerances (rtol 1e-3,
atol 1e-7, or the test's data.json), NaNs in the same places, integers and bools exactly,
shapes and dtypes equal.

Usage (from the repository root):
    .venv/bin/python test/conformance/run_node_tests.py --update-docs   # docs/conformance.md
    .venv/bin/python test/conformance/run_node_tests.py --filter '^test_(conv|gemm)' \
        --execute --output /tmp/conformance.md --min-pass-rate 0 --min-exec-pass-rate 0

Exit status 1 when the in-scope import pass rate is below --min-pass-rate, the execution
pass rate (with --execute) is below --min-exec-pass-rate, or any compiler or runtime
invocation crashed or timed out.
"""

import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_TEST_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"

TRAINING = "training"
ML_DOMAIN = "ai.onnx.ml domain"
RANDOM = "random generators"
SEQUENCE = "sequence and optional types"
STRINGS = "strings"
# Order decides the recorded category when a test falls into several.
CATEGORIES = (TRAINING, ML_DOMAIN, RANDOM, SEQUENCE, STRINGS)

TRAINING_OPS = {"Adagrad", "Adam", "Momentum", "Gradient"}
TRAINING_DOMAIN = "ai.onnx.preview.training"
RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
              "Bernoulli", "Multinomial"}
SEQUENCE_OPS = {"SplitToSequence", "ConcatFromSequence"}
STRING_OPS = {"StringNormalizer", "StringConcat", "StringSplit", "RegexFullMatch"}
STRING_CONSTANT_ATTRS = {"value_string", "value_strings"}
SEQUENCE_TYPES = {"sequence_type", "optional_type", "map_type"}

PASS, FAIL, CRASH, TIMEOUT = "pass", "fail", "crash", "timeout"
# Execution statuses (PASS, CRASH and TIMEOUT are shared with the import stage).
MISMATCH, COMPILE_FAILED, RUN_FAILED = "mismatch", "compile-failed", "run-failed"
NOT_IMPORTED = "not imported"
EXEC_STATUSES = (PASS, MISMATCH, COMPILE_FAILED, RUN_FAILED, CRASH, TIMEOUT, NOT_IMPORTED)
# The ONNX backend runner's defaults (onnx/backend/test/loader: rtol 1e-3, atol 1e-7), which a
# test's data.json may override.
DEFAULT_RTOL, DEFAULT_ATOL = 1e-3, 1e-7
MAX_REASON_CHARS = 120
MAX_LISTED_TESTS = 3


@dataclass(frozen=True)
class TestCase:
    name: str
    model: Path
    op: str
    expanded: bool
    out_of_scope: str | None
    frozen: tuple[str, ...] = ()
    # (graph input name, ONNX element type, input_K.pb) for every graph input not frozen.
    inputs: tuple[tuple[str, int, Path], ...] = ()
    # (graph output name, ONNX element type, output_K.pb), in graph output order.
    outputs: tuple[tuple[str, int, Path], ...] = ()
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Result:
    case: TestCase
    imported: Outcome | None
    # None when the test is out of scope or execution was not requested.
    executed: Outcome | None = None


# ---------------------------------------------------------------------------
# Scope classification


def all_graphs(graph):
    """Yield `graph` and every subgraph nested in node attributes (If, Loop, Scan)."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from all_graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from all_graphs(sub)


def declared_types(graph):
    for value in (*graph.input, *graph.output, *graph.value_info):
        yield value.type


def has_string_tensor(graph):
    if any(t.data_type == onnx.TensorProto.STRING for t in graph.initializer):
        return True
    if any(t.tensor_type.elem_type == onnx.TensorProto.STRING
           for t in declared_types(graph) if t.HasField("tensor_type")):
        return True
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.name in STRING_CONSTANT_ATTRS:
                return True
            tensors = [attr.t] if attr.type == onnx.AttributeProto.TENSOR else attr.tensors
            if any(t.data_type == onnx.TensorProto.STRING for t in tensors):
                return True
    return False


def graph_categories(graph):
    categories = set()
    for node in graph.node:
        op = node.op_type
        if op in TRAINING_OPS or node.domain == TRAINING_DOMAIN:
            categories.add(TRAINING)
        if node.domain == "ai.onnx.ml":
            categories.add(ML_DOMAIN)
        if op in RANDOM_OPS:
            categories.add(RANDOM)
        if op.startswith(("Sequence", "Optional")) or op in SEQUENCE_OPS:
            categories.add(SEQUENCE)
        if op in STRING_OPS:
            categories.add(STRINGS)
    if any(t.WhichOneof("value") in SEQUENCE_TYPES for t in declared_types(graph)):
        categories.add(SEQUENCE)
    if has_string_tensor(graph):
        categories.add(STRINGS)
    return categories


def out_of_scope_category(model):
    """The first matching category in CATEGORIES, or None when the test is in scope."""
    found = set().union(*(graph_categories(g) for g in all_graphs(model.graph)))
    return next((c for c in CATEGORIES if c in found), None)


# ---------------------------------------------------------------------------
# Operator under test


def snake_case(op_type):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", op_type).lower()


def op_under_test(test_name, graph):
    """The top-level op whose name (snake_case or lowercased) is the longest prefix of the
    test name after 'test_'; the last node's op when none matches."""
    stem = test_name.removeprefix("test_").lower()
    best, best_len = None, 0
    for op in dict.fromkeys(node.op_type for node in graph.node):
        for form in (snake_case(op), op.lower()):
            if stem.startswith(form) and len(form) > best_len:
                best, best_len = op, len(form)
    if best is None and graph.node:
        best = graph.node[-1].op_type
    return best or "(empty graph)"


def base_test_name(test_name):
    """test_foo_expanded_ver18 -> test_foo; the name itself when it is not an expansion."""
    return test_name.split("_expanded", 1)[0]


def load_graph(test_dir):
    return onnx.load(test_dir / "model.onnx", load_external_data=False)


FREEZABLE_TYPES = (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
MAX_FROZEN_ELEMENTS = 64
# Inputs of other types that decide a result's shape: Resize's roi and scales, Upsample's
# scales, OneHot's depth, Range's bounds, and Loop's trip count and first condition (its
# iteration count: loops with constant ones are unrolled).
SHAPE_DECIDING_INPUTS = {"Resize": (1, 2), "Upsample": (1,), "OneHot": (1,),
                               "Range": (0, 1, 2), "Loop": (0, 1)}


def shape_deciding_inputs(model):
    """Names of the graph values that nodes read as shape-deciding inputs (SHAPE_DECIDING_INPUTS)."""
    names = set()
    for node in model.graph.node:
        for slot in SHAPE_DECIDING_INPUTS.get(node.op_type, ()):
            if slot < len(node.input) and node.input[slot]:
                names.add(node.input[slot])
    return names


def graph_io(model, test_dir):
    """(--freeze-input flags, runtime inputs, outputs) of a test's first data set.

    Small integer inputs (axes, k, shapes, pads, repeats) and the other inputs that decide an
    output shape (Resize scales and roi, OneHot depth, Range bounds, Loop's trip count and
    first condition) are frozen: ONNX passes
    these as graph inputs in the node tests; an ahead-of-time compiler with static shapes
    needs them at compile time, as TensorRT needs shape tensors at build time. Their values
    come from the test's own first data set. input_K.pb belongs to the K-th graph input that is not an
    initializer, output_K.pb to the K-th graph output.
    """
    data = test_dir / "test_data_set_0"
    initializers = {init.name for init in model.graph.initializer}
    flags, inputs = [], []
    deciding_inputs = shape_deciding_inputs(model)
    for index, value in enumerate(v for v in model.graph.input if v.name not in initializers):
        tensor = value.type.tensor_type
        dims = tensor.shape.dim if value.type.HasField("tensor_type") else []
        path = data / f"input_{index}.pb"
        freezable = tensor.elem_type in FREEZABLE_TYPES or value.name in deciding_inputs
        if (freezable and len(dims) <= 1 and path.exists()
                and all(d.HasField("dim_value") and d.dim_value <= MAX_FROZEN_ELEMENTS
                        for d in dims)):
            flags.append(f"--freeze-input={value.name}={path}")
        elif path.exists():
            inputs.append((value.name, tensor.elem_type, path))
    outputs = tuple((value.name, value.type.tensor_type.elem_type, data / f"output_{index}.pb")
                    for index, value in enumerate(model.graph.output))
    return tuple(flags), tuple(inputs), outputs


def tolerances(test_dir):
    """rtol and atol as the ONNX backend runner takes them: defaults, or data.json's."""
    rtol, atol = DEFAULT_RTOL, DEFAULT_ATOL
    config = test_dir / "data.json"
    if config.exists():
        data = json.loads(config.read_text())
        rtol, atol = data.get("rtol", rtol), data.get("atol", atol)
    return rtol, atol


def make_case(test_dir):
    model = load_graph(test_dir)
    name = test_dir.name
    expanded = "_expanded" in name
    base_dir = test_dir.parent / base_test_name(name)
    if expanded and (base_dir / "model.onnx").exists():
        op = op_under_test(base_dir.name, load_graph(base_dir).graph)
    else:
        op = op_under_test(name, model.graph)
    frozen, inputs, outputs = graph_io(model, test_dir)
    rtol, atol = tolerances(test_dir)
    return TestCase(name=name, model=test_dir / "model.onnx", op=op, expanded=expanded,
                    out_of_scope=out_of_scope_category(model), frozen=frozen, inputs=inputs,
                    outputs=outputs, rtol=rtol, atol=atol)


def discover(name_filter, node_dir=NODE_TEST_DIR):
    pattern = re.compile(name_filter) if name_filter else None
    dirs = sorted(d for d in node_dir.iterdir() if (d / "model.onnx").exists())
    return [make_case(d) for d in dirs if pattern is None or pattern.search(d.name)]


# ---------------------------------------------------------------------------
# Stages: each takes a test case and returns an Outcome.


def diagnostic(stderr, replacements, crashed):
    """The first `error:` line, else the first assertion message, else (for a non-crash)
    the last line; crash backtraces are skipped because their addresses vary per run."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    picks = ([l for l in lines if l.startswith("error:")]
             or [l for l in lines if "Assertion" in l]
             or ([] if crashed else lines[-1:]))
    line = picks[0] if picks else ""
    undefined = re.search(r"undefined reference to [`']([^'`]+)'", stderr)
    if undefined and "link" in line:
        line += f" (undefined reference to '{undefined.group(1)}')"
    for old, new in replacements.items():
        line = line.replace(old, new)
    return line


def signal_name(returncode):
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def invoke(cmd, timeout, replacements):
    """Run one tool: PASS on exit 0, FAIL on exit 1 (a diagnosed error), CRASH on any other
    exit or an LLVM crash report, TIMEOUT past `timeout` seconds."""
    try:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(TIMEOUT, f"timed out after {timeout:g} s")
    crashed = proc.returncode not in (0, 1) or "PLEASE submit a bug report" in proc.stderr
    reason = diagnostic(proc.stderr, replacements, crashed)
    if not crashed:
        if proc.returncode == 0:
            return Outcome(PASS)
        return Outcome(FAIL, reason or "exit 1 without a message")
    how = (f"killed by {signal_name(proc.returncode)}" if proc.returncode < 0
           else f"exit code {proc.returncode}")
    return Outcome(CRASH, f"{how}: {reason}" if reason else how)


def replacements_for(case, tmp):
    return {str(case.model): "model.onnx", str(case.model.parent): "<test>", tmp: "<tmp>",
            f"{REPO_ROOT}/": ""}


def import_model(case, compiler, timeout):
    """Run the compiler to MLIR; PASS needs exit 0 and a non-empty output file."""
    with tempfile.TemporaryDirectory(prefix="catfish-conf-") as tmp:
        out = Path(tmp) / "out.mlir"
        cmd = [compiler, case.model, "--emit=mlir", "-o", out, *case.frozen]
        outcome = invoke(cmd, timeout, replacements_for(case, tmp))
        if outcome.status == PASS and not (out.exists() and out.stat().st_size > 0):
            return Outcome(FAIL, "exit 0 but no MLIR written")
        return outcome


def output_file_name(name):
    """catfish-run's file name for an output (sanitizedName in tools/catfish-run)."""
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    return "_" + out if out in ("", ".", "..") else out


def tensor_array(tensor):
    """A TensorProto as catfish-run reads and writes the same tensor in .npy: bf16 as its
    uint16 bits, float8 as uint8 bits, int4 unpacked to int8 (onnx returns the last two as
    one-field structured dtypes)."""
    array = numpy_helper.to_array(tensor)
    return array.view(array.dtype[0]) if array.dtype.names else array


def input_file(name, elem_type, path, tmp):
    """input_K.pb, or a .npy of its values when the file's element type is not the graph
    input's: some tests store bf16 data as UINT16 tensors, which catfish-run rejects as a
    .pb but takes as the raw bits of a .npy (as onnx's runner passes them on as uint16)."""
    tensor = onnx.load_tensor(str(path))
    if tensor.data_type == elem_type or not elem_type:
        return path
    npy = Path(tmp) / f"input_{output_file_name(name)}.npy"
    np.save(npy, tensor_array(tensor), allow_pickle=False)
    return npy


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def format_index(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def compare(got, ref, elem_type, rtol, atol):
    """None when `got` matches `ref`, else why not."""
    if got.dtype != ref.dtype:
        return f"dtype {got.dtype}, expected {ref.dtype}"
    if got.shape != ref.shape:
        return f"shape {list(got.shape)}, expected {list(ref.shape)}"
    if elem_type == onnx.TensorProto.BFLOAT16:
        got, ref = bf16_to_f32(got), bf16_to_f32(ref)
    if ref.dtype.kind in "fc":
        g, r = got.astype(np.complex128 if ref.dtype.kind == "c" else np.float64), \
            ref.astype(np.complex128 if ref.dtype.kind == "c" else np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.isclose(g, r, rtol=rtol, atol=atol, equal_nan=True)
    else:
        g, r = got, ref
        close = got == ref
    if close.all():
        return None
    bad = ~close
    first = tuple(np.argwhere(bad)[0])
    text = (f"{int(bad.sum())} / {bad.size} elements differ; first at {format_index(first)}: "
            f"got {g[first]}, expected {r[first]}")
    if ref.dtype.kind in "fc":
        with np.errstate(invalid="ignore", over="ignore"):
            finite = bad & np.isfinite(g) & np.isfinite(r)
            if finite.any():
                err = np.where(finite, np.abs(g - r), 0)
                text += f"; max abs error {float(err.max()):.3g}"
        if (np.isnan(g) != np.isnan(r)).any():
            text += "; NaN positions differ"
    return text


# Tests whose output_K.pb contradicts the operator's spec, checked against onnxruntime (CPU)
# on the same inputs instead. The QLinearMatMul int8 data wraps out-of-range results (-236
# becomes 20) where the spec and onnxruntime saturate (onnx#7835, data fixed by onnx#7868
# after onnx 1.18).
ORT_REFERENCE_TESTS = {
    f"test_qlinearmatmul_{rank}_int8_{float_type}": "onnx#7835"
    for rank in ("2D", "3D") for float_type in ("float16", "float32")
}
# MaxUnpool with output_shape: the data scatters into the shape inferred from the kernel and
# pads the rest, where PyTorch (whose max_pool indices these are) and onnxruntime scatter the
# flat indices into output_shape itself.
ORT_REFERENCE_TESTS["test_maxunpool_export_with_output_shape"] = "onnx#2398, onnxruntime#2193"


def onnxruntime_outputs(case):
    import onnxruntime
    feeds = {name: tensor_array(onnx.load_tensor(str(path))) for name, _, path in case.inputs}
    for flag in case.frozen:  # --freeze-input=NAME=PATH: graph inputs onnxruntime needs too
        name, path = flag.split("=", 1)[1].split("=", 1)
        feeds[name] = tensor_array(onnx.load_tensor(path))
    session = onnxruntime.InferenceSession(str(case.model), providers=["CPUExecutionProvider"])
    return session.run([name for name, _, _ in case.outputs], feeds)


def compare_outputs(case, out_dir):
    references = onnxruntime_outputs(case) if case.name in ORT_REFERENCE_TESTS else None
    for index, (name, elem_type, ref_path) in enumerate(case.outputs):
        label = f"output {index} '{name}'"
        if not ref_path.exists():
            return Outcome(RUN_FAILED, f"{label}: no reference output_{index}.pb")
        got_path = out_dir / (output_file_name(name) + ".npy")
        if not got_path.exists():
            return Outcome(MISMATCH, f"{label}: not written by catfish-run")
        ref = (references[index] if references is not None
               else tensor_array(onnx.load_tensor(str(ref_path))))
        why = compare(np.load(got_path, allow_pickle=False), ref, elem_type, case.rtol,
                      case.atol)
        if why:
            return Outcome(MISMATCH, f"{label}: {why}")
    return Outcome(PASS)


# Per --device: extra catfish-compile flags and extra catfish-run flags.
DEVICE_FLAGS = {
    "cpu": ([], []),
    "cuda-emulator": (["--target", "cuda", "--cuda-emulation"], ["--device", "cuda-emulator"]),
    "cuda": (["--target", "cuda"], ["--device", "cuda"]),
}


def execute(case, compiler, runner, timeout, device):
    """Compile an artifact for `device`'s target, run it on test_data_set_0 and compare the
    outputs."""
    compile_flags, run_flags = DEVICE_FLAGS[device]
    stage_status = {FAIL: None, CRASH: CRASH, TIMEOUT: TIMEOUT}
    with tempfile.TemporaryDirectory(prefix="catfish-exec-") as tmp:
        artifact, out_dir = Path(tmp) / "t.catfish", Path(tmp) / "out"
        repl = replacements_for(case, tmp)
        try:
            input_args = [a for name, elem_type, path in case.inputs
                          for a in ("--input", f"{name}={input_file(name, elem_type, path, tmp)}")]
        except Exception as error:
            return Outcome(RUN_FAILED, f"cannot read the test inputs: {error}")
        steps = (
            ("catfish-compile", COMPILE_FAILED,
             [compiler, case.model, "-o", artifact, *case.frozen, *compile_flags]),
            ("catfish-run", RUN_FAILED,
             [runner, artifact, *input_args, "--output-dir", out_dir, "--threads", "1",
              *run_flags]),
        )
        for tool, failed, cmd in steps:
            outcome = invoke(cmd, timeout, repl)
            if outcome.status != PASS:
                status = stage_status[outcome.status] or failed
                reason = outcome.reason if status == failed else f"{tool} {outcome.reason}"
                return Outcome(status, reason)
            if tool == "catfish-compile" and not artifact.exists():
                return Outcome(COMPILE_FAILED, "exit 0 but no artifact written")
        try:
            return compare_outputs(case, out_dir)
        except Exception as error:  # an unreadable .npy is catfish-run's fault
            return Outcome(RUN_FAILED, f"cannot compare outputs: {error}")


def run_case(case, compiler, runner, timeout, exec_timeout, device):
    if case.out_of_scope:
        return Result(case, imported=None)
    imported = import_model(case, compiler, timeout)
    if runner is None:
        return Result(case, imported=imported)
    if imported.status != PASS:
        return Result(case, imported, Outcome(NOT_IMPORTED))
    return Result(case, imported, execute(case, compiler, runner, exec_timeout, device))


def run_all(cases, compiler, runner, timeout, exec_timeout, jobs, device):
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, c, compiler, runner, timeout, exec_timeout, device)
                   for c in cases]
        for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results.append(future.result())
            if i % 100 == 0 or i == len(futures):
                print(f"[{i}/{len(futures)}]", file=sys.stderr, flush=True)
    return sorted(results, key=lambda r: r.case.name)


# ---------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class Summary:
    in_scope: int
    counts: collections.Counter
    out_of_scope: collections.Counter
    executed: collections.Counter  # empty without --execute

    @property
    def pass_rate(self):
        return 100.0 * self.counts[PASS] / self.in_scope if self.in_scope else 0.0

    @property
    def exec_pass_rate(self):
        return 100.0 * self.executed[PASS] / self.in_scope if self.in_scope else 0.0

    @property
    def crashes(self):
        return self.counts[CRASH] + self.executed[CRASH]

    @property
    def timeouts(self):
        return self.counts[TIMEOUT] + self.executed[TIMEOUT]


def summarize(results):
    counts = collections.Counter(r.imported.status for r in results if r.imported)
    out_of_scope = collections.Counter(r.case.out_of_scope for r in results
                                       if r.case.out_of_scope)
    executed = collections.Counter(r.executed.status for r in results if r.executed)
    return Summary(sum(counts.values()), counts, out_of_scope, executed)


def code_span(text, limit=MAX_REASON_CHARS):
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def describe_failures(failed, outcome=lambda r: r.imported):
    """One line per distinct reason; many tests sharing a reason are collapsed."""
    by_reason = collections.defaultdict(list)
    for r in failed:
        o = outcome(r)
        by_reason[f"{o.status}: {o.reason}" if o.status != FAIL else o.reason].append(
            r.case.name)
    parts = []
    for reason, names in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(names) <= MAX_LISTED_TESTS:
            who = ", ".join(names)
        else:
            who = f"{len(names)} tests ({', '.join(names[:2])}, ...)"
        parts.append(f"{who}: {code_span(reason)}")
    return "<br>".join(parts)


def by_operator(results):
    by_op = collections.defaultdict(list)
    for r in results:
        if r.imported:
            by_op[r.case.op].append(r)
    return [(op, by_op[op]) for op in sorted(by_op, key=str.lower)]


def op_table(results):
    lines = ["| Op | Imported / total | Expanded: imported / total | Failing tests |",
             "| --- | --- | --- | --- |"]
    for op, rs in by_operator(results):
        expanded = [r for r in rs if r.case.expanded]
        passed = sum(r.imported.status == PASS for r in rs)
        passed_expanded = sum(r.imported.status == PASS for r in expanded)
        failed = [r for r in rs if r.imported.status != PASS]
        lines.append(f"| {op} | {passed} / {len(rs)} | {passed_expanded} / {len(expanded)} "
                     f"| {describe_failures(failed)} |")
    return lines


def out_of_scope_section(results, summary):
    lines = ["## Out of scope", ""]
    if not summary.out_of_scope:
        return lines + ["None of the selected tests is out of scope."]
    for category in CATEGORIES:
        cases = [r.case for r in results if r.case.out_of_scope == category]
        if not cases:
            continue
        ops = collections.Counter(c.op for c in cases)
        op_list = ", ".join(f"{op} ({n})" for op, n in sorted(ops.items(),
                                                               key=lambda kv: kv[0].lower()))
        lines += [f"### {category} ({len(cases)} tests)", "", f"Ops: {op_list}", "",
                  "<details><summary>Tests</summary>", "",
                  ", ".join(c.name for c in cases), "", "</details>", ""]
    return lines


def summary_section(summary):
    c = summary.counts
    lines = ["## Import summary", "", "| | Tests |", "| --- | --- |",
             f"| In scope | {summary.in_scope} |",
             f"| Imported | {c[PASS]} |",
             f"| Failed | {c[FAIL]} |",
             f"| Crashed | {c[CRASH]} |",
             f"| Timed out | {c[TIMEOUT]} |",
             f"| Import pass rate | {summary.pass_rate:.1f} % |"]
    lines += [f"| Out of scope: {cat} | {summary.out_of_scope[cat]} |"
              for cat in CATEGORIES if summary.out_of_scope[cat]]
    return lines


# Reason normalization for the failure-category table: what varies per test (node and value
# names, numbers, element values) is replaced so that one cause is counted once.
CATEGORY_RULES = (
    (re.compile(r"(<tmp>|<test>)/[^\s']*|model\.onnx:?\s*"), ""),
    (re.compile(r"^output \d+ '[^']*': "), ""),
    (re.compile(r"\d+ / \d+ elements differ.*"), "values differ"),
    (re.compile(r"^shape .*"), "shape differs"),
    # The failing node's op is in the Ops column; the message names the catfish op.
    (re.compile(r"node '[^']*' \((\w+)\): |node [\w.]+ '[^']*': "), ""),
    (re.compile(r"(input|output|outputs|and|in) '[^']*'"), r"\1"),
    (re.compile(r"tensor<[^>]*>"), "tensor<...>"),
    (re.compile(r"\b\d+(x\d+)*\b"), "N"),
    (re.compile(r"\s+"), " "),
)


def failure_category(outcome):
    text = outcome.reason
    for pattern, replacement in CATEGORY_RULES:
        text = pattern.sub(replacement, text)
    text = re.sub(r"^output N ", "", text).strip(" :")
    return f"{outcome.status}: {text}" if text else outcome.status


def category_span(text):
    return code_span(text, limit=200)


def category_table(results):
    groups = collections.defaultdict(list)
    for r in results:
        if r.executed and r.executed.status not in (PASS, NOT_IMPORTED):
            groups[failure_category(r.executed)].append(r)
    lines = ["| Reason | Tests | Ops (tests) |", "| --- | --- | --- |"]
    for reason, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        ops = collections.Counter(r.case.op for r in rs)
        op_list = ", ".join(f"{op} ({n})" if n > 1 else op
                            for op, n in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"| {category_span(reason)} | {len(rs)} | {op_list} |")
    return lines


def exec_op_table(results):
    lines = ["| Op | Imported | Matched | Total | Execution failures |",
             "| --- | --- | --- | --- | --- |"]
    for op, rs in by_operator(results):
        imported = sum(r.imported.status == PASS for r in rs)
        matched = sum(r.executed.status == PASS for r in rs)
        failed = [r for r in rs if r.executed.status not in (PASS, NOT_IMPORTED)]
        lines.append(f"| {op} | {imported} | {matched} | {len(rs)} "
                     f"| {describe_failures(failed, lambda r: r.executed)} |")
    return lines


def execution_section(results, summary, machine, elapsed, jobs, device):
    e = summary.executed
    compile_flags, run_flags = DEVICE_FLAGS[device]
    target = ("target cuda, run on the host by the CUDA emulator" if device == "cuda-emulator"
              else "default target: cpu, x86-64-v3")
    lines = [
        "## Execution",
        "",
        f"**Execution: {e[PASS]} / {summary.in_scope} in-scope tests match "
        f"({summary.exec_pass_rate:.1f} %), crashes {summary.crashes}.**",
        "",
        "- Every test that imports is compiled with `"
        + shlex.join(["catfish-compile", "model.onnx", "-o", "T.catfish", *compile_flags])
        + f"` ({target}) and the same `--freeze-input` flags, then run with "
        "`catfish-run T.catfish --input NAME=test_data_set_0/input_K.pb ... --output-dir DIR "
        "--threads 1" + "".join(" " + f for f in run_flags) + "`.",
        f"- Outputs are compared with `output_K.pb`: floating point with rtol {DEFAULT_RTOL:g} "
        f"and atol {DEFAULT_ATOL:g} (the ONNX backend test runner's defaults; no node test has "
        "a data.json overriding them), NaNs in the same places, bf16 compared as float32, "
        "integers, bools, float8 and int4 exactly; shapes and dtypes must be equal. "
        "Where a test's data contradicts the operator's spec, onnxruntime (CPU) on the same "
        "inputs is the reference instead: "
        + ", ".join(f"{name} ({why})" for name, why in sorted(ORT_REFERENCE_TESTS.items()))
        + ".",
        f"- Machine: {machine}; {jobs} tests at a time; whole run (import and execution) "
        f"{elapsed / 60:.1f} min.",
        "",
        "| Status | Tests |", "| --- | --- |",
    ]
    lines += [f"| {status} | {e[status]} |" for status in EXEC_STATUSES]
    crashes = [r for r in results if (r.imported and r.imported.status == CRASH)
               or (r.executed and r.executed.status == CRASH)]
    lines += ["", "### Crashes", ""]
    if crashes:
        lines += [f"- {r.case.name}: "
                  f"{code_span((r.executed if r.executed.status == CRASH else r.imported).reason)}"
                  for r in crashes]
    else:
        lines.append("None.")
    lines += ["", "### Execution failures by reason", "",
              "The first error line, with node and value names, types and numbers elided; the "
              "Ops column names the op under test. Tests that did not import are not counted "
              "here.", ""]
    lines += category_table(results)
    lines += ["", "### Execution per operator", ""] + exec_op_table(results)
    return lines


def render_report(results, summary, command, compiler_version, machine, elapsed, jobs, device):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    executed = bool(summary.executed)
    header = [
        "# ONNX node-test conformance",
        "",
        ("Conformance of `catfish-compile` (import to MLIR) and of compiled "
         + ("CUDA artifacts run by `catfish-run` on the CUDA emulator"
            if device == "cuda-emulator" else "CPU artifacts run by `catfish-run`")
         + " (execution) on the ONNX backend node tests."
         if executed else
         "Import conformance of `catfish-compile --emit=mlir` on the ONNX backend node tests."),
        "",
        f"- Generated by: `{command}`",
        "- Small integer graph inputs (axes, k, shapes; rank <= 1, <= "
        f"{MAX_FROZEN_ELEMENTS} elements) and the other inputs that decide an output shape "
        "(Resize scales and roi, OneHot depth, Range bounds, Loop's trip count and first "
        "condition) are frozen to the test's values "
        "with `--freeze-input`, as an ahead-of-time compiler needs them at compile time.",
        f"- Date: {now}",
        f"- onnx: {onnx.__version__}",
        f"- Compiler: {compiler_version}",
        "",
    ]
    if executed:
        header[4:4] = [f"- Import: {summary.counts[PASS]} / {summary.in_scope} in-scope tests "
                       f"({summary.pass_rate:.1f} %); execution: {summary.executed[PASS]} / "
                       f"{summary.in_scope} match ({summary.exec_pass_rate:.1f} %); crashes "
                       f"{summary.crashes}"]
    body = summary_section(summary) + [""]
    if executed:
        body += execution_section(results, summary, machine, elapsed, jobs, device) + [""]
    body += ["## Import per operator", ""] + op_table(results) + [""]
    return "\n".join(header + body + out_of_scope_section(results, summary)).rstrip() + "\n"


def compiler_version(compiler):
    try:
        proc = subprocess.run([str(compiler), "--version"], capture_output=True, text=True,
                              errors="replace", timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else "unknown"


def machine_description():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = " (" + line.split(":", 1)[1].strip() + ")"
                break
    except OSError:
        pass
    arch = platform.machine().replace("_", "-")
    return f"{os.cpu_count()}-core {arch} CPU{model}"


# ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiler", type=Path, default=REPO_ROOT / "build/bin/catfish-compile")
    parser.add_argument("--runner", type=Path,
                        help="catfish-run (default: next to --compiler)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs/conformance.md")
    parser.add_argument("--update-docs", action="store_true",
                        help="run import and execution on every test and rewrite "
                             "docs/conformance.md (same as --execute --output "
                             "docs/conformance.md)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds for the import of one test")
    parser.add_argument("--execute", action="store_true",
                        help="also compile, run and compare every test that imports")
    parser.add_argument("--exec-timeout", type=float, default=60.0,
                        help="seconds for each of catfish-compile and catfish-run per test")
    parser.add_argument("--filter", help="regex searched in the test directory name")
    parser.add_argument("--device", choices=sorted(DEVICE_FLAGS), default="cpu",
                        help="with --execute: cpu (default), cuda-emulator (compiled for "
                             "--target cuda --cuda-emulation and run on the CUDA emulator), or "
                             "cuda (compiled for --target cuda and run on GPU 0)")
    parser.add_argument("--node-dir", type=Path, default=NODE_TEST_DIR,
                        help="the ONNX node tests (default: the onnx package's); "
                             "scripts/gpu-check.sh passes the pinned onnx's, carried")
    parser.add_argument("--min-pass-rate", type=float,
                        help="fraction of in-scope tests that must import (0..1; default 0.90, "
                             "0 with --update-docs)")
    parser.add_argument("--min-exec-pass-rate", type=float, default=0.0,
                        help="with --execute: fraction of in-scope tests that must match (0..1)")
    args = parser.parse_args(argv)
    if args.min_pass_rate is None:
        args.min_pass_rate = 0.0 if args.update_docs else 0.90
    if args.update_docs:
        args.execute = True
        args.output = REPO_ROOT / "docs/conformance.md"
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.compiler.is_file():
        parser.error(f"compiler not found: {args.compiler}")
    if args.execute:
        args.runner = args.runner or args.compiler.parent / "catfish-run"
        if not args.runner.is_file():
            parser.error(f"catfish-run not found: {args.runner}")
    else:
        args.runner = None
    return args


def main(argv):
    started = time.monotonic()
    args = parse_args(argv)
    cases = discover(args.filter, args.node_dir)
    results = run_all(cases, args.compiler.resolve(),
                      args.runner.resolve() if args.runner else None, args.timeout,
                      args.exec_timeout, args.jobs, args.device)
    elapsed = time.monotonic() - started
    summary = summarize(results)
    command = shlex.join([str(Path(__file__).resolve().relative_to(REPO_ROOT)), *argv])
    report = render_report(results, summary, command, compiler_version(args.compiler),
                           machine_description(), elapsed, args.jobs, args.device)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)

    c = summary.counts
    print(f"{summary.in_scope} in scope: {c[PASS]} imported, {c[FAIL]} failed, "
          f"{c[CRASH]} crashed, {c[TIMEOUT]} timed out ({summary.pass_rate:.1f} %); "
          f"{sum(summary.out_of_scope.values())} out of scope; report: {args.output}")
    if args.execute:
        e = summary.executed
        print(f"execution: {e[PASS]} / {summary.in_scope} match ({summary.exec_pass_rate:.1f} %); "
              + ", ".join(f"{e[s]} {s}" for s in EXEC_STATUSES[1:]))
    print(f"run time: {elapsed:.0f} s")
    for r in results:
        for stage, outcome in (("import", r.imported), ("execution", r.executed)):
            if outcome and outcome.status in (CRASH, TIMEOUT):
                print(f"{outcome.status.upper()} ({stage}): {r.case.name}: {outcome.reason}")
    if summary.in_scope == 0:
        print("FAIL: no in-scope tests selected")
        return 1
    status = 0
    if summary.crashes or summary.timeouts:
        print("FAIL: the compiler or runtime crashed or timed out")
        status = 1
    if summary.pass_rate < 100.0 * args.min_pass_rate:
        print(f"FAIL: import pass rate below {100.0 * args.min_pass_rate:.1f} %")
        status = 1
    if args.execute and summary.exec_pass_rate < 100.0 * args.min_exec_pass_rate:
        print(f"FAIL: execution pass rate below {100.0 * args.min_exec_pass_rate:.1f} %")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
