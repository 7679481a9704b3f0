"""The shipped int8 model reads faces the same on every CPU: fused kernels agree with the exact reference.

ONNX Runtime's fully optimised session fuses the quantised graph into integer kernels picked for the CPU;
the unoptimised session runs each QuantizeLinear/Conv/DequantizeLinear step as written, in float. On AVX2
the fused U8S8 kernels saturate with full 8-bit weights, so these tests fail there for such a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from model.data import load_dataset
from model.runtime import open_session
from service.vision.kernels import MAX_PROBABILITY_DIFFERENCE, compare, probe_faces
from tests.model.support import int8_weight_ranges

PUBLICTEST_FACES = 600  # the reference session is slow (about 15 ms a face); 600 faces take seconds
MIN_ARGMAX_AGREEMENT = 0.995


def probabilities(model_path: Path, faces: np.ndarray, level: ort.GraphOptimizationLevel) -> np.ndarray:
    session = open_session(model_path, level=level)
    (output,) = session.run(None, {session.get_inputs()[0].name: faces[:, None].astype(np.float32)})
    return np.asarray(output)


def assert_fused_kernels_agree_with_the_reference(model_path: Path, faces: np.ndarray) -> None:
    check = compare(
        probabilities(model_path, faces, ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
        probabilities(model_path, faces, ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
        cpu="this CPU",
    )
    assert check.argmax_agreement >= MIN_ARGMAX_AGREEMENT
    assert check.max_probability_difference <= MAX_PROBABILITY_DIFFERENCE


def test_fused_kernels_agree_with_the_reference_on_generated_faces(shipped_model: Path) -> None:
    assert_fused_kernels_agree_with_the_reference(shipped_model, probe_faces(256, (48, 48), seed=7))


def test_fused_kernels_agree_with_the_reference_on_publictest_faces(
    shipped_model: Path, fer2013: Path
) -> None:
    test = load_dataset(fer2013)[0]["test"]
    chosen = np.random.default_rng(0).choice(len(test), PUBLICTEST_FACES, replace=False)
    assert_fused_kernels_agree_with_the_reference(shipped_model, test.images[chosen])


def test_int8_weights_are_reduced_range_so_avx2_kernels_cannot_saturate(shipped_model: Path) -> None:
    # VPMADDUBSW adds two uint8 x int8 products into an int16 (at most 32,767): 2 x 255 x 64 = 32,640
    # fits, 2 x 255 x 127 does not. reduce_range quantises weights to -64..64.
    ranges = int8_weight_ranges(shipped_model)
    assert ranges, "the shipped model is expected to be int8"
    assert max(ranges) <= 64
