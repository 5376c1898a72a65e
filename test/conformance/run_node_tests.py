#!/usr/bin/env python3
"""ONNX backend node-test import conformance for catfish-compile.

Runs `catfish-compile MODEL --emit=mlir` on every test in the ONNX backend node suite
(shipped inside the `onnx` package) and writes a Markdown report grouped by the operator
under test. Tests that use features Catfish does not target (training, sequences and
optionals, strings, random generators, the ai.onnx.ml domain) are listed as out of scope.

Usage (from the repository root):
    .venv/bin/python test/conformance/run_node_tests.py
    .venv/bin/python test/conformance/run_node_tests.py --filter '^test_(conv|gemm)' \
        --output /tmp/conformance.md --min-pass-rate 0

Exit status 1 when the in-scope import pass rate is below --min-pass-rate or when any
compiler invocation crashed or timed out.
"""

import argparse
import collections
import concurrent.futures
import datetime
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx

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


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Result:
    case: TestCase
    imported: Outcome | None


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


def frozen_inputs(model, test_dir):
    """--freeze-input flags for small integer inputs (axes, k, shapes, pads, repeats).

    ONNX passes these as graph inputs in the node tests; an ahead-of-time compiler with static
    shapes needs them at compile time, as TensorRT needs shape tensors at build time. Their
    values come from the test's own first data set.
    """
    data = test_dir / "test_data_set_0"
    initializers = {init.name for init in model.graph.initializer}
    flags = []
    for index, value in enumerate(v for v in model.graph.input if v.name not in initializers):
        tensor = value.type.tensor_type
        dims = tensor.shape.dim if value.type.HasField("tensor_type") else []
        path = data / f"input_{index}.pb"
        if (tensor.elem_type in FREEZABLE_TYPES and len(dims) <= 1 and path.exists()
                and all(d.HasField("dim_value") and d.dim_value <= MAX_FROZEN_ELEMENTS
                        for d in dims)):
            flags.append(f"--freeze-input={value.name}={path}")
    return tuple(flags)


def make_case(test_dir):
    model = load_graph(test_dir)
    name = test_dir.name
    expanded = "_expanded" in name
    base_dir = test_dir.parent / base_test_name(name)
    if expanded and (base_dir / "model.onnx").exists():
        op = op_under_test(base_dir.name, load_graph(base_dir).graph)
    else:
        op = op_under_test(name, model.graph)
    return TestCase(name=name, model=test_dir / "model.onnx", op=op, expanded=expanded,
                    out_of_scope=out_of_scope_category(model),
                    frozen=frozen_inputs(model, test_dir))


def discover(name_filter):
    pattern = re.compile(name_filter) if name_filter else None
    dirs = sorted(d for d in NODE_TEST_DIR.iterdir() if (d / "model.onnx").exists())
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
    for old, new in replacements.items():
        line = line.replace(old, new)
    return line


def signal_name(returncode):
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def import_model(case, compiler, timeout):
    """Run the compiler to MLIR; PASS needs exit 0 and a non-empty output file."""
    with tempfile.TemporaryDirectory(prefix="catfish-conf-") as tmp:
        out = Path(tmp) / "out.mlir"
        cmd = [str(compiler), str(case.model), "--emit=mlir", "-o", str(out), *case.frozen]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return Outcome(TIMEOUT, f"timed out after {timeout:g} s")
        crashed = proc.returncode not in (0, 1)
        reason = diagnostic(proc.stderr, {str(case.model): "model.onnx", tmp: "<tmp>",
                                          f"{REPO_ROOT}/": ""}, crashed)
        if proc.returncode == 0:
            if out.exists() and out.stat().st_size > 0:
                return Outcome(PASS)
            return Outcome(FAIL, "exit 0 but no MLIR written")
        if not crashed:
            return Outcome(FAIL, reason or "exit 1 without a message")
        how = (f"killed by {signal_name(proc.returncode)}" if proc.returncode < 0
               else f"exit code {proc.returncode}")
        return Outcome(CRASH, f"{how}: {reason}" if reason else how)


def run_case(case, compiler, timeout):
    if case.out_of_scope:
        return Result(case, imported=None)
    return Result(case, imported=import_model(case, compiler, timeout))


def run_all(cases, compiler, timeout, jobs):
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, c, compiler, timeout) for c in cases]
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

    @property
    def pass_rate(self):
        return 100.0 * self.counts[PASS] / self.in_scope if self.in_scope else 0.0


def summarize(results):
    counts = collections.Counter(r.imported.status for r in results if r.imported)
    out_of_scope = collections.Counter(r.case.out_of_scope for r in results
                                       if r.case.out_of_scope)
    return Summary(sum(counts.values()), counts, out_of_scope)


def code_span(text):
    if len(text) > MAX_REASON_CHARS:
        text = text[:MAX_REASON_CHARS - 3] + "..."
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def describe_failures(failed):
    """One line per distinct reason; many tests sharing a reason are collapsed."""
    by_reason = collections.defaultdict(list)
    for r in failed:
        by_reason[f"{r.imported.status}: {r.imported.reason}"
                  if r.imported.status != FAIL else r.imported.reason].append(r.case.name)
    parts = []
    for reason, names in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(names) <= MAX_LISTED_TESTS:
            who = ", ".join(names)
        else:
            who = f"{len(names)} tests ({', '.join(names[:2])}, ...)"
        parts.append(f"{who}: {code_span(reason)}")
    return "<br>".join(parts)


def op_table(results):
    by_op = collections.defaultdict(list)
    for r in results:
        if r.imported:
            by_op[r.case.op].append(r)
    lines = ["| Op | Imported / total | Expanded: imported / total | Failing tests |",
             "| --- | --- | --- | --- |"]
    for op in sorted(by_op, key=str.lower):
        rs = by_op[op]
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
    lines = ["## Summary", "", "| | Tests |", "| --- | --- |",
             f"| In scope | {summary.in_scope} |",
             f"| Imported | {c[PASS]} |",
             f"| Failed | {c[FAIL]} |",
             f"| Crashed | {c[CRASH]} |",
             f"| Timed out | {c[TIMEOUT]} |",
             f"| Import pass rate | {summary.pass_rate:.1f} % |"]
    lines += [f"| Out of scope: {cat} | {summary.out_of_scope[cat]} |"
              for cat in CATEGORIES if summary.out_of_scope[cat]]
    return lines


def render_report(results, summary, command, compiler_version):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        "# ONNX node-test conformance",
        "",
        "Import conformance of `catfish-compile --emit=mlir` on the ONNX backend node tests.",
        "",
        f"- Generated by: `{command}`",
        "- Small integer graph inputs (axes, k, shapes; rank <= 1, <= "
        f"{MAX_FROZEN_ELEMENTS} elements) are frozen to the test's values with "
        "`--freeze-input`, as an ahead-of-time compiler needs them at compile time.",
        f"- Date: {now}",
        f"- onnx: {onnx.__version__}",
        f"- Compiler: {compiler_version}",
        "",
    ]
    body = summary_section(summary) + ["", "## Per operator", ""] + op_table(results) + [""]
    return "\n".join(header + body + out_of_scope_section(results, summary)).rstrip() + "\n"


def compiler_version(compiler):
    try:
        proc = subprocess.run([str(compiler), "--version"], capture_output=True, text=True,
                              errors="replace", timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else "unknown"


# ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiler", type=Path, default=REPO_ROOT / "build/bin/catfish-compile")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs/conformance.md")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per test")
    parser.add_argument("--filter", help="regex searched in the test directory name")
    parser.add_argument("--min-pass-rate", type=float, default=0.90,
                        help="fraction of in-scope tests that must import (0..1)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.compiler.is_file():
        parser.error(f"compiler not found: {args.compiler}")
    return args


def main(argv):
    args = parse_args(argv)
    cases = discover(args.filter)
    results = run_all(cases, args.compiler, args.timeout, args.jobs)
    summary = summarize(results)
    command = shlex.join([str(Path(__file__).resolve().relative_to(REPO_ROOT)), *argv])
    report = render_report(results, summary, command, compiler_version(args.compiler))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)

    c = summary.counts
    print(f"{summary.in_scope} in scope: {c[PASS]} imported, {c[FAIL]} failed, "
          f"{c[CRASH]} crashed, {c[TIMEOUT]} timed out ({summary.pass_rate:.1f} %); "
          f"{sum(summary.out_of_scope.values())} out of scope; report: {args.output}")
    if summary.in_scope == 0:
        print("FAIL: no in-scope tests selected")
        return 1
    if c[CRASH] or c[TIMEOUT]:
        print("FAIL: the compiler crashed or timed out")
        return 1
    if summary.pass_rate < 100.0 * args.min_pass_rate:
        print(f"FAIL: pass rate below {100.0 * args.min_pass_rate:.1f} %")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
