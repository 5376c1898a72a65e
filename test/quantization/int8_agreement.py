#!/usr/bin/env python3
"""INT8 top-1 agreement of a trained CNN classifier with its f32 original.

Random weights leave every class score close to the others, so agreement would measure noise.
This builds a classifier that has learned something: ten classes of 3x16x16 images (each a
smooth random prototype, scaled, shifted by up to two pixels and noised), a CNN (Conv 3->16,
ReLU, MaxPool, Conv 16->32, ReLU, GlobalAveragePool, Gemm 32->10) whose convolutions keep
their seeded random weights with a batch normalization folded in (each channel standardized
over the training images, as exported CNNs carry their BN), and whose Gemm head is fitted to 2000 training images (softmax
regression by gradient descent on the standardized features from onnxruntime, folded back
into the Gemm). Its test accuracy is printed.

catfish-compile --quantize=int8 calibrates it on 32 training images and evaluates it on 500
others; the check requires top-1 agreement >= 97 % with the f32 model, measured twice: by the
accuracy report (Catfish's runs) and independently by onnxruntime running the f32 model and
the --emit=onnx-qdq model on the same 500 images.

  int8_agreement.py --bin-dir build/bin --work-dir /tmp/agreement
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

CLASSES, SIZE = 10, 16
TRAIN, CALIBRATION, EVALUATION = 2000, 32, 500
MIN_AGREEMENT = 0.97


def images(rng, prototypes, count):
    labels = rng.integers(0, CLASSES, count)
    out = prototypes[labels] * rng.uniform(0.7, 1.3, (count, 1, 1, 1))
    for k in range(count):
        out[k] = np.roll(out[k], tuple(rng.integers(-2, 3, 2)), axis=(1, 2))
    out += rng.normal(0, 1.5, out.shape)
    return out.astype(np.float32), labels


def prototypes(rng):
    coarse = rng.normal(0, 1, (CLASSES, 3, 4, 4))
    return coarse.repeat(SIZE // 4, axis=2).repeat(SIZE // 4, axis=3)


def random_weights(rng):
    def he(shape):
        fan_in = int(np.prod(shape[1:]))
        return rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)
    return {"conv1.weight": he((16, 3, 3, 3)), "conv1.bias": np.zeros(16, np.float32),
            "conv2.weight": he((32, 16, 3, 3)), "conv2.bias": np.zeros(32, np.float32)}


def normalize(weights, train):
    """Folds a batch normalization into each convolution, as exported CNNs carry it: each
    output channel standardized over the training images (what training's BN does)."""
    for conv, output in (("conv1", "c1"), ("conv2", "c2")):
        probe = model(weights, output=output)
        values = run_all(ort.InferenceSession(probe.SerializeToString()), train[:256])
        mean, std = values.mean((0, 2, 3)), values.std((0, 2, 3)) + 1e-6
        weights[f"{conv}.weight"] = weights[f"{conv}.weight"] / std[:, None, None, None]
        weights[f"{conv}.bias"] = ((weights[f"{conv}.bias"] - mean) / std).astype(np.float32)
    return weights


def model(weights, head=None, output="features"):
    """The CNN; without `head` it ends at `output` (the pooled features by default)."""
    weights = dict(weights)
    nodes = [
        helper.make_node("Conv", ["x", "conv1.weight", "conv1.bias"], ["c1"], name="/conv1/Conv",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="/relu1/Relu"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="/pool/MaxPool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"],
                         name="/conv2/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="/relu2/Relu"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="/gap/GlobalAveragePool"),
        helper.make_node("Flatten", ["g"], ["features"], name="/flatten/Flatten"),
    ]
    output = helper.make_tensor_value_info(output, TensorProto.FLOAT, None)
    if head is not None:
        weights["fc.weight"], weights["fc.bias"] = head
        nodes.append(helper.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"],
                                      name="/fc/Gemm", transB=1))
        output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, CLASSES])
    graph = helper.make_graph(
        nodes, "classifier", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                            [1, 3, SIZE, SIZE])],
        [output], [numpy_helper.from_array(v, k) for k, v in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def fit_head(features, labels, steps=2000, rate=0.5, decay=1e-4):
    """Softmax regression on standardized features by gradient descent, folded back into the
    weights of a Gemm on the raw features (fc.weight [classes, 32], fc.bias)."""
    mean, std = features.mean(0), features.std(0) + 1e-6
    z = ((features - mean) / std).astype(np.float64)
    targets = np.eye(CLASSES)[labels]
    w, b = np.zeros((z.shape[1], CLASSES)), np.zeros(CLASSES)
    for _ in range(steps):
        logits = z @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        grad = (p - targets) / len(z)
        w -= rate * (z.T @ grad + decay * w)
        b -= rate * grad.sum(0)
    weight = (w / std[:, None]).T
    bias = b - (mean / std) @ w
    return weight.astype(np.float32), bias.astype(np.float32)


def run_all(session, batch):
    return np.concatenate([session.run(None, {"x": x[None]})[0] for x in batch])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)

    rng = np.random.default_rng(11)
    protos = prototypes(rng)
    train, train_labels = images(rng, protos, TRAIN)
    test, test_labels = images(rng, protos, EVALUATION)

    # Fit the head on the frozen convolutional features.
    weights = normalize(random_weights(np.random.default_rng(12)), train)
    features = run_all(ort.InferenceSession(model(weights).SerializeToString()), train)
    head = fit_head(features, train_labels)
    classifier = model(weights, head)
    path = os.path.join(args.work_dir, "classifier.onnx")
    onnx.save(classifier, path)

    for name, data in (("calib", train[:CALIBRATION]), ("eval", test)):
        for k, x in enumerate(data):
            folder = os.path.join(args.work_dir, name, f"{k:04d}")
            os.makedirs(folder, exist_ok=True)
            np.save(os.path.join(folder, "x.npy"), x[None])

    qdq, report_path = (os.path.join(args.work_dir, f) for f in ("q.onnx", "report.json"))
    done = subprocess.run(
        [os.path.join(args.bin_dir, "catfish-compile"), path, "--quantize=int8",
         "--calibration-data", os.path.join(args.work_dir, "calib"), "--evaluation-data",
         os.path.join(args.work_dir, "eval"), "--accuracy-report", report_path,
         "--emit=onnx-qdq", "-o", qdq], capture_output=True, text=True, timeout=900)
    if done.returncode:
        print(f"FAIL: catfish-compile: {done.stderr.strip()}")
        return 1
    with open(report_path) as f:
        report = json.load(f)
    reported = report["outputs"][0].get("top1_agreement")

    float_logits = run_all(ort.InferenceSession(path), test)
    int8_logits = run_all(ort.InferenceSession(qdq), test)
    accuracy = float(np.mean(float_logits.argmax(1) == test_labels))
    int8_accuracy = float(np.mean(int8_logits.argmax(1) == test_labels))
    agreement = float(np.mean(float_logits.argmax(1) == int8_logits.argmax(1)))
    failures = []
    if reported is None or reported < MIN_AGREEMENT:
        failures.append(f"the report's top-1 agreement is {reported}, below {MIN_AGREEMENT}")
    if agreement < MIN_AGREEMENT:
        failures.append(f"onnxruntime's top-1 agreement is {agreement:.3f}, below "
                        f"{MIN_AGREEMENT}")
    if accuracy < 0.5:
        failures.append(f"the f32 classifier learned too little ({accuracy:.3f} accuracy) for "
                        f"agreement to mean anything")
    print(f"classifier: f32 accuracy {accuracy:.3f}, int8 accuracy {int8_accuracy:.3f} on "
          f"{EVALUATION} test images; top-1 agreement {reported:.3f} (report), "
          f"{agreement:.3f} (onnxruntime); output SQNR {report['outputs'][0]['sqnr_db']:.1f} dB")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
