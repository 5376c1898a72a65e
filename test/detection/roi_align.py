#!/usr/bin/env python3
"""RoiAlign against onnxruntime: average and max pooling, half_pixel and output_half_pixel
coordinates (opsets 16 and 10), spatial scales, regions reaching past the image and smaller than
a pixel, several images picked by batch index, sampling ratios 1 to 3, f64. Catfish compiles
and runs each model (with fusion and without on the CPU; with fusion as a CUDA plan on the
emulator).

  roi_align.py --bin-dir build/bin --work-dir /tmp/roi [--cases max] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.int64): TensorProto.INT64}


def roi_align(images, regions, batch, opset=16, dtype=np.float32, **attrs):
    rng = np.random.default_rng(images * 10 + regions)
    x = rng.standard_normal((images, 3, 12, 10)).astype(dtype)
    corners = rng.uniform(-3, 14, (regions, 2))
    sizes = rng.uniform(0.3, 8, (regions, 2))
    rois = np.concatenate([corners, corners + sizes], axis=1).astype(dtype)
    feeds = {"x": x, "rois": rois, "batch": np.asarray(batch, np.int64)}
    inputs = [helper.make_tensor_value_info(n, ONNX_TYPES[v.dtype], v.shape)
              for n, v in feeds.items()]
    node = helper.make_node("RoiAlign", ["x", "rois", "batch"], ["y"], **attrs)
    graph = helper.make_graph([node], "roi_align", inputs,
                              [helper.make_tensor_value_info("y", ONNX_TYPES[np.dtype(dtype)],
                                                             None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


CASES = {
    "avg_half_pixel": lambda: roi_align(1, 5, [0] * 5, output_height=4, output_width=3,
                                        sampling_ratio=2),
    "avg_output_half_pixel": lambda: roi_align(
        1, 4, [0] * 4, output_height=5, output_width=5, sampling_ratio=2,
        coordinate_transformation_mode="output_half_pixel"),
    "avg_opset10": lambda: roi_align(2, 3, [1, 0, 1], opset=10, output_height=2,
                                     output_width=4, sampling_ratio=3, spatial_scale=0.5),
    "max_half_pixel": lambda: roi_align(2, 6, [0, 1, 1, 0, 1, 0], mode="max",
                                        output_height=3, output_width=3, sampling_ratio=2),
    "max_ratio_one": lambda: roi_align(1, 4, [0] * 4, mode="max", output_height=6,
                                       output_width=2, sampling_ratio=1,
                                       coordinate_transformation_mode="output_half_pixel"),
    "avg_scaled_f64": lambda: roi_align(3, 4, [2, 0, 1, 2], dtype=np.float64,
                                        output_height=2, output_width=2, sampling_ratio=2,
                                        spatial_scale=0.25),
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-4, atol=1e-5))
