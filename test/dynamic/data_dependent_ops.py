#!/usr/bin/env python3
"""Outputs whose size depends on the data (NonZero, Compress, Unique, NonMaxSuppression, TopK with
a run-time k, Range over bounds computed from the data) against
onnxruntime: each output must come back with onnxruntime's run-time shape and values, also when
the data selects nothing or everything, and when such a value goes on through the ops that take
it (Transpose, GatherND, Gather, Cast, elementwise ops, Squeeze, Unsqueeze) as torch.nonzero,
masked_select and torchvision's batched_nms write them. Catfish compiles and runs each model
(with fusion and without on the CPU; with fusion as a CUDA plan on the emulator).

  data_dependent_ops.py --bin-dir build/bin --work-dir /tmp/dd [--cases nms] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL,
              np.dtype(np.int8): TensorProto.INT8}


def model_of(nodes, feeds, outputs, constants=None, opset=13):
    inputs = [helper.make_tensor_value_info(n, ONNX_TYPES[v.dtype], v.shape)
              for n, v in feeds.items()]
    initializers = [numpy_helper.from_array(v, n) for n, v in (constants or {}).items()]
    graph = helper.make_graph(
        nodes, "data_dependent", inputs,
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs],
        initializer=initializers)
    for value in graph.output:
        value.type.Clear()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


def rng(seed):
    return np.random.default_rng(seed)


def sparse(shape, density, seed, dtype=np.float32):
    r = rng(seed)
    return (r.standard_normal(shape) * (r.random(shape) < density)).astype(dtype)


def nonzero(x):
    return model_of([helper.make_node("NonZero", ["x"], ["y"])], {"x": x}, ["y"])


def compress(x, condition, axis=None, constant=False):
    attrs = {} if axis is None else {"axis": axis}
    feeds = {"x": x} if constant else {"x": x, "c": condition}
    return model_of([helper.make_node("Compress", ["x", "c"], ["y"], **attrs)], feeds, ["y"],
                    constants={"c": condition} if constant else None)


def unique(x, axis=None, is_sorted=1):
    attrs = {"sorted": is_sorted}
    if axis is not None:
        attrs["axis"] = axis
    return model_of([helper.make_node("Unique", ["x"], ["y", "indices", "inverse", "counts"],
                                      **attrs)],
                    {"x": x}, ["y", "indices", "inverse", "counts"], opset=11)


def boxes_and_scores(batches, classes, n, seed, center=False):
    r = rng(seed)
    corner = r.uniform(0, 10, (batches, n, 2)).astype(np.float32)
    size = r.uniform(0.5, 4, (batches, n, 2)).astype(np.float32)
    if center:
        boxes = np.concatenate([corner, size], axis=2)
    else:  # [y1, x1, y2, x2], some with the corners swapped
        boxes = np.concatenate([corner, corner + size], axis=2)
        swap = r.random((batches, n)) < 0.3
        boxes[swap] = boxes[swap][:, [2, 3, 0, 1]]
    scores = r.random((batches, classes, n)).astype(np.float32)
    return boxes, scores


def nms(batches, classes, n, seed, max_out=3, iou=0.5, score=None, center=False,
        max_out_input=False, ties=False):
    boxes, scores = boxes_and_scores(batches, classes, n, seed, center)
    if ties:  # a few distinct scores: the order among equal ones decides what is kept
        scores = np.round(scores * 3) / 3
    feeds = {"boxes": boxes, "scores": scores}
    constants = {"iou": np.array([iou], np.float32)}
    inputs = ["boxes", "scores", "max_out", "iou"]
    if max_out_input:
        feeds["max_out"] = np.array([max_out], np.int64)
    else:
        constants["max_out"] = np.array([max_out], np.int64)
    if score is not None:
        constants["score"] = np.array([score], np.float32)
        inputs.append("score")
    node = helper.make_node("NonMaxSuppression", inputs, ["selected"],
                            center_point_box=int(center))
    return model_of([node], feeds, ["selected"], constants=constants, opset=11)


def nonzero_gather_nd(x):
    """torch's x[mask] for a 2-D mask: NonZero -> Transpose -> GatherND."""
    nodes = [helper.make_node("Greater", ["x", "zero"], ["mask"]),
             helper.make_node("NonZero", ["mask"], ["nz"]),
             helper.make_node("Transpose", ["nz"], ["idx"], perm=[1, 0]),
             helper.make_node("GatherND", ["x", "idx"], ["picked"]),
             helper.make_node("Mul", ["picked", "two"], ["y"]),
             helper.make_node("Cast", ["idx"], ["idx32"], to=TensorProto.INT32)]
    return model_of(nodes, {"x": x}, ["y", "idx32"],
                    constants={"zero": np.array(0.25, np.float32),
                               "two": np.array([2.0], np.float32)})


def nonzero_gather(x, table):
    """Rows of a table picked by the nonzero positions of a 1-D input (Squeeze, Gather)."""
    nodes = [helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("Squeeze", ["nz", "axes"], ["idx"]),
             helper.make_node("Gather", ["table", "idx"], ["rows"], axis=0),
             helper.make_node("Unsqueeze", ["rows", "axes"], ["y"]),
             helper.make_node("Relu", ["y"], ["z"])]
    return model_of(nodes, {"x": x}, ["z"],
                    constants={"axes": np.array([0], np.int64), "table": table})


def batched_nms_select(batches, classes, n, seed):
    """torchvision's batched_nms tail: the selected rows' box indices gather the boxes."""
    boxes, scores = boxes_and_scores(batches, classes, n, seed)
    nodes = [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou"],
                              ["selected"]),
             helper.make_node("Gather", ["selected", "two"], ["box_index"], axis=1),
             helper.make_node("Gather", ["flat", "box_index"], ["picked"], axis=0)]
    return model_of(nodes, {"boxes": boxes, "scores": scores, "flat": boxes[0]},
                    ["picked", "box_index"],
                    constants={"max_out": np.array([4], np.int64),
                               "iou": np.array([0.3], np.float32),
                               "two": np.array(2, np.int64)}, opset=11)


def topk_runtime_k(x, k, axis=-1, largest=1):
    """TopK whose k is a graph input (MoE routing computes it): outputs of run-time size along
    the axis, the values also gathered by their indices."""
    nodes = [helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=axis,
                              largest=largest),
             helper.make_node("GatherElements", ["x", "indices"], ["again"], axis=axis)]
    return model_of(nodes, {"x": x, "k": np.array([k], np.int64)}, ["values", "indices", "again"],
                    opset=11)


def unique_then_divide(x):
    """Integer Div and Mod by Unique's values: the padding past the distinct count is zeros,
    which must not trap."""
    nodes = [helper.make_node("Unique", ["x"], ["u"]),
             helper.make_node("Div", ["n", "u"], ["q"]),
             helper.make_node("Mod", ["n", "u"], ["r"])]
    return model_of(nodes, {"x": x}, ["q", "r"], constants={"n": np.array(105, np.int64)},
                    opset=11)


def castlike_to_bounded(x):
    """CastLike takes only the element type of its second input, however it is shaped."""
    nodes = [helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("CastLike", ["nz", "like"], ["a"]),
             helper.make_node("CastLike", ["y", "nz"], ["b"])]
    return model_of(nodes, {"x": x}, ["a", "b"],
                    constants={"like": np.zeros((4, 1), np.float32),
                               "y": np.array([[1.5, -2.5, 3.0]], np.float32)}, opset=15)


def unique_nan():
    """Unique orders NaN after every number and merges NaNs, as numpy does; onnxruntime 1.22
    merges NaN into a number, so numpy is the reference here."""
    x = np.array([1.0, np.nan, 2.0, 1.0, np.nan, -3.0], np.float32)
    values, indices, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                                 return_counts=True)
    node = helper.make_node("Unique", ["x"], ["y", "indices", "inverse", "counts"])
    graph = helper.make_graph(
        [node], "unique_nan", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None)
         for n in ("y", "indices", "inverse", "counts")])
    for value in graph.output:
        value.type.Clear()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=8)
    return model, {"x": x}, [values, indices.astype(np.int64), inverse.astype(np.int64),
                             counts.astype(np.int64)]


def routed_ranges(logits, expert, float_range=False):
    """Token routing as MoE layers write it: each token's expert (ArgMax), the tokens per
    expert (one-hot by Equal, summed) and their offsets (CumSum); then Range over one expert's
    slots, from its offset to the next, and Range(0, its count). Their lengths are known only
    at run time, bounded by the token count. `float_range`: the count cast to float and a float
    step, as arange over float bounds does."""
    experts = logits.shape[1]
    nodes = [helper.make_node("ArgMax", ["logits"], ["choice"], axis=1, keepdims=1),
             helper.make_node("Equal", ["choice", "ids"], ["hot"]),
             helper.make_node("Cast", ["hot"], ["hot_i64"], to=TensorProto.INT64),
             helper.make_node("ReduceSum", ["hot_i64", "axis0"], ["counts"], keepdims=0),
             helper.make_node("CumSum", ["counts", "zero"], ["ends"]),
             helper.make_node("Sub", ["ends", "counts"], ["begins"]),
             helper.make_node("Gather", ["begins", "which"], ["begin"]),
             helper.make_node("Gather", ["ends", "which"], ["end"]),
             helper.make_node("Gather", ["counts", "which"], ["count"]),
             helper.make_node("Range", ["begin", "end", "one"], ["slots"])]
    constants = {"ids": np.arange(experts, dtype=np.int64)[None, :],
                 "axis0": np.array([0], np.int64), "zero": np.array(0, np.int64),
                 "which": np.array(expert, np.int64), "one": np.array(1, np.int64)}
    outputs = ["counts", "slots"]
    if float_range:
        nodes += [helper.make_node("Cast", ["count"], ["count_f"], to=TensorProto.FLOAT),
                  helper.make_node("Range", ["half", "count_f", "step"], ["positions"])]
        constants.update(half=np.array(0.5, np.float32), step=np.array(0.75, np.float32))
        outputs.append("positions")
    else:
        nodes += [helper.make_node("Range", ["zero", "count", "one"], ["positions"]),
                  helper.make_node("Mul", ["positions", "two"], ["doubled"])]
        constants["two"] = np.array(2, np.int64)
        outputs += ["positions", "doubled"]
    return model_of(nodes, {"logits": logits}, outputs, constants)


CASES = {
    "nonzero_1d": lambda: nonzero(sparse((37,), 0.3, 1)),
    "nonzero_3d": lambda: nonzero(sparse((3, 4, 5), 0.4, 2)),
    "nonzero_int": lambda: nonzero(rng(3).integers(-1, 2, (6, 7)).astype(np.int32)),
    "nonzero_bool": lambda: nonzero(rng(4).random((5, 9)) < 0.5),
    "nonzero_none": lambda: nonzero(np.zeros((4, 3), np.float32)),
    "nonzero_all": lambda: nonzero(np.ones((2, 3, 2), np.float32)),
    "nonzero_scalar": lambda: nonzero(np.array(3.0, np.float32)),
    "compress_axis0": lambda: compress(sparse((6, 4), 1, 5), rng(6).random(6) < 0.5, axis=0),
    "compress_axis1": lambda: compress(sparse((3, 5, 2), 1, 7), rng(8).random(5) < 0.5, axis=1),
    "compress_flat": lambda: compress(sparse((3, 4), 1, 9), rng(10).random(12) < 0.5),
    "compress_short_condition": lambda: compress(sparse((7, 2), 1, 11),
                                                 np.array([1, 0, 1], bool), axis=0),
    "compress_none": lambda: compress(sparse((4, 3), 1, 12), np.zeros(4, bool), axis=0),
    "compress_constant_condition": lambda: compress(sparse((5, 3), 1, 13),
                                                    np.array([0, 1, 1, 0, 1], bool), axis=0,
                                                    constant=True),
    "unique_sorted_flat": lambda: unique(rng(14).integers(0, 6, (4, 5)).astype(np.float32)),
    "unique_unsorted_flat": lambda: unique(rng(15).integers(0, 6, (17,)).astype(np.int64),
                                           is_sorted=0),
    "unique_sorted_axis0": lambda: unique(rng(16).integers(0, 2, (8, 3)).astype(np.float32),
                                          axis=0),
    "unique_unsorted_axis1": lambda: unique(rng(17).integers(0, 2, (2, 9)).astype(np.int64),
                                            axis=1, is_sorted=0),
    "unique_negative_axis_3d": lambda: unique(rng(18).integers(0, 2, (2, 6, 2)).astype(
        np.float32), axis=-2),
    "unique_int8": lambda: unique(rng(19).integers(-128, 128, (40,)).astype(np.int8)),
    "unique_one": lambda: unique(np.array([2.5], np.float32)),
    "unique_many_unsorted": lambda: unique(rng(39).integers(-50, 50, (600,)).astype(np.int64),
                                           is_sorted=0),
    "unique_rows_sorted": lambda: unique(rng(40).integers(0, 3, (150, 3)).astype(np.float32),
                                         axis=0),
    "nms_corners": lambda: nms(1, 1, 12, 20),
    "nms_center": lambda: nms(1, 1, 12, 21, center=True),
    "nms_batches_classes": lambda: nms(2, 3, 15, 22, max_out=4, iou=0.3),
    "nms_score_threshold": lambda: nms(2, 2, 20, 23, max_out=10, iou=0.4, score=0.5),
    "nms_all_kept": lambda: nms(1, 2, 8, 24, max_out=100, iou=1.0),
    "nms_none_kept": lambda: nms(1, 2, 8, 25, score=2.0),
    "nms_zero_max": lambda: nms(1, 2, 8, 26, max_out=0),
    "nms_max_out_input": lambda: nms(2, 2, 10, 27, max_out=2, max_out_input=True),
    "nms_ties": lambda: nms(1, 2, 40, 37, max_out=20, iou=0.3, ties=True),
    "nms_many_boxes": lambda: nms(1, 3, 300, 38, max_out=50, iou=0.5, score=0.2),
    "nonzero_gather_nd": lambda: nonzero_gather_nd(
        rng(28).standard_normal((5, 6)).astype(np.float32)),
    "nonzero_gather": lambda: nonzero_gather(
        (rng(29).random(9) < 0.4).astype(np.float32),
        rng(30).standard_normal((9, 3)).astype(np.float32)),
    "batched_nms_select": lambda: batched_nms_select(1, 2, 10, 31),
    "unique_then_divide": lambda: unique_then_divide(np.array([5, 3, 5, 7, -4, 3], np.int64)),
    "castlike_to_bounded": lambda: castlike_to_bounded(sparse((2, 3), 0.5, 32)),
    "unique_nan": unique_nan,
    "topk_runtime_k": lambda: topk_runtime_k(rng(33).standard_normal((3, 10)).astype(np.float32), 4),
    "topk_runtime_k_axis0_smallest": lambda: topk_runtime_k(
        rng(34).standard_normal((12, 2)).astype(np.float32), 5, axis=0, largest=0),
    "topk_runtime_k_zero": lambda: topk_runtime_k(rng(35).standard_normal((2, 6)).astype(np.float32), 0),
    "topk_runtime_k_all": lambda: topk_runtime_k(rng(36).standard_normal((2, 6)).astype(np.float32), 6),
    "routed_ranges": lambda: routed_ranges(rng(41).standard_normal((9, 4)).astype(np.float32), 2),
    "routed_ranges_empty": lambda: routed_ranges(
        np.tile(np.array([[1, 0, 0, 0]], np.float32), (5, 1)), 3),
    "routed_ranges_float": lambda: routed_ranges(
        rng(42).standard_normal((11, 3)).astype(np.float32), 1, float_range=True),
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-6, atol=1e-6))
