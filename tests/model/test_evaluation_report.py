"""model.evaluate: the scores, the report's shape, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.data import EMOTIONS
from model.evaluate import evaluate, expected_calibration_error, main, score
from tests.model.support import MakeFaces, write_face_folder


def one_hot(indices: list[int], confidence: float = 1.0) -> np.ndarray:
    probabilities = np.full((len(indices), 7), (1 - confidence) / 6)
    probabilities[np.arange(len(indices)), indices] = confidence
    return probabilities


def test_scores_match_a_hand_worked_example() -> None:
    labels = np.array([0, 0, 3, 3, 3, 6])
    predicted = [0, 3, 3, 3, 6, 6]

    report = score(one_hot(predicted), labels)

    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["angry"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert report["per_class"]["happy"]["precision"] == pytest.approx(2 / 3)
    assert report["per_class"]["happy"]["recall"] == pytest.approx(2 / 3)
    assert report["per_class"]["neutral"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
        "support": 1,
    }
    assert report["per_class"]["fear"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 2 / 3) / 7)
    counts = np.array(report["confusion_matrix"]["counts_true_by_predicted"])
    assert counts[0, 0] == 1 and counts[0, 3] == 1 and counts[3, 6] == 1 and counts.sum() == 6


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_grows_with_overconfidence() -> None:
    labels = np.array([0, 1, 2, 3])
    assert expected_calibration_error(one_hot([0, 1, 2, 3]), labels) == pytest.approx(0)
    # Always 90 % sure, right half the time: 0.4 too confident.
    assert expected_calibration_error(one_hot([0, 1, 0, 0], 0.9), labels) == pytest.approx(0.4)


def test_report_has_every_score_and_the_confusion_matrix_files(
    exported_model: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    main([str(exported_model), str(tiny_csv), "--out", str(tmp_path)])

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["split"] == "test" and report["faces"] == 70 and len(report["model_sha256"]) == 64
    for key in ("accuracy", "macro_f1", "expected_calibration_error", "mean_confidence"):
        assert 0 <= report[key] <= 1
    assert list(report["per_class"]) == list(EMOTIONS)
    assert all(set(row) == {"precision", "recall", "f1", "support"} for row in report["per_class"].values())
    confusion = json.loads((tmp_path / "confusion.json").read_text())
    counts = np.array(confusion["counts_true_by_predicted"])
    assert confusion["labels"] == list(EMOTIONS) and counts.shape == (7, 7) and counts.sum() == 70
    assert np.trace(counts) / 70 == pytest.approx(report["accuracy"])
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_image_folder_can_be_scored(exported_model: Path, tmp_path: Path, faces: MakeFaces) -> None:
    images, labels = faces(14, 5)
    write_face_folder(tmp_path / "faces", images, labels, split="test", suffix=".jpg")

    report = evaluate(exported_model, tmp_path / "faces", split="test")

    assert report["faces"] == 14 and report["data_sha256"] is None


def test_missing_split_is_refused_naming_the_splits_there(
    exported_model: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit, match=r"no split 'private'; it has \['test', 'train'\]"):
        main([str(exported_model), str(tiny_csv), "--split", "private", "--out", str(tmp_path)])


def test_missing_model_and_missing_data_are_refused(exported_model: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such model file"):
        main([str(tmp_path / "none.onnx"), str(tmp_path)])
    with pytest.raises(SystemExit, match="no such file or folder"):
        main([str(exported_model), str(tmp_path / "none.csv")])


def test_a_file_that_is_not_onnx_is_refused(tiny_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "fake.onnx").write_bytes(b"not a model")

    with pytest.raises(SystemExit, match="ONNX Runtime cannot load it"):
        main([str(tmp_path / "fake.onnx"), str(tiny_csv), "--out", str(tmp_path)])


@pytest.mark.parametrize("card_text", ["{", '["angry"]'])
def test_a_model_whose_card_is_broken_is_refused_saying_so(
    exported_model: Path, tiny_csv: Path, tmp_path: Path, card_text: str
) -> None:
    model_path = tmp_path / "broken-card.onnx"
    model_path.write_bytes(exported_model.read_bytes())
    model_path.with_suffix(".json").write_text(card_text)

    with pytest.raises(
        SystemExit, match="broken-card.json: (not a readable JSON card|a card is a JSON object)"
    ):
        main([str(model_path), str(tiny_csv), "--out", str(tmp_path)])


def test_a_model_whose_card_orders_labels_differently_is_refused(
    exported_model: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "shuffled.onnx"
    model_path.write_bytes(exported_model.read_bytes())
    model_path.with_suffix(".json").write_text(json.dumps({"labels": sorted(EMOTIONS)}))

    with pytest.raises(SystemExit, match="not in the order"):
        main([str(model_path), str(tiny_csv), "--out", str(tmp_path)])
