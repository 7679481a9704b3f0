"""`moodfeed predict IMAGE...`: one JSON line per image, in /predict's shape; clear errors and exit codes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from service.cli import main
from service.samples import ASTRONAUT_FACE
from tests.vision.frames import astronaut_grey, encode


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


@pytest.mark.parametrize("command", ["predict", "analyze", "bench"])
def test_every_command_without_a_model_says_so_and_exits_2(
    command: str,
    photo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOODFEED_MODEL_PATH", str(tmp_path / "missing.onnx"))
    out = str(tmp_path / "out")
    inputs = {"predict": [str(photo)], "analyze": [str(photo), "--out", out], "bench": []}[command]
    assert main([command, *inputs]) == 2
    assert "missing.onnx not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_predict_refuses_a_min_face_the_cascade_cannot_see(
    photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--min-face", "10", str(photo)])
    assert exit_.value.code == 2
    assert "from 24 pixels" in capsys.readouterr().err


def test_version_and_no_command_say_what_moodfeed_is_and_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("moodfeed ")
    assert main([]) == 2
    shown = capsys.readouterr().err
    assert "serve" in shown and "predict" in shown and "choose a command" in shown


def test_a_bad_serve_setting_stops_serve_but_not_the_other_commands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOODFEED_MAX_STREAMS", "0")
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("moodfeed ")
    assert main(["serve"]) == 2
    assert "MOODFEED_MAX_STREAMS" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (
            ["predict", "--min-face", "abc", "x.jpg"],
            "--min-face: must be a whole number of pixels, not 'abc'",
        ),
        (["serve", "--port", "abc"], "--port: must be a whole number from 0 to 65535"),
    ],
)
def test_an_option_that_is_not_a_number_is_refused_in_the_users_words(
    arguments: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2 and said in capsys.readouterr().err


def test_serve_help_gives_each_option_its_meaning_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    shown = capsys.readouterr().out
    assert "address to listen on" in shown and "(default: 127.0.0.1)" in shown and "(default: 8000)" in shown


def test_serve_on_a_busy_port_says_which_port_and_exits_2_before_starting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_reads_folders_recursively_in_name_order_and_quoted_globs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    album = tmp_path / "album"
    (album / "inner").mkdir(parents=True)
    for name, image_format in (
        ("b.jpg", "JPEG"),
        ("a.png", "PNG"),
        ("inner/c.webp", "WEBP"),
        ("notes.txt", "JPEG"),
    ):
        (album / name).write_bytes(encode(astronaut_grey(), image_format))
    assert main(["predict", str(album), str(tmp_path / "album" / "*.jpg")]) == 0
    files = [json.loads(line)["file"] for line in capsys.readouterr().out.splitlines()]
    assert files == [
        str(album / "a.png"),
        str(album / "b.jpg"),
        str(album / "inner/c.webp"),
        str(album / "b.jpg"),
    ]


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_prints_a_table_or_csv_for_people_and_annotates_copies(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", "--format", "table", str(photo)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["file", "face"] and "astronaut.jpg" in table[1]
    assert main(["predict", "--format", "csv", "--annotate", str(tmp_path / "boxed"), str(photo)]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("file,face,x,y,w,h,emotion,confidence,angry")
    assert row.startswith(f"{photo},1,")
    annotated = cv2.imread(str(tmp_path / "boxed" / "astronaut.jpg"))
    assert annotated is not None and annotated.shape[:2] == (512, 512)


def test_predict_csv_gives_a_photo_without_a_face_an_empty_row_so_it_is_not_taken_for_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wall = tmp_path / "wall.png"
    assert cv2.imwrite(str(wall), np.full((240, 320), 200, np.uint8))
    assert main(["predict", "--format", "csv", str(wall)]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert row == f"{wall}," + "," * (len(header.split(",")) - 2)


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_takes_local_photos_past_the_upload_limit_and_calls_a_video_not_a_photo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.png"
    noise = np.random.default_rng(0).integers(0, 256, (2600, 2600, 3), np.uint8)
    assert cv2.imwrite(str(big), noise) and big.stat().st_size > 8 * 1024 * 1024
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(20_000))
    assert main(["predict", str(big), str(video)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["file"] == str(big)
    assert f"{video}: the data is not an image" in captured.err


@pytest.mark.usefixtures("on_tiny_model")
def test_predict_annotates_photos_of_the_same_name_apart_and_never_over_the_photo_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    album = tmp_path / "album"
    for folder in (album / "day1", album / "day2"):
        folder.mkdir(parents=True)
        (folder / "IMG_1.jpg").write_bytes(encode(astronaut_grey()))
    original = encode(astronaut_grey())
    (album / "top.jpg").write_bytes(original)
    (album / "IMG_2").write_bytes(original)  # a JPEG without a suffix: read by its content

    assert main(["predict", str(album), str(album / "IMG_2"), "--annotate", str(album)]) == 1

    assert "top.jpg: no annotated copy" in capsys.readouterr().err
    assert (album / "top.jpg").read_bytes() == original
    for name in ("IMG_1.jpg", "IMG_1-2.jpg", "IMG_2.jpg"):
        annotated = cv2.imread(str(album / name))
        assert annotated is not None and annotated.shape[:2] == (512, 512)


def test_predict_annotates_beside_a_file_already_in_the_folder_never_over_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo, checked = tmp_path / "IMG_1.jpg", tmp_path / "checked"
    photo.write_bytes(encode(astronaut_grey()))
    checked.mkdir()
    (checked / "IMG_1.jpg").write_bytes(b"the user's own file")

    assert main(["predict", str(photo), "--annotate", str(checked), "--format", "jsonl"]) == 0

    assert (checked / "IMG_1.jpg").read_bytes() == b"the user's own file"
    assert cv2.imread(str(checked / "IMG_1-2.jpg")) is not None
    assert f"written as {checked / 'IMG_1-2.jpg'}" in capsys.readouterr().err


def test_a_bad_setting_in_the_environment_is_named_with_exit_2_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODFEED_PORT", "eighty")
    monkeypatch.setenv("MOODFEED_MAX_VIDEO_SECONDS", "-1")

    assert main(["predict", "photo.jpg"]) == 2

    problems = capsys.readouterr().err.splitlines()
    assert problems[0].startswith("moodfeed: MOODFEED_PORT: Input should be a valid integer")
    assert problems[1] == "MOODFEED_MAX_VIDEO_SECONDS: Input should be greater than 0"
