"""The load-time check of ONNX Runtime's fused int8 kernels against the exact reference, and its fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from model.cpu import cpu_features, cpu_model_name
from model.labels import EMOTIONS
from service.vision.classifier import EmotionClassifier
from service.vision.kernels import MAX_PROBABILITY_DIFFERENCE, compare, probe_faces
from tests.support import write_overflowing_int8_model

WHITE_FACE = np.full((1, 48, 48), 255, np.uint8)


@pytest.fixture(scope="module")
def overflowing_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_overflowing_int8_model(tmp_path_factory.mktemp("overflowing"))


def test_a_model_whose_kernels_agree_is_served_by_the_optimised_session(tiny_model: Path) -> None:
    classifier = EmotionClassifier(tiny_model, tiny_model.with_name("emotion.json"))

    assert classifier.kernel_check.exact and classifier.kernel_check.path == "optimised"
    assert classifier.kernel_check.max_probability_difference <= MAX_PROBABILITY_DIFFERENCE


def test_a_mis_quantised_model_falls_back_to_the_exact_reference_with_a_warning_naming_the_cpu(
    overflowing_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="service.vision.classifier"):
        classifier = EmotionClassifier(overflowing_model, overflowing_model.with_name("emotion.json"))

    assert classifier.kernel_check.path == "reference"
    assert classifier.kernel_check.max_probability_difference > MAX_PROBABILITY_DIFFERENCE
    (warning,) = [record.getMessage() for record in caplog.records]
    assert "disagree" in warning and classifier.kernel_check.cpu in warning and "reference" in warning
    # The reference computes what the model says: a white face is happy (logit 10 against 0).
    probabilities = classifier.classify(WHITE_FACE)[0]
    assert EMOTIONS[int(probabilities.argmax())] == "happy" and probabilities.max() > 0.99


def test_probe_faces_are_generated_the_same_each_time_and_span_the_grey_range() -> None:
    faces = probe_faces(16, (48, 48))

    assert faces.shape == (16, 48, 48) and faces.dtype == np.uint8
    assert np.array_equal(faces, probe_faces(16, (48, 48)))
    assert faces.min() < 30 and faces.max() > 225
    assert len({face.tobytes() for face in faces}) == 16


def test_cpu_features_are_read_from_the_flags_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni\n\nprocessor\t: 1\n")

    assert cpu_features(cpuinfo) == ("avx2", "avx512f", "avx512_vnni")
    assert cpu_features(tmp_path / "absent") == ()


def test_compare_counts_argmax_agreement_and_the_largest_difference() -> None:
    reference = np.array([[0.9, 0.1], [0.4, 0.6]], np.float32)
    optimised = np.array([[0.89, 0.11], [0.7, 0.3]], np.float32)

    check = compare(optimised, reference, "x86_64 (avx2)")

    assert check.argmax_agreement == 0.5
    assert check.max_probability_difference == pytest.approx(0.3)
    assert not check.exact and check.path == "reference"


def test_cpu_model_name_is_the_first_cores_and_none_without_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R45\nflags\t: avx2\n\nmodel name\t: B\n")

    assert cpu_model_name(cpuinfo) == "AMD EPYC 9R45"
    assert cpu_model_name(tmp_path / "absent") is None
