#!/usr/bin/env python3
"""Next-token agreement of weight quantization on a language model with trained weights.

Issue 13's INT4 target: weights in groups of 128 on a small LM trained here, next-token
agreement with the f32 model >= 90 %, and no more than 1 point below onnxruntime's
MatMulNBits at the same block size. Random weights leave margins too small to judge, so this
trains one first, in numpy, in a few CPU minutes: a character-level model (Bengio et al.'s
neural LM: the embeddings of the 16 previous characters, two tanh layers of 512, logits over
the characters) on the licence texts every Debian system ships (/usr/share/common-licenses),
GPL-3 held out. The trained model is written as ONNX (opset 17) and kept in the work
directory; later runs reuse it (--retrain to train again).

Then, on 2048 held-out positions:
- onnxruntime runs the f32 model and the model MatMulNBitsQuantizer makes (4 bits, block 128,
  with zero points): its agreement with f32;
- catfish-compile --quantize=int4-weights --weight-block=128 (round to nearest, with the LM
  head quantized as onnxruntime's quantizer does and left in float as Catfish does by
  default, and GPTQ), and, for comparison, int8-weights, fp8, fp8-block and int8, with the
  accuracy report's top-1 agreement on the same positions (Catfish's f32 model against its
  quantized one).

  bench/int4_lm.py --bin-dir build/bin --work-dir build/bench/int4-lm [--steps 4000]
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

CONTEXT, EMBED, HIDDEN, BATCH = 16, 32, 512, 256
LICENSES = "/usr/share/common-licenses"
HELD_OUT = "GPL-3"


def corpus():
    """The training and held-out text as character ids, and the vocabulary size."""
    train, held_out = [], ""
    for name in sorted(os.listdir(LICENSES)):
        path = os.path.join(LICENSES, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if name == HELD_OUT:
            held_out = text
        else:
            train.append(text)
    train = "\n".join(train)
    lookup = {c: i for i, c in enumerate(sorted(set(train) | set(held_out)))}
    encode = lambda text: np.array([lookup[c] for c in text], np.int64)
    return encode(train), encode(held_out), len(lookup)


def windows(ids, positions):
    return np.stack([ids[p - CONTEXT:p] for p in positions]), ids[positions]


class Model:
    def __init__(self, vocab, rng):
        def init(shape, fan_in):
            return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        self.p = {"E": init((vocab, EMBED), 1), "W1": init((CONTEXT * EMBED, HIDDEN), CONTEXT * EMBED),
                  "b1": np.zeros(HIDDEN, np.float32), "W2": init((HIDDEN, HIDDEN), HIDDEN),
                  "b2": np.zeros(HIDDEN, np.float32), "W3": init((HIDDEN, vocab), HIDDEN),
                  "b3": np.zeros(vocab, np.float32)}
        self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.t = 0

    def forward(self, x):
        p = self.p
        e = p["E"][x].reshape(len(x), -1)
        h1 = np.tanh(e @ p["W1"] + p["b1"])
        h2 = np.tanh(h1 @ p["W2"] + p["b2"])
        return e, h1, h2, h2 @ p["W3"] + p["b3"]

    def step(self, x, y, lr):
        p = self.p
        e, h1, h2, logits = self.forward(x)
        logits = logits - logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        loss = float(-np.log(prob[np.arange(len(y)), y] + 1e-12).mean())
        d = prob
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        g = {"W3": h2.T @ d, "b3": d.sum(0)}
        d = (d @ p["W3"].T) * (1 - h2 * h2)
        g["W2"], g["b2"] = h1.T @ d, d.sum(0)
        d = (d @ p["W2"].T) * (1 - h1 * h1)
        g["W1"], g["b1"] = e.T @ d, d.sum(0)
        de = (d @ p["W1"].T).reshape(len(x), CONTEXT, EMBED)
        g["E"] = np.zeros_like(p["E"])
        np.add.at(g["E"], x, de)
        self.t += 1
        for k in p:
            self.m[k] = 0.9 * self.m[k] + 0.1 * g[k]
            self.v[k] = 0.999 * self.v[k] + 0.001 * g[k] * g[k]
            mh = self.m[k] / (1 - 0.9 ** self.t)
            vh = self.v[k] / (1 - 0.999 ** self.t)
            p[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        return loss

    def onnx(self):
        p = self.p
        nodes = [
            helper.make_node("Gather", ["embedding", "tokens"], ["embedded"], name="/embed/Gather"),
            helper.make_node("Reshape", ["embedded", "flat_shape"], ["flat"], name="/Reshape"),
            helper.make_node("MatMul", ["flat", "W1"], ["mm1"], name="/fc1/MatMul"),
            helper.make_node("Add", ["mm1", "b1"], ["a1"], name="/fc1/Add"),
            helper.make_node("Tanh", ["a1"], ["h1"], name="/Tanh_1"),
            helper.make_node("MatMul", ["h1", "W2"], ["mm2"], name="/fc2/MatMul"),
            helper.make_node("Add", ["mm2", "b2"], ["a2"], name="/fc2/Add"),
            helper.make_node("Tanh", ["a2"], ["h2"], name="/Tanh_2"),
            helper.make_node("MatMul", ["h2", "W3"], ["mm3"], name="/head/MatMul"),
            helper.make_node("Add", ["mm3", "b3"], ["logits"], name="/head/Add"),
        ]
        inits = [numpy_helper.from_array(p["E"], "embedding"),
                 numpy_helper.from_array(np.array([BATCH, CONTEXT * EMBED], np.int64), "flat_shape")]
        inits += [numpy_helper.from_array(p[k], k) for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
        graph = helper.make_graph(
            nodes, "char_lm", [helper.make_tensor_value_info("tokens", TensorProto.INT64, [BATCH, CONTEXT])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [BATCH, p["E"].shape[0]])], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def train(path, steps):
    ids, held, vocab = corpus()
    rng = np.random.default_rng(0)
    model = Model(vocab, rng)
    start = time.time()
    for step in range(steps):
        x, y = windows(ids, rng.integers(CONTEXT, len(ids), BATCH))
        lr = 2e-3 * min(1.0, 2 * (steps - step) / steps)
        loss = model.step(x, y, lr)
        if step % 500 == 0 or step == steps - 1:
            hx, hy = windows(held, np.arange(CONTEXT, min(len(held), CONTEXT + 4096)))
            accuracy = float((model.forward(hx)[3].argmax(1) == hy).mean())
            print(f"step {step}: training loss {loss:.3f}, held-out next-character accuracy "
                  f"{accuracy:.3f} ({time.time() - start:.0f} s)", flush=True)
    onnx.save(model.onnx(), path)


def write_samples(directory, ids, starts, count):
    for k in range(count):
        folder = os.path.join(directory, f"{k:04d}")
        os.makedirs(folder, exist_ok=True)
        positions = starts + k * BATCH + np.arange(BATCH)
        np.save(os.path.join(folder, "tokens.npy"), windows(ids, positions)[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    os.makedirs(args.work_dir, exist_ok=True)
    path = os.path.join(args.work_dir, "char_lm.onnx")
    if args.retrain or not os.path.exists(path):
        train(path, args.steps)
    trained_on, held, _ = corpus()
    evaluation, calibration = (os.path.join(args.work_dir, d) for d in ("evaluation", "calibration"))
    write_samples(evaluation, held, CONTEXT, 8)
    write_samples(calibration, trained_on, 10000, 8)

    # onnxruntime: f32 and MatMulNBitsQuantizer's 4-bit model, and the f32 model's accuracy.
    from onnxruntime.quantization.matmul_nbits_quantizer import (DefaultWeightOnlyQuantConfig,
                                                                 MatMulNBitsQuantizer)
    quantizer = MatMulNBitsQuantizer(onnx.load(path), algo_config=DefaultWeightOnlyQuantConfig(
        block_size=128, is_symmetric=False))
    quantizer.process()
    ort_int4 = os.path.join(args.work_dir, "ort_int4.onnx")
    quantizer.model.save_model_to_file(ort_int4)
    f32 = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    int4 = ort.InferenceSession(ort_int4, providers=["CPUExecutionProvider"])
    agree = correct = total = 0
    for k in range(8):
        x = np.load(os.path.join(evaluation, f"{k:04d}", "tokens.npy"))
        y = held[CONTEXT + k * BATCH + np.arange(BATCH)]
        a = f32.run(None, {"tokens": x})[0].argmax(1)
        b = int4.run(None, {"tokens": x})[0].argmax(1)
        agree += int((a == b).sum())
        correct += int((a == y).sum())
        total += len(y)
    quantized = sum(n.op_type == "MatMulNBits" for n in quantizer.model.model.graph.node)
    rows = [("f32, next-character accuracy on held-out text", f"{correct / total:.3f}", "-"),
            ("onnxruntime MatMulNBitsQuantizer, 4 bits, block 128", f"{agree / total:.4f}",
             f"{quantized} MatMuls")]

    # onnxruntime quantizes the LM head too; Catfish leaves it in float unless told.
    schemes = [("int4-weights rtn, LM head included", ["--quantize=int4-weights",
                                                       "--weight-block=128",
                                                       "--quantize-include=/head/MatMul"]),
               ("int4-weights rtn", ["--quantize=int4-weights", "--weight-block=128"]),
               ("int4-weights gptq", ["--quantize=int4-weights", "--weight-block=128",
                                      "--weight-method=gptq"]),
               ("int8-weights rtn", ["--quantize=int8-weights", "--weight-block=128"]),
               ("fp8-block", ["--quantize=fp8-block"]),
               ("fp8", ["--quantize=fp8"]),
               ("int8", ["--quantize=int8"])]
    for label, flags in schemes:
        report = os.path.join(args.work_dir, label.split(",")[0].replace(" ", "-") + ".json")
        done = subprocess.run([os.path.join(args.bin_dir, "catfish-compile"), path, "-o",
                               os.path.join(args.work_dir, "q.catfish"), *flags,
                               "--calibration-data", calibration, "--evaluation-data", evaluation,
                               "--accuracy-report", report], capture_output=True, text=True)
        if done.returncode:
            print(f"{label}: catfish-compile failed: {done.stderr.strip()}")
            return 1
        with open(report) as f:
            r = json.load(f)
        out = r["outputs"][0]
        rows.append((f"Catfish --quantize={label}", f"{out['top1_agreement']:.4f}",
                     f"{r['quantized_ops']} ops, logits {out['sqnr_db']:.1f} dB"))
    print("| model | next-token agreement with f32 | notes |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
