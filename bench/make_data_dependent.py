#!/usr/bin/env python3
"""Models whose outputs have sizes known only at run time, for bench/cpu_latency.py: NonZero of
a 1M-element mask (torch's x[x > 1]), NonMaxSuppression over 80 classes of 1000 boxes (a
detector's post-processing), and Unique of 4096 values with few distinct ones.

    .venv/bin/python bench/make_data_dependent.py build/bench/data_dependent
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(directory, name, nodes, inputs, outputs, constants=None, opset=13):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs],
        [numpy_helper.from_array(v, n) for n, v in (constants or {}).items()])
    for value in graph.output:
        value.type.Clear()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.save(model, os.path.join(directory, name + ".onnx"))


def main(directory):
    os.makedirs(directory, exist_ok=True)
    save(directory, "nonzero_1m",
         [helper.make_node("Greater", ["x", "one"], ["mask"]),
          helper.make_node("NonZero", ["mask"], ["positions"]),
          helper.make_node("Transpose", ["positions"], ["at"], perm=[1, 0]),
          helper.make_node("GatherND", ["x", "at"], ["picked"])],
         [("x", TensorProto.FLOAT, [1024, 1024])], ["picked"],
         {"one": np.array(1.0, np.float32)})
    save(directory, "nms_80x1000",
         [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou", "score"],
                           ["selected"])],
         [("boxes", TensorProto.FLOAT, [1, 1000, 4]), ("scores", TensorProto.FLOAT, [1, 80, 1000])],
         ["selected"], {"max_out": np.array([100], np.int64), "iou": np.array([0.5], np.float32),
                        "score": np.array([1.0], np.float32)}, opset=11)
    save(directory, "unique_4096",
         [helper.make_node("Mul", ["x", "four"], ["scaled"]),
          helper.make_node("Round", ["scaled"], ["rounded"]),
          helper.make_node("Unique", ["rounded"], ["values", "indices", "inverse", "counts"])],
         [("x", TensorProto.FLOAT, [4096])], ["values", "counts"],
         {"four": np.array(4.0, np.float32)}, opset=11)


if __name__ == "__main__":
    main(sys.argv[1])
