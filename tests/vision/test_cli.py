"""`moodfeed predict IMAGE...`: one JSON line per image, in /predict's shape; clear errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main
from tests.vision.frames import ASTRONAUT_FACE, astronaut_grey, encode


@pytest.fixture
def on_tiny_model(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODFEED_MODEL_PATH", str(tiny_model))
    monkeypatch.setenv("MOODFEED_MODEL_CARD_PATH", str(tiny_model.with_name("emotion.json")))


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "astronaut.jpg"
    path.write_bytes(encode(astronaut_grey()))
    return path


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_prints_each_images_faces_as_a_json_line(
    photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", str(photo), str(photo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    answer = json.loads(lines[0])
    assert answer["file"] == str(photo)
    assert answer["image"] == {"width": 512, "height": 512}
    (face,) = answer["faces"]
    assert abs(face["box"]["x"] - ASTRONAUT_FACE.x) < 10 and set(face) == {
        "box",
        "emotion",
        "confidence",
        "scores",
    }


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_without_detection_reads_the_whole_image(
    photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", "--no-detect", str(photo)]) == 0
    assert json.loads(capsys.readouterr().out)["faces"][0]["box"] == {"x": 0, "y": 0, "w": 512, "h": 512}


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_names_each_unreadable_file_and_exits_1(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    assert main(["predict", str(text), str(tmp_path / "absent.jpg"), str(photo)]) == 1
    captured = capsys.readouterr()
    assert f"{text}: the data is not an image" in captured.err
    assert "absent.jpg: No such file" in captured.err
    assert len(captured.out.splitlines()) == 1  # the good photo still got its answer


def test_predict_without_a_model_says_so_and_exits_2(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODFEED_MODEL_PATH", str(tmp_path / "missing.onnx"))
    assert main(["predict", str(photo)]) == 2
    assert "missing.onnx not found" in capsys.readouterr().err


def test_predict_refuses_a_min_face_the_cascade_cannot_see(
    photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--min-face", "10", str(photo)])
    assert exit_.value.code == 2
    assert "from 24 pixels" in capsys.readouterr().err
