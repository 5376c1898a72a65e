#!/usr/bin/env python3
"""catfish-compile --quantize=int8 checked against onnxruntime.quantization.

For the e2e CNN, BERT layer and GPT-2 block (test/Import/Inputs/make_model.py), a model with
external data, and a small language model, calibrated on 16 seeded samples and evaluated on 8
others:

- Ranges: MinMax matches onnxruntime's MinMaxCalibrater on every calibrated tensor (to f32
  rounding of the activations themselves: the two engines sum convolutions in different
  orders; graph inputs exactly), Percentile and Entropy lie within one histogram bin of
  onnxruntime's PercentileCalibrater and EntropyCalibrater.
- Parameters: with MinMax, every per-channel weight scale and every quantized weight equals
  what quantize_static (QDQ, per_channel, QInt8) writes for the same tensor, and every
  activation scale and zero point does to the f32 rounding of the ranges (1e-5, 1 step).
- The --emit=onnx-qdq model passes onnx.checker and onnxruntime runs it; Catfish's artifact of
  the same quantization matches onnxruntime on it (output cosine >= 0.9999).
- The accuracy report has the promised keys, its output SQNR agrees with one recomputed from
  onnxruntime runs of the float and the QDQ model (within 1 dB), and the same inputs give the
  same report and model bytes.
- Default exclusions: the LM head and the MoE router stay f32, --quantize-include quantizes
  them; --accuracy-target moves ops back to float until it holds, or says it cannot.

  calibration.py --bin-dir build/bin --work-dir /tmp/calibration
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.calibrate import create_calibrator

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from quantized_models import MAKE_MODEL, make_inputs  # noqa: E402

CALIBRATION_SAMPLES, EVALUATION_SAMPLES = 16, 8
MIN_COSINE = 0.9999
# name -> (--calibrator, extra catfish flags, onnxruntime's method, its extra options). The
# entropy calibrator with onnxruntime's 128 bins has one candidate (the full range); 2048 bins
# make it search clips as TensorRT does.
METHODS = {
    "minmax": ("minmax", (), CalibrationMethod.MinMax, {}),
    "percentile": ("percentile", (), CalibrationMethod.Percentile, {}),
    "entropy": ("entropy", (), CalibrationMethod.Entropy, {}),
    "entropy2048": ("entropy", ("--calibration-bins=2048",), CalibrationMethod.Entropy,
                    {"num_bins": 2048}),
}


def tiny_lm():
    """ids -> embedding -> MLP with a residual -> LM head as wide as the vocabulary."""
    rng = np.random.default_rng(3)
    vocab, dim = 64, 16

    def weight(name, shape):
        return helper.make_tensor(name, TensorProto.FLOAT, shape,
                                  rng.standard_normal(shape).astype(np.float32).ravel())
    nodes = [
        helper.make_node("Gather", ["embed.weight", "ids"], ["h0"], name="/embed/Gather"),
        helper.make_node("MatMul", ["h0", "mlp.weight"], ["m0"], name="/mlp/MatMul"),
        helper.make_node("Relu", ["m0"], ["m1"], name="/mlp/Relu"),
        helper.make_node("Add", ["h0", "m1"], ["h1"], name="/residual/Add"),
        helper.make_node("MatMul", ["h1", "lm_head.weight"], ["logits"], name="/lm_head/MatMul"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_lm", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 8, vocab])],
        [weight("embed.weight", [vocab, dim]), weight("mlp.weight", [dim, dim]),
         weight("lm_head.weight", [dim, vocab])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def lm_inputs(model, seed):
    return {"ids": np.random.default_rng(seed).integers(0, 64, size=(1, 8)).astype(np.int64)}


def write_samples(model, directory, seeds, make=make_inputs):
    samples = []
    for seed in seeds:
        inputs = make(model, seed)
        folder = os.path.join(directory, f"{seed:04d}")
        os.makedirs(folder, exist_ok=True)
        for name, value in inputs.items():
            np.save(os.path.join(folder, name + ".npy"), value)
        samples.append(inputs)
    return samples


class Reader(CalibrationDataReader):
    def __init__(self, samples):
        self.samples = iter(samples)

    def get_next(self):
        return next(self.samples, None)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def compile_quantized(args, model_path, work, calib, evaluation, method, extra=(), tag=""):
    """--emit=onnx-qdq and an artifact of the same quantization; returns (qdq path, artifact,
    report dict) or raises with catfish-compile's error. The QDQ model goes next to the input
    (where a model with external data must be), named after `work` and `tag`."""
    calibrator, flags, _, _ = METHODS[method]
    stem = os.path.basename(work) + tag + "-" + method
    qdq = os.path.join(os.path.dirname(model_path), stem + ".onnx")
    artifact, report = (os.path.join(work, f"{method}{tag}.{ext}")
                        for ext in ("catfish", "json"))
    common = ["--quantize=int8", f"--calibrator={calibrator}", *flags, "--calibration-data",
              calib, "--evaluation-data", evaluation, *extra]
    for cmd in ([model_path, "--emit=onnx-qdq", "-o", qdq, "--accuracy-report", report],
                [model_path, "-o", artifact]):
        done = run([os.path.join(args.bin_dir, "catfish-compile"), *cmd, *common])
        if done.returncode:
            raise RuntimeError(f"catfish-compile {' '.join(cmd)} failed: {done.stderr.strip()}")
    with open(report) as f:
        return qdq, artifact, json.load(f)


def initializers(model):
    return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}


def quantized_tensors(model):
    """tensor -> (scale, zero point) of each QuantizeLinear; weight -> (q, scales) of each
    per-axis DequantizeLinear of an int8 initializer."""
    values = initializers(model)
    activations, weights = {}, {}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear":
            activations[node.input[0]] = (values[node.input[1]], values[node.input[2]])
        elif (node.op_type == "DequantizeLinear" and node.input[0] in values
              and values[node.input[0]].dtype == np.int8 and values[node.input[1]].ndim == 1):
            name = node.input[0].removesuffix("_quantized")
            weights[name] = (values[node.input[0]], values[node.input[1]])
    return activations, weights


def ort_ranges(model_path, work, samples, method):
    path = os.path.join(work, f"augmented-{method}.onnx")
    _, _, ort_method, extra_options = METHODS[method]
    cal = create_calibrator(model_path, augmented_model_path=path, calibrate_method=ort_method,
                            extra_options=extra_options)
    cal.collect_data(Reader(samples))
    data = cal.compute_data()
    ranges = {}
    for name, value in data.items():
        low, high = value.range_value if hasattr(value, "range_value") else value[:2]
        ranges[name] = (float(np.ravel(low)[0]), float(np.ravel(high)[0]))
    histograms = getattr(getattr(cal, "collector", None), "histogram_dict", {}) or {}
    widths = {name: float(h[1][1] - h[1][0]) for name, h in histograms.items()}
    return ranges, widths


def check_ranges(label, report, ranges, widths, calibrator):
    failures, worst = [], 0.0
    for op in report["ops"]:
        for entry in op.get("inputs", []):
            name = entry["tensor"]
            if name not in ranges:
                failures.append(f"{label}: onnxruntime calibrated no tensor '{name}'")
                continue
            low, high = ranges[name]
            expected = np.array([min(low, 0.0), max(high, 0.0)])
            got = np.array(entry["range"])
            if calibrator == "minmax":
                # f32 rounding of the activation itself (summation order) only.
                limit = 1e-5 * max(np.abs(expected).max(), 1e-30)
            else:
                limit = widths[name] * 1.0001
            error = float(np.abs(got - expected).max())
            worst = max(worst, error / limit if limit else 0.0)
            if error > limit:
                failures.append(f"{label}: '{name}' range {got.tolist()}, onnxruntime's "
                                f"{expected.tolist()} (off by {error:.3g} > {limit:.3g})")
    return failures, worst


def check_parameters(label, model_path, work, samples, qdq_path):
    """Our MinMax QDQ model against quantize_static's on the tensors both quantize."""
    reference_path = os.path.join(work, "ort-qdq.onnx")
    quantize_static(model_path, reference_path, Reader(samples), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    ours_a, ours_w = quantized_tensors(onnx.load(qdq_path))
    theirs_a, theirs_w = quantized_tensors(onnx.load(reference_path))
    failures, compared = [], 0
    # quantize_static gives a Gather's output its table's parameters instead of calibrating it.
    gathered = {n.output[0] for n in onnx.load(model_path).graph.node if n.op_type == "Gather"}
    for name, (scale, zero) in ours_a.items():
        if name not in theirs_a or name in gathered:
            continue
        compared += 1
        ref_scale, ref_zero = theirs_a[name]
        # The scales differ only as the f32 ranges do (by an ulp of an activation).
        if not (abs(float(scale) - float(ref_scale)) <= 1e-5 * float(ref_scale)
                and abs(int(zero) - int(ref_zero)) <= 1):
            failures.append(f"{label}: activation '{name}' scale {scale!r} zero point {zero}, "
                            f"quantize_static's {ref_scale!r}, {ref_zero}")
    for name, (q, scales) in ours_w.items():
        if name not in theirs_w:
            continue
        compared += 1
        ref_q, ref_scales = theirs_w[name]
        if not np.array_equal(scales, ref_scales):
            failures.append(f"{label}: weight '{name}' scales differ from quantize_static's by "
                            f"up to {np.abs(scales - ref_scales).max():.3g}")
        elif not np.array_equal(q, ref_q):
            failures.append(f"{label}: weight '{name}': {np.count_nonzero(q != ref_q)} "
                            f"quantized values differ from quantize_static's")
    if compared == 0:
        failures.append(f"{label}: no tensor quantized by both")
    return failures, compared


def sqnr_db(reference, test):
    noise = float(((reference - test) ** 2).sum())
    return None if noise == 0 else 10 * np.log10(float((reference ** 2).sum()) / noise)


def check_outputs(label, args, model_path, qdq_path, artifact, report, evaluation, work):
    """The QDQ model in onnxruntime: Catfish's artifact matches it; the report's SQNR agrees."""
    failures = []
    onnx.checker.check_model(onnx.load(qdq_path), full_check=True)
    float_session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    qdq_session = ort.InferenceSession(qdq_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in float_session.get_outputs()]
    refs, tests = {n: [] for n in names}, {n: [] for n in names}
    lowest = 1.0
    for k, inputs in enumerate(evaluation):
        expected = qdq_session.run(None, inputs)
        for name, value in zip(names, float_session.run(None, inputs)):
            refs[name].append(value.astype(np.float64).ravel())
        cmd = [os.path.join(args.bin_dir, "catfish-run"), artifact, "--output-dir",
               os.path.join(work, f"out{k}")]
        for name, value in inputs.items():
            path = os.path.join(work, f"in{k}-{name}.npy")
            np.save(path, value)
            cmd += ["--input", f"{name}={path}"]
        done = run(cmd)
        if done.returncode:
            return [f"{label}: catfish-run failed: {done.stderr.strip()}"], lowest
        for name, want in zip(names, expected):
            got = np.load(os.path.join(work, f"out{k}", name + ".npy")).astype(np.float64).ravel()
            want = want.astype(np.float64).ravel()
            tests[name].append(want)
            cosine = float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want)))
            lowest = min(lowest, cosine)
            if not cosine >= MIN_COSINE:
                failures.append(f"{label}: output '{name}' of sample {k}: cosine {cosine:.6f} "
                                f"with onnxruntime running the QDQ model")
    reported = {o["name"]: o for o in report["outputs"]}
    for name in names:
        entry = reported.get(name)
        if entry is None or not {"sqnr_db", "cosine"} <= entry.keys():
            failures.append(f"{label}: the report has no sqnr_db and cosine for '{name}'")
            continue
        recomputed = sqnr_db(np.concatenate(refs[name]), np.concatenate(tests[name]))
        if recomputed is not None and not abs(entry["sqnr_db"] - recomputed) <= 1.0:
            failures.append(f"{label}: report says '{name}' has {entry['sqnr_db']:.2f} dB, "
                            f"onnxruntime's runs give {recomputed:.2f} dB")
    return failures, lowest


def check_model(name, args):
    work = os.path.join(args.work_dir, name)
    os.makedirs(work, exist_ok=True)
    model_path = os.path.join(work, "float.onnx")
    if name == "tiny_lm":
        onnx.save(tiny_lm(), model_path)
        make = lm_inputs
    else:
        made = run([sys.executable, MAKE_MODEL, name, model_path])
        if made.returncode:
            return [f"{name}: generating the model failed: {made.stderr.strip()}"]
        make = make_inputs
    model = onnx.load(model_path)
    calib_dir, eval_dir = os.path.join(work, "calib"), os.path.join(work, "eval")
    calibration = write_samples(model, calib_dir, range(CALIBRATION_SAMPLES), make)
    evaluation = write_samples(model, eval_dir, range(1000, 1000 + EVALUATION_SAMPLES), make)

    failures = []
    for calibrator in METHODS:
        label = f"{name} ({calibrator})"
        try:
            qdq, artifact, report = compile_quantized(args, model_path, work, calib_dir,
                                                      eval_dir, calibrator)
        except RuntimeError as error:
            failures.append(f"{label}: {error}")
            continue
        if not {"outputs", "ops"} <= report.keys():
            failures.append(f"{label}: the report lacks 'outputs' or 'ops'")
            continue
        try:
            ranges, widths = ort_ranges(model_path, work, calibration, calibrator)
            problems, worst = check_ranges(label, report, ranges, widths, calibrator)
            failures += problems
            detail = f"ranges within {worst:.2f} of the bound"
        except ValueError as error:
            # numpy refuses 2048 bins over a range narrower than f32 resolves (the -10000
            # attention mask): onnxruntime cannot calibrate this model this way.
            detail = f"onnxruntime's calibrator fails here ({error}), ranges not compared"
        if calibrator == "minmax":
            problems, compared = check_parameters(label, model_path, work, calibration, qdq)
            failures += problems
            detail += f", {compared} tensors' parameters as quantize_static's"
            problems, lowest = check_outputs(label, args, model_path, qdq, artifact, report,
                                             evaluation, work)
            failures += problems
            detail += f", lowest cosine with onnxruntime {lowest:.6f}"
            # Same inputs, same files.
            try:
                qdq2, _, _ = compile_quantized(args, model_path, work, calib_dir, eval_dir,
                                               calibrator, tag="-again")
                report2 = os.path.join(work, f"{calibrator}-again.json")
                same = all(open(a, "rb").read() == open(b, "rb").read() for a, b in (
                    (qdq, qdq2), (os.path.join(work, f"{calibrator}.json"), report2)))
                if not same:
                    failures.append(f"{label}: a second run wrote different files")
            except RuntimeError as error:
                failures.append(f"{label}: {error}")
        quantized = sum(op["precision"] == "int8" for op in report["ops"])
        outputs = ", ".join(f"{o['name']} {o['sqnr_db'] or float('inf'):.1f} dB"
                            for o in report["outputs"])
        print(f"{label}: {'FAIL' if failures else 'ok'} ({quantized} of {len(report['ops'])} "
              f"ops int8; {detail}; {outputs})", flush=True)
    return failures


def check_exclusions(args):
    """The LM head and the MoE router stay f32 unless --quantize-include names them."""
    failures = []
    for name, node, reason in (("tiny_lm", "/lm_head/MatMul", "LM head"),
                               ("moe_block", "/gate/MatMul", "MoE router")):
        work = os.path.join(args.work_dir, name, "exclusions")
        os.makedirs(work, exist_ok=True)
        model_path = os.path.join(args.work_dir, name, "float.onnx")
        calib = os.path.join(args.work_dir, name, "calib")
        for extra, expect_float in (((), True), ((f"--quantize-include={node}",), False)):
            try:
                _, _, report = compile_quantized(args, model_path, work, calib, calib, "minmax",
                                                 extra)
            except RuntimeError as error:
                failures.append(f"{name}: {error}")
                continue
            op = next((o for o in report["ops"] if o["node"] == node), None)
            if op is None:
                failures.append(f"{name}: the report does not list {node}")
            elif expect_float and not (op["precision"] == "f32" and reason in op["reason"]):
                failures.append(f"{name}: {node} is {op['precision']} ({op.get('reason')}), "
                                f"expected f32 as the {reason}")
            elif not expect_float and op["precision"] != "int8":
                failures.append(f"{name}: --quantize-include={node} left it {op['precision']}")
        print(f"{name} exclusions: {'FAIL' if failures else 'ok'} ({node} f32 as the {reason}, "
              f"int8 when included)", flush=True)
    return failures


def check_fallback(args):
    """--accuracy-target: met by moving ops back, or reported as out of reach."""
    failures = []
    name = "bert_layer"
    model_path = os.path.join(args.work_dir, name, "float.onnx")
    calib = os.path.join(args.work_dir, name, "calib")
    evaluation = os.path.join(args.work_dir, name, "eval")
    work = os.path.join(args.work_dir, name, "fallback")
    os.makedirs(work, exist_ok=True)
    _, _, base = compile_quantized(args, model_path, work, calib, evaluation, "minmax")
    full = min(o["sqnr_db"] for o in base["outputs"])
    target = full + 6
    _, _, report = compile_quantized(args, model_path, work, calib, evaluation, "minmax",
                                     (f"--accuracy-target=sqnr={target:.2f}",))
    fallback = report.get("fallback", {})
    reached = min(o["sqnr_db"] if o["sqnr_db"] is not None else float("inf")
                  for o in report["outputs"])
    moved = fallback.get("moved_to_float", [])
    if not fallback.get("target_met") or reached < target or not moved:
        failures.append(f"{name}: target {target:.1f} dB: met={fallback.get('target_met')}, "
                        f"reached {reached:.1f} dB, moved {len(moved)} ops")
    for op in report["ops"]:
        if op["node"] in moved and "accuracy fallback" not in op.get("reason", ""):
            failures.append(f"{name}: {op['node']} fell back without saying why")
    # A cosine above 1 holds for no model: reported as missed, the model left all int8.
    _, _, hopeless = compile_quantized(args, model_path, work, calib, evaluation, "minmax",
                                       ("--accuracy-target=cosine=1.5",))
    if hopeless.get("fallback", {}).get("target_met") is not False or \
            "why" not in hopeless["fallback"] or \
            any(op["precision"] != "int8" for op in hopeless["ops"]
                if "accuracy fallback" in op.get("reason", "")):
        failures.append(f"{name}: an unreachable target is not reported as missed")
    print(f"{name} fallback: {'FAIL' if failures else 'ok'} (all int8 {full:.1f} dB; target "
          f"{target:.1f} dB met with {len(moved)} ops in f32 after "
          f"{fallback.get('trials')} trials, at {reached:.1f} dB)", flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--models", default="cnn,bert_layer,gpt2_block,external_data,tiny_lm,"
                                            "moe_block")
    args = parser.parse_args()
    models = args.models.split(",")
    failures = []
    for name in models:
        failures += check_model(name, args)
    models = args.models.split(",")
    if "tiny_lm" in models and "moe_block" in models:
        failures += check_exclusions(args)
    if "bert_layer" in models:
        failures += check_fallback(args)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
