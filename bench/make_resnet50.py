#!/usr/bin/env python3
"""Writes a ResNet-50-shaped ONNX model (random weights) the way torch.onnx.export writes an
eval-mode torchvision ResNet-50: batch norms folded into the convolutions' weights and biases,
Conv/Relu/Add bottlenecks, MaxPool, GlobalAveragePool, Flatten, Gemm. Input 'input'
1x3x224x224 f32, output 'logits' 1x1000; about 25.5 M parameters (~100 MB). With
--batch-norm every convolution is followed by a BatchNormalization instead (no conv bias), as
the ONNX model zoo's ResNet-50 and exports that keep the norms write it.

    .venv/bin/python bench/make_resnet50.py build/bench/resnet50.onnx [--batch-norm]
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, batch_norm):
        self.nodes, self.inits, self.count = [], [], 0
        self.rng = np.random.default_rng(0)
        self.batch_norm = batch_norm

    def name(self, kind):
        self.count += 1
        return f"{kind}_{self.count}"

    def weight(self, kind, shape, fan_in):
        name = self.name(kind)
        data = (self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def conv(self, x, cin, cout, kernel, stride=1, relu=True):
        w = self.weight("w", (cout, cin, kernel, kernel), cin * kernel * kernel)
        inputs = [x, w] if self.batch_norm else [x, w, self.weight("b", (cout,), cout)]
        y = self.name("conv")
        pad = kernel // 2
        self.nodes.append(helper.make_node("Conv", inputs, [y], name=y,
                                           kernel_shape=[kernel, kernel],
                                           strides=[stride, stride], pads=[pad] * 4))
        if self.batch_norm:
            y = self.norm(y, cout)
        return self.relu(y) if relu else y

    def norm(self, x, channels):
        params = []
        for kind, values in (
                ("scale", 1 + self.rng.standard_normal(channels) * 0.1),
                ("shift", self.rng.standard_normal(channels) * 0.1),
                ("mean", self.rng.standard_normal(channels) * 0.1),
                ("var", self.rng.uniform(0.5, 1.5, channels))):
            name = self.name(kind)
            self.inits.append(numpy_helper.from_array(values.astype(np.float32), name))
            params.append(name)
        y = self.name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [x, *params], [y], name=y,
                                           epsilon=1e-5))
        return y

    def relu(self, x):
        y = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y], name=y))
        return y

    def bottleneck(self, x, cin, width, stride):
        cout = width * 4
        y = self.conv(x, cin, width, 1)
        y = self.conv(y, width, width, 3, stride)
        y = self.conv(y, width, cout, 1, relu=False)
        shortcut = x if stride == 1 and cin == cout else self.conv(x, cin, cout, 1, stride,
                                                                   relu=False)
        s = self.name("add")
        self.nodes.append(helper.make_node("Add", [y, shortcut], [s], name=s))
        return self.relu(s)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--batch-norm", action="store_true")
    args = parser.parse_args()
    b = Builder(args.batch_norm)
    x = b.conv("input", 3, 64, 7, 2)
    pooled = b.name("maxpool")
    b.nodes.append(helper.make_node("MaxPool", [x], [pooled], name=pooled, kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = pooled, 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            x = b.bottleneck(x, cin, width, stride if i == 0 else 1)
            cin = width * 4
    gap = b.name("gap")
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], [gap], name=gap))
    flat = b.name("flatten")
    b.nodes.append(helper.make_node("Flatten", [gap], [flat], name=flat, axis=1))
    fc_w = b.weight("fc_w", (1000, 2048), 2048)
    fc_b = b.weight("fc_b", (1000,), 1000)
    b.nodes.append(helper.make_node("Gemm", [flat, fc_w, fc_b], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        b.nodes, "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="catfish-bench")
    model.ir_version = 8  # onnxruntime 1.22 reads IR versions up to 10
    onnx.checker.check_model(model)
    onnx.save(model, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
