"""model.temperature: one fitted scalar in the graph that makes confidences honest and changes no answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from model.evaluate import expected_calibration_error
from model.export import export
from model.runtime import onnx_probabilities, open_session
from model.temperature import (
    INVERSE_TEMPERATURE,
    UNTEMPERED,
    cross_fitted_calibration_error,
    fit_inverse_temperature,
    main,
    tempered,
)
from tests.model.support import MakeFaces


def softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def labels_drawn_from(logits: np.ndarray, seed: int) -> np.ndarray:
    """Labels drawn from softmax(logits): a model answering softmax(logits) is calibrated on them."""
    truth = softmax(logits)
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(len(row), p=row) for row in truth])


def test_the_fitted_temperature_undoes_a_known_softening_and_mends_the_calibration_error() -> None:
    logits = np.random.default_rng(0).normal(0, 2.5, (4000, 7))
    labels = labels_drawn_from(logits, seed=1)
    underconfident = softmax(logits * 0.5)  # a model half as sure as it should be

    inverse = fit_inverse_temperature(underconfident, labels)

    assert 1.8 < inverse < 2.2
    mended = tempered(underconfident, inverse)
    assert (mended.argmax(1) == underconfident.argmax(1)).all()
    assert expected_calibration_error(underconfident, labels) > 0.1
    assert expected_calibration_error(mended, labels) < 0.03
    assert cross_fitted_calibration_error(underconfident, labels) < 0.03


def test_an_overconfident_model_is_softened() -> None:
    logits = np.random.default_rng(2).normal(0, 1.5, (4000, 7))
    overconfident = softmax(logits * 3.0)

    assert fit_inverse_temperature(overconfident, labels_drawn_from(logits, seed=3)) < 0.45


def test_tempering_an_export_changes_its_confidences_but_no_answer_and_a_second_run_folds_into_one_node(
    trained_checkpoint: Path, tiny_csv: Path, faces: MakeFaces, tmp_path: Path
) -> None:
    model_path = tmp_path / "emotion.onnx"
    export([trained_checkpoint], model_path, tiny_csv, flip_average=True)
    images, _ = faces(40, 5)
    before = onnx_probabilities(open_session(model_path), images)

    main([str(model_path), "--data", str(tiny_csv)])
    main([str(model_path), "--data", str(tiny_csv)])

    graph = onnx.load(str(model_path)).graph
    assert [node.name for node in graph.node].count("temperature") == 1
    assert [node.output[0] for node in graph.node].count(UNTEMPERED) == 1
    (inverse,) = (onnx.numpy_helper.to_array(t) for t in graph.initializer if t.name == INVERSE_TEMPERATURE)
    after = onnx_probabilities(open_session(model_path), images)
    np.testing.assert_allclose(after, tempered(before, float(inverse)), atol=1e-5)
    assert (after.argmax(1) == before.argmax(1)).all()
    card = json.loads(model_path.with_suffix(".json").read_text())
    assert np.isclose(card["temperature"]["temperature"], 1 / inverse, rtol=1e-5)
    assert card["temperature"]["fitted_on"] == "test" and card["temperature"]["faces"] == 70
    assert card["members"] and card["metrics"]["cpu"]


def test_a_model_without_its_card_is_refused_rather_than_given_a_card_the_service_cannot_read(
    trained_checkpoint: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "emotion.onnx"
    export([trained_checkpoint], model_path, tiny_csv)
    model_path.with_suffix(".json").unlink()

    with pytest.raises(SystemExit, match="card cannot be read"):
        main([str(model_path), "--data", str(tiny_csv)])
    assert not model_path.with_suffix(".json").exists()


def test_a_tempered_copy_can_go_into_a_folder_that_does_not_exist_yet(
    trained_checkpoint: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "emotion.onnx"
    export([trained_checkpoint], model_path, tiny_csv, flip_average=False)
    out_path = tmp_path / "new" / "folder" / "emotion.onnx"

    main([str(model_path), "--data", str(tiny_csv), "--out", str(out_path)])

    assert out_path.is_file() and out_path.with_suffix(".json").is_file()
