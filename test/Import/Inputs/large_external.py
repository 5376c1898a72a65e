#!/usr/bin/env python3
"""Writes a model whose external data spans 4 GiB in two sparse files (so it takes no disk):
y = x + w1 + w2, with w1 at offset 2.4 GiB of a.bin (past 2^31) and w2 at 1.4 GiB of b.bin,
and two unused 1.2 GiB initializers at the start of each file. Importing it must touch only
w1 and w2 (test/Import/external-data-large.test measures the compiler's peak memory).

  large_external.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

GIB = 1 << 30


def external(name, dims, location, offset, length):
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        tensor.external_data.add(key=key, value=value)
    return tensor


def main(out):
    os.makedirs(out, exist_ok=True)
    w1 = np.arange(16, dtype=np.float32).reshape(4, 4)
    w2 = np.full((4, 4), 0.5, np.float32)
    layout = {"a.bin": (int(2.5 * GIB), int(2.4 * GIB), w1), "b.bin": (int(1.5 * GIB), int(1.4 * GIB), w2)}
    for location, (size, offset, values) in layout.items():
        with open(os.path.join(out, location), "wb") as f:
            f.truncate(size)
            f.seek(offset)
            f.write(values.tobytes())
    big = int(1.2 * GIB) // 4
    initializers = [
        external("w1", [4, 4], "a.bin", layout["a.bin"][1], 64),
        external("w2", [4, 4], "b.bin", layout["b.bin"][1], 64),
        external("unused_a", [big], "a.bin", 0, big * 4),
        external("unused_b", [big], "b.bin", 0, big * 4),
    ]
    nodes = [helper.make_node("Add", ["x", "w1"], ["t"], name="/add1"),
             helper.make_node("Add", ["t", "w2"], ["y"], name="/add2")]
    graph = helper.make_graph(nodes, "large_external",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save_model(model, os.path.join(out, "model.onnx"))
    np.save(os.path.join(out, "x.npy"), np.ones((4, 4), np.float32))
    np.save(os.path.join(out, "expected.npy"), 1 + w1 + w2)


if __name__ == "__main__":
    main(sys.argv[1])
