#!/usr/bin/env python3
"""Writes the recurrent benchmark models: a bidirectional LSTM and a bidirectional GRU over 50
steps of batch 1, 64 inputs and 128 hidden units, with seeded constant weights.

    .venv/bin/python bench/make_recurrent.py build/bench/recurrent
    build/bin/catfish-compile build/bench/recurrent/lstm.onnx -o build/bench/recurrent/lstm.catfish
    .venv/bin/python bench/cpu_latency.py build/bench/recurrent/lstm.onnx \
        build/bench/recurrent/lstm.catfish --runs 20
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STEPS, BATCH, INPUT, HIDDEN = 50, 1, 64, 128


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    for op, gates in (("LSTM", 4), ("GRU", 3)):
        weights = [numpy_helper.from_array(rng.uniform(-0.1, 0.1, shape).astype(np.float32), name)
                   for name, shape in (("W", (2, gates * HIDDEN, INPUT)),
                                       ("R", (2, gates * HIDDEN, HIDDEN)),
                                       ("B", (2, 2 * gates * HIDDEN)))]
        node = helper.make_node(op, ["X", "W", "R", "B"], ["Y", "Y_h"], hidden_size=HIDDEN,
                                direction="bidirectional")
        graph = helper.make_graph(
            [node], op.lower(), [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                               [STEPS, BATCH, INPUT])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [STEPS, 2, BATCH, HIDDEN]),
             helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [2, BATCH, HIDDEN])],
            weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)],
                                  ir_version=8)
        onnx.save(model, os.path.join(out_dir, f"{op.lower()}.onnx"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/bench/recurrent")
