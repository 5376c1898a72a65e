#!/usr/bin/env python3
"""ONNX Loops that the execution plan runs (their trip count or condition is known only at run
time) against onnxruntime: run-time trip counts (zero included), while loops on a condition the
body computes, early exits, scan outputs sized by the iterations run, carried values that trade
places, nested loops and outer values read in every iteration and again after the loop. Catfish
compiles and runs each model (with fusion and without on the CPU; with fusion as a CUDA plan on
the emulator).

  control_flow.py --bin-dir build/bin --work-dir /tmp/cf [--cases nested] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.bool_): TensorProto.BOOL}


def info(name, value):
    return helper.make_tensor_value_info(name, ONNX_TYPES[value.dtype], value.shape)


def untyped(name):
    value = helper.make_tensor_value_info(name, TensorProto.UNDEFINED, None)
    value.type.Clear()
    return value


def body(nodes, carried, outputs, constants=None):
    """A Loop body taking (i, cond, carried...) and giving `outputs` (cond first)."""
    inputs = [helper.make_tensor_value_info("i", TensorProto.INT64, []),
              helper.make_tensor_value_info("cond", TensorProto.BOOL, [])]
    inputs += [info(n, v) for n, v in carried.items()]
    return helper.make_graph(
        nodes, "body", inputs, [untyped(n) for n in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in (constants or {}).items()])


def model_of(nodes, feeds, outputs, constants=None):
    graph = helper.make_graph(
        nodes, "control_flow", [info(n, v) for n, v in feeds.items()],
        [untyped(n) for n in outputs],
        initializer=[numpy_helper.from_array(v, n) for n, v in (constants or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)
    return model, feeds, expected


def normal(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def recurrence(trips):
    """h <- tanh((h W + 2x) W), `trips` times (an input): W and 2x (made before the loop and
    read only in it) are read in every iteration, and h0 and x again after the loop (so no step
    may overwrite them in place, nor a later step of the body take their memory)."""
    step = body([helper.make_node("MatMul", ["h", "W"], ["hw"]),
                 helper.make_node("Add", ["hw", "x2"], ["s"]),
                 helper.make_node("MatMul", ["s", "W"], ["t"]),
                 helper.make_node("Tanh", ["t"], ["h_next"]),
                 helper.make_node("Identity", ["cond"], ["cond_out"])],
                {"h": normal((4, 8), 0)}, ["cond_out", "h_next"])
    return model_of([helper.make_node("Neg", ["x"], ["h0"]),
                     helper.make_node("Add", ["x", "x"], ["x2"]),
                     helper.make_node("Loop", ["n", "", "h0"], ["h"], body=step),
                     helper.make_node("Sub", ["h", "x"], ["d"]),
                     helper.make_node("Add", ["d", "h0"], ["y"])],
                    {"x": normal((4, 8), 1), "n": np.array(trips, np.int64)}, ["h", "y"],
                    {"W": normal((8, 8), 2, 0.4)})


def halving(v, max_trips=40, eps=0.01, initial=None):
    """A while loop with a bound: halve v until max |v| <= eps, collecting sum(v) + i per
    iteration (a scan output as long as the iterations run); `initial` feeds the first
    condition as an input."""
    step = body([helper.make_node("Mul", ["v", "half"], ["v_next"]),
                 helper.make_node("Abs", ["v_next"], ["a"]),
                 helper.make_node("ReduceMax", ["a"], ["m"], keepdims=0),
                 helper.make_node("Greater", ["m", "eps"], ["go"]),
                 helper.make_node("ReduceSum", ["v_next"], ["total"], keepdims=0),
                 helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
                 helper.make_node("Add", ["total", "fi"], ["record"])],
                {"v": v}, ["go", "v_next", "record"],
                {"half": np.array(0.5, np.float32), "eps": np.array(eps, np.float32)})
    feeds = {"v": v}
    constants = {"M": np.array(max_trips, np.int64)}
    if initial is None:
        constants["start"] = np.array(True)
    else:
        feeds["start"] = np.array(initial)
    return model_of([helper.make_node("Loop", ["M", "start", "v"], ["v_last", "records"],
                                      body=step)], feeds, ["v_last", "records"], constants)


def until_sum_exceeds(limit):
    """No trip count: add 1.5 to every element until their sum exceeds `limit` (an input)."""
    step = body([helper.make_node("Add", ["x", "step"], ["x_next"]),
                 helper.make_node("ReduceSum", ["x_next"], ["total"], keepdims=0),
                 helper.make_node("Less", ["total", "limit"], ["go"])],
                {"x": np.zeros(3, np.float32)}, ["go", "x_next"],
                {"step": np.array(1.5, np.float32)})
    return model_of([helper.make_node("Less", ["zero", "limit"], ["start"]),
                     helper.make_node("Loop", ["", "start", "x0"], ["x"], body=step)],
                    {"x0": normal((3,), 3), "limit": np.array(limit, np.float32)}, ["x"],
                    {"zero": np.array(0.0, np.float32)})


def trade(trips, yields):
    """Carried (a, b, c) <- `yields` (names from a, b, c and sum = a + b): a body that yields
    carried values as each other's, so the new values must not overwrite the old ones before
    all are read."""
    step = body([helper.make_node("Add", ["a", "b"], ["sum"]),
                 helper.make_node("Identity", ["cond"], ["cond_out"])],
                {n: np.zeros(2, np.float32) for n in "abc"}, ["cond_out"] + yields)
    return model_of([helper.make_node("Loop", ["n", "", "a0", "b0", "c0"], ["a", "b", "c"],
                                      body=step)],
                    {"a0": np.array([0, 1], np.float32), "b0": np.array([1, 2], np.float32),
                     "c0": np.array([5, 7], np.float32), "n": np.array(trips, np.int64)},
                    ["a", "b", "c"])


def nested(outer_trips):
    """A loop in a loop: the inner trip count is the outer iteration number plus one, and the
    inner body reads the outer body's carried value and an outer graph input."""
    inner = body([helper.make_node("Mul", ["acc", "x"], ["scaled"]),
                  helper.make_node("Add", ["scaled", "outer"], ["acc_next"]),
                  helper.make_node("Identity", ["inner_cond"], ["inner_cond_out"])],
                 {"acc": np.zeros(4, np.float32)}, ["inner_cond_out", "acc_next"])
    inner.input[0].name, inner.input[1].name = "j", "inner_cond"
    outer = body([helper.make_node("Add", ["i", "one"], ["count"]),
                  helper.make_node("Loop", ["count", "", "outer"], ["inner_out"], body=inner),
                  helper.make_node("Tanh", ["inner_out"], ["outer_next"]),
                  helper.make_node("Identity", ["cond"], ["cond_out"])],
                 {"outer": np.zeros(4, np.float32)}, ["cond_out", "outer_next"],
                 {"one": np.array(1, np.int64)})
    return model_of([helper.make_node("Loop", ["n", "", "y0"], ["y"], body=outer)],
                    {"x": normal((4,), 4, 0.5), "y0": normal((4,), 5, 0.5),
                     "n": np.array(outer_trips, np.int64)}, ["y"])


def long_count():
    """A constant trip count too large to unroll (5000): the plan runs it."""
    step = body([helper.make_node("Add", ["x", "step"], ["x_next"]),
                 helper.make_node("Identity", ["cond"], ["cond_out"])],
                {"x": np.zeros(2, np.float32)}, ["cond_out", "x_next"],
                {"step": np.array(0.25, np.float32)})
    return model_of([helper.make_node("Loop", ["M", "", "x0"], ["x"], body=step)],
                    {"x0": normal((2,), 6)}, ["x"], {"M": np.array(5000, np.int64)})


CASES = {
    "recurrence_5": lambda: recurrence(5),
    "recurrence_0": lambda: recurrence(0),
    "halving_early_exit": lambda: halving(np.array([3, -1, 0.5, 2], np.float32)),
    "halving_to_bound": lambda: halving(np.array([3, -1, 0.5, 2], np.float32), 6),
    "halving_zero_trips": lambda: halving(np.array([3, -1, 0.5, 2], np.float32), initial=False),
    "halving_run_time_start": lambda: halving(np.array([1, 2, 4, 8], np.float32), initial=True),
    "until_sum_exceeds": lambda: until_sum_exceeds(40.0),
    "until_sum_exceeds_at_once": lambda: until_sum_exceeds(-1.0),
    "fibonacci": lambda: trade(7, ["b", "sum", "c"]),
    "fibonacci_backwards": lambda: trade(7, ["sum", "a", "c"]),
    "rotate": lambda: trade(4, ["c", "a", "b"]),
    "nested": lambda: nested(4),
    "long_count": long_count,
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=1e-5, atol=1e-5))
