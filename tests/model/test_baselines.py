"""model.baselines: the poster's systems train on the training split and land in one results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model.baselines import SYSTEMS, main
from tests.model.support import MakeFaceRows, WriteFerCsv


def test_cheap_systems_are_scored_and_merged_into_the_results_file(tiny_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "baselines.json"
    main(
        [
            "--data",
            str(tiny_csv),
            "--systems",
            "decision_tree",
            "feed_forward",
            "--epochs",
            "2",
            "--out",
            str(out),
        ]
    )
    main(["--data", str(tiny_csv), "--systems", "simple_cnn", "--epochs", "1", "--out", str(out)])

    results = json.loads(out.read_text())
    assert results["split"] == "FER2013 Training -> PublicTest" and len(results["data_sha256"]) == 64
    assert sorted(results["systems"]) == ["decision_tree", "feed_forward", "simple_cnn"]
    assert results["systems"]["feed_forward"]["epochs_run"] == 2
    assert len(results["systems"]["feed_forward"]["accuracy_by_epoch"]) == 2
    assert results["systems"]["simple_cnn"]["epochs_run"] == 1
    assert "epochs_run" not in results["systems"]["decision_tree"]
    for name, result in results["systems"].items():
        assert 0 <= result["accuracy"] <= 1
        assert result["poster_accuracy"] == SYSTEMS[name].poster_accuracy


def test_decision_tree_learns_the_synthetic_bars(tiny_csv: Path, tmp_path: Path) -> None:
    # Each synthetic emotion has its own bright bar, so even a single tree should beat chance (1 in 7) easily.
    main(["--data", str(tiny_csv), "--systems", "decision_tree", "--out", str(tmp_path / "r.json")])

    assert json.loads((tmp_path / "r.json").read_text())["systems"]["decision_tree"]["accuracy"] > 0.5


@pytest.mark.parametrize("name", [name for name, system in SYSTEMS.items() if system.build])
def test_each_net_maps_a_batch_of_faces_to_seven_scores(name: str) -> None:
    build = SYSTEMS[name].build
    assert build is not None  # only the systems that are nets are parametrised
    net = build().eval()

    assert net(torch.rand(3, 1, 48, 48)).shape == (3, 7)


def test_data_without_a_test_split_is_refused(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit, match="needs a training and a test split"):
        main(["--data", str(fer_csv(face_rows(10, 0))), "--out", str(tmp_path / "r.json")])
