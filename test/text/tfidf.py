#!/usr/bin/env python3
"""TfIdfVectorizer against onnxruntime: TF, IDF and TFIDF modes with and without weights,
unigrams to trigrams, skip counts 0 to 3, n-gram sizes outside [min_gram_length,
max_gram_length] in the pool, output positions shared by several n-grams, int32 and int64
input, one row and a batch. Catfish compiles and runs each model (with fusion and without on the
CPU; with fusion as a CUDA plan on the emulator).

  tfidf.py --bin-dir build/bin --work-dir /tmp/tfidf [--cases idf] [--device cpu]
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from catfish_tools import run_cases

# Unigrams 2, 3, 5; bigrams (4, 5), (5, 6), (7, 8), (6, 7); trigrams (5, 6, 7), (2, 2, 3).
POOL = [2, 3, 5, 4, 5, 5, 6, 7, 8, 6, 7, 5, 6, 7, 2, 2, 3]
COUNTS = [0, 3, 11]


def tfidf(shape, dtype=np.int64, seed=0, indexes=None, pool=POOL, counts=COUNTS, **attrs):
    x = np.random.default_rng(seed).integers(2, 9, shape).astype(dtype)
    grams = 3 + 4 + 2
    attrs.setdefault("ngram_indexes", indexes or list(range(grams)))
    node = helper.make_node("TfIdfVectorizer", ["x"], ["y"], pool_int64s=pool,
                            ngram_counts=counts, **attrs)
    elem = TensorProto.INT64 if dtype == np.int64 else TensorProto.INT32
    graph = helper.make_graph([node], "tfidf", [helper.make_tensor_value_info("x", elem, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], ir_version=8)
    expected = ort.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, {"x": x})
    return model, {"x": x}, expected


WEIGHTS = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
CASES = {
    "tf_bigrams": lambda: tfidf([2, 16], mode="TF", min_gram_length=2, max_gram_length=2,
                                max_skip_count=0),
    "tf_uni_to_trigrams_skip3": lambda: tfidf([3, 20], seed=1, mode="TF", min_gram_length=1,
                                              max_gram_length=3, max_skip_count=3),
    "tf_trigrams_only_1d": lambda: tfidf([30], seed=2, mode="TF", min_gram_length=3,
                                         max_gram_length=3, max_skip_count=2),
    "idf_unweighted": lambda: tfidf([2, 12], seed=3, mode="IDF", min_gram_length=1,
                                    max_gram_length=2, max_skip_count=1),
    "idf_weighted_int32": lambda: tfidf([4, 10], dtype=np.int32, seed=4, mode="IDF",
                                        min_gram_length=1, max_gram_length=3,
                                        max_skip_count=2, weights=WEIGHTS),
    "tfidf_weighted": lambda: tfidf([2, 25], seed=5, mode="TFIDF", min_gram_length=2,
                                    max_gram_length=3, max_skip_count=4, weights=WEIGHTS),
    "tf_shared_outputs": lambda: tfidf([2, 18], seed=6, mode="TF", min_gram_length=1,
                                       max_gram_length=2, max_skip_count=1,
                                       indexes=[0, 1, 0, 2, 2, 3, 1, 4, 4]),
    "tf_short_rows": lambda: tfidf([2, 3], seed=7, mode="TF", min_gram_length=2,
                                   max_gram_length=3, max_skip_count=5),
    "tfidf_weighted_shared_outputs": lambda: tfidf(
        [3, 14], seed=8, mode="TFIDF", min_gram_length=1, max_gram_length=2, max_skip_count=2,
        indexes=[0, 1, 0, 2, 2, 3, 1, 4, 4], weights=WEIGHTS),
    # A pool value beyond int32 never matches an int32 input (no truncation to 1).
    "tf_int32_wide_pool": lambda: tfidf([2, 9], dtype=np.int32, seed=9, mode="TF",
                                        min_gram_length=1, max_gram_length=1,
                                        max_skip_count=0, pool=[4294967298, 3, 5], counts=[0],
                                        indexes=[0, 1, 2]),
}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, rtol=0, atol=0))
