"""The shipped int8 model reads faces the same on every CPU: fused kernels agree with the exact reference.

ONNX Runtime's fully optimised session fuses the quantised graph into integer kernels picked for the CPU;
the unoptimised session runs each QuantizeLinear/Conv/DequantizeLinear step as written, in float. On AVX2
the fused U8S8 kernels saturate with full 8-bit weights, so these tests fail there for such a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from model.data import load_dataset
from service.vision.kernels import MAX_PROBABILITY_DIFFERENCE, compare, probe_faces

SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "model" / "emotion.onnx"
PUBLICTEST_FACES = 600  # the reference session is slow (about 15 ms a face); 600 faces take seconds
MIN_ARGMAX_AGREEMENT = 0.995


def probabilities(faces: np.ndarray, level: ort.GraphOptimizationLevel) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(str(SHIPPED_MODEL), options, providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: faces[:, None].astype(np.float32)})
    return np.asarray(output)


def assert_fused_kernels_agree_with_the_reference(faces: np.ndarray) -> None:
    check = compare(
        probabilities(faces, ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
        probabilities(faces, ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
        cpu="this CPU",
    )
    assert check.argmax_agreement >= MIN_ARGMAX_AGREEMENT
    assert check.max_probability_difference <= MAX_PROBABILITY_DIFFERENCE


def test_fused_kernels_agree_with_the_reference_on_generated_faces() -> None:
    assert_fused_kernels_agree_with_the_reference(probe_faces(256, (48, 48), seed=7))


def test_fused_kernels_agree_with_the_reference_on_publictest_faces(fer2013: Path) -> None:
    test = load_dataset(fer2013)[0]["test"]
    chosen = np.random.default_rng(0).choice(len(test), PUBLICTEST_FACES, replace=False)
    assert_fused_kernels_agree_with_the_reference(test.images[chosen])


def test_int8_weights_are_reduced_range_so_avx2_kernels_cannot_saturate() -> None:
    # VPMADDUBSW adds two uint8 x int8 products into an int16 (at most 32,767): 2 x 255 x 64 = 32,640
    # fits, 2 x 255 x 127 does not. reduce_range quantises weights to -64..64.
    graph = onnx.load(str(SHIPPED_MODEL)).graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    weights = [
        numpy_helper.to_array(constants[node.input[0]])
        for node in graph.node
        if node.op_type == "DequantizeLinear" and node.input[0] in constants
    ]
    int8_weights = [weight for weight in weights if weight.dtype == np.int8]
    assert int8_weights, "the shipped model is expected to be int8"
    assert all(np.abs(weight.astype(np.int16)).max() <= 64 for weight in int8_weights)
