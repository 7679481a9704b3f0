"""model.export: the ONNX file and card the service relies on, on a fresh export and on the shipped one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from model.checkpoints import load_checkpoint
from model.data import EMOTIONS, load_dataset
from model.export import MAX_MODEL_BYTES, export, export_onnx, main
from model.net import ProbabilityModel, ResidualBlock
from model.runtime import onnx_probabilities, open_session
from tests.model.support import MakeFaceRows, TrainOneEpoch, WriteFerCsv


def assert_honours_contract(model_path: Path) -> None:
    """One float32 input [N, 1, 48, 48] of raw grey levels, one output [N, 7] of probabilities, a card."""
    graph = onnx.load(str(model_path), load_external_data=False).graph
    assert not any(tensor.data_location == onnx.TensorProto.EXTERNAL for tensor in graph.initializer)
    assert model_path.stat().st_size <= MAX_MODEL_BYTES

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    (model_input,), (model_output,) = session.get_inputs(), session.get_outputs()
    assert model_input.type == "tensor(float)"
    assert isinstance(model_input.shape[0], str) and model_input.shape[1:] == [1, 48, 48]
    assert model_output.shape[1] == len(EMOTIONS)
    for batch in (1, 5):
        grey_levels = np.random.default_rng(batch).uniform(0, 255, (batch, 1, 48, 48)).astype(np.float32)
        (probabilities,) = session.run(None, {model_input.name: grey_levels})
        assert probabilities.shape == (batch, 7)
        assert (probabilities >= 0).all()
        np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)

    card = json.loads(model_path.with_suffix(".json").read_text())
    assert card["labels"] == list(EMOTIONS)
    assert card["input_size"] == [48, 48]
    assert 0 <= card["metrics"]["accuracy"] <= 1 and card["metrics"]["split"] == "test"
    assert len(card["data_sha256"]) == 64 and card["members"]
    for member in card["members"]:
        assert len(member["commit"]) == 40 and member["config"]["widths"]
        assert member["training"]["epochs"] >= 1 and member["training"]["hardware"]
    assert isinstance(card["flip_average"], bool) and "int8" in card


def test_fresh_export_honours_the_contract(exported_model: Path) -> None:
    assert_honours_contract(exported_model)


def test_shipped_model_honours_the_contract(shipped_model: Path) -> None:
    assert_honours_contract(shipped_model)


def onnx_difference_from_torch(checkpoint: Path, flip_average: bool, model_path: Path) -> float:
    """The largest difference between the checkpoint's probabilities in PyTorch and in its fp32 export."""
    net, _ = load_checkpoint(checkpoint)
    model = ProbabilityModel([net], flip_average).eval()
    export_onnx(model, model_path)
    grey_levels = np.random.default_rng(7).uniform(0, 255, (16, 1, 48, 48)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(grey_levels)).numpy()
    actual = onnx_probabilities(open_session(model_path), grey_levels[:, 0])
    return float(np.abs(actual - expected).max())


@pytest.mark.parametrize("flip_average", [False, True])
def test_onnx_runtime_matches_pytorch_on_the_same_batch(
    trained_checkpoint: Path, tmp_path: Path, flip_average: bool
) -> None:
    assert onnx_difference_from_torch(trained_checkpoint, flip_average, tmp_path / "model.onnx") < 1e-4


def test_flip_averaged_model_scores_a_face_and_its_mirror_alike(
    trained_checkpoint: Path, tmp_path: Path
) -> None:
    net, _ = load_checkpoint(trained_checkpoint)
    export_onnx(ProbabilityModel([net], flip_average=True), tmp_path / "flip.onnx")
    faces = np.random.default_rng(3).uniform(0, 255, (4, 48, 48)).astype(np.float32)
    session = open_session(tmp_path / "flip.onnx")

    np.testing.assert_allclose(
        onnx_probabilities(session, faces), onnx_probabilities(session, faces[:, :, ::-1]), atol=1e-5
    )


def test_card_accuracy_is_measured_by_running_the_exported_file(exported_model: Path, tiny_csv: Path) -> None:
    card = json.loads(exported_model.with_suffix(".json").read_text())
    test = load_dataset(tiny_csv)[0]["test"]

    predicted = onnx_probabilities(open_session(exported_model), test.images).argmax(axis=1)

    assert card["metrics"]["accuracy"] == pytest.approx((predicted == test.labels).mean())
    assert card["metrics"]["faces"] == len(test)


def test_int8_export_is_smaller_and_records_its_accuracy_change(
    trained_checkpoint: Path, tiny_csv: Path, tmp_path: Path, exported_model: Path
) -> None:
    card = export(
        [trained_checkpoint], tmp_path / "int8.onnx", tiny_csv, flip_average=True, int8_calibration=32
    )

    assert_honours_contract(tmp_path / "int8.onnx")
    assert card["flip_average"] is True
    assert card["int8"]["calibration_faces"] == 32
    assert card["int8"]["accuracy_delta"] == pytest.approx(
        card["metrics"]["accuracy"] - card["int8"]["fp32_accuracy"]
    )
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    assert any(tensor.data_type == onnx.TensorProto.INT8 for tensor in graph.initializer)
    assert card["bytes"] < exported_model.stat().st_size


def test_an_ensemble_exports_the_mean_of_its_nets_probabilities(
    trained_checkpoint: Path, train_one_epoch: TrainOneEpoch, tiny_csv: Path, tmp_path: Path
) -> None:
    second_checkpoint = train_one_epoch(tiny_csv, tmp_path / "second", 7)
    main(
        ["--checkpoint", str(trained_checkpoint), "--checkpoint", str(second_checkpoint), "--flip-average",
         "--data", str(tiny_csv), "--out", str(tmp_path / "ensemble.onnx")]
    )  # fmt: skip
    nets = [load_checkpoint(path)[0] for path in (trained_checkpoint, second_checkpoint)]
    grey_levels = np.random.default_rng(5).uniform(0, 255, (6, 1, 48, 48)).astype(np.float32)

    with torch.no_grad():
        each = [ProbabilityModel([net], flip_average=True)(torch.from_numpy(grey_levels)) for net in nets]
    actual = onnx_probabilities(open_session(tmp_path / "ensemble.onnx"), grey_levels[:, 0])

    assert np.abs(actual - (each[0] + each[1]).numpy() / 2).max() < 1e-4
    card = json.loads((tmp_path / "ensemble.json").read_text())
    assert [member["config"]["seed"] for member in card["members"]] == [1337, 7]
    assert_honours_contract(tmp_path / "ensemble.onnx")


def test_export_refuses_nets_trained_on_different_data(
    trained_checkpoint: Path,
    train_one_epoch: TrainOneEpoch,
    fer_csv: WriteFerCsv,
    face_rows: MakeFaceRows,
    tiny_csv: Path,
    tmp_path: Path,
) -> None:
    other_checkpoint = train_one_epoch(fer_csv(face_rows(70, 20, seed=3)), tmp_path / "other", 1337)

    with pytest.raises(SystemExit, match="different data"):
        main(
            ["--checkpoint", str(trained_checkpoint), "--checkpoint", str(other_checkpoint),
             "--data", str(tiny_csv), "--out", str(tmp_path / "m.onnx")]
        )  # fmt: skip
    assert not (tmp_path / "m.onnx").exists()


def test_export_refuses_a_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such checkpoint"):
        main(["--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "m.onnx")])


def test_export_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "notes.pt").write_text("not a checkpoint")

    with pytest.raises(SystemExit, match="not a model.train checkpoint"):
        main(["--checkpoint", str(tmp_path / "notes.pt"), "--out", str(tmp_path / "m.onnx")])


def test_export_refuses_data_without_a_test_split(
    trained_checkpoint: Path, fer_csv: WriteFerCsv, face_rows: MakeFaceRows, tmp_path: Path
) -> None:
    training_only = fer_csv(face_rows(10, 0))

    with pytest.raises(SystemExit, match="no test split"):
        main(
            [
                "--checkpoint",
                str(trained_checkpoint),
                "--data",
                str(training_only),
                "--out",
                str(tmp_path / "m.onnx"),
            ]
        )
    assert not (tmp_path / "m.onnx").exists()


def test_shipped_card_accuracy_is_what_the_shipped_file_scores_on_publictest(
    shipped_model: Path, fer2013: Path
) -> None:
    card = json.loads(shipped_model.with_suffix(".json").read_text())
    test = load_dataset(fer2013)[0]["test"]

    predicted = onnx_probabilities(open_session(shipped_model), test.images).argmax(axis=1)

    # Exact on the CPU that exported it; elsewhere int8 kernels may round a few faces differently.
    assert card["metrics"]["accuracy"] == pytest.approx((predicted == test.labels).mean(), abs=0.005)


def test_a_residual_run_trains_exports_as_torch_computes_it_and_quantises(
    train_one_epoch: TrainOneEpoch, tiny_csv: Path, tmp_path: Path
) -> None:
    checkpoint = train_one_epoch(tiny_csv, tmp_path, 1337, "--residual=True")

    difference = onnx_difference_from_torch(checkpoint, True, tmp_path / "fp32.onnx")
    card = export([checkpoint], tmp_path / "int8.onnx", tiny_csv, flip_average=True, int8_calibration=32)

    net, saved = load_checkpoint(checkpoint)
    assert saved["config"]["residual"] is True
    assert any(isinstance(module, ResidualBlock) for module in net.modules())
    assert difference < 1e-4
    assert_honours_contract(tmp_path / "int8.onnx")
    assert card["members"][0]["config"]["residual"] is True
