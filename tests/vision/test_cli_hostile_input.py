"""`moodfeed analyze` and `predict` against careless and hostile input: odd names, outputs that would land
on inputs, files that cannot be written, values that would hang, signals; a message and an exit code,
never a crash, a hang or a lost file."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from skimage import data

import service.inputs
from service.cli import main
from service.exits import BROKEN_PIPE, INTERRUPTED
from service.frames import AnalysedFrame
from service.video import VideoOverLimit, analyze_video
from service.vision.engine import VisionEngine
from tests.vision.frames import astronaut_grey, encode, face_frame, write_video

pytestmark = pytest.mark.usefixtures("on_tiny_model")


def undecodable(folder: Path, name: bytes) -> Path:
    """A path in `folder` whose file name is `name`, bytes that are not UTF-8 (as Python holds them)."""
    return folder / os.fsdecode(name)


def test_a_video_and_a_photo_named_in_another_encoding_are_analysed_not_crashed_on(tmp_path: Path) -> None:
    # OpenCV kills the process on such a name; it must never be handed one.
    clip = write_video(tmp_path / "clip.mp4", [face_frame(100)] * 5).rename(
        undecodable(tmp_path, b"interview-\xe9t\xe9.mp4")  # (written first under a name OpenCV takes)
    )
    photo = undecodable(tmp_path, b"photo-\xff.jpg")
    photo.write_bytes(encode(data.astronaut()))
    out = tmp_path / "out"

    assert main(["analyze", str(clip), str(photo), "--out", str(out), "--annotate", "--format", "csv"]) == 0
    assert main(["predict", str(photo), "--annotate", str(tmp_path / "checked")]) == 0

    names = sorted(path.name for path in out.iterdir())
    assert "interview-\ufffdt\ufffd.annotated.mp4" in names and "photo-\ufffd.annotated.jpg" in names
    rows = (out / "interview-\ufffdt\ufffd.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 6 and "interview-\\udce9t\\udce9.mp4" in rows[1]
    assert cv2.imread(str(tmp_path / "checked" / "photo-\ufffd.jpg")) is not None


def test_a_plot_never_replaces_a_photo_analysed_in_its_own_folder(tmp_path: Path) -> None:
    photo = tmp_path / "face.png"
    original = encode(data.astronaut(), "PNG")
    photo.write_bytes(original)

    assert main(["analyze", str(photo), "--out", str(tmp_path), "--plot"]) == 0

    assert photo.read_bytes() == original
    assert (tmp_path / "face.plot.png").read_bytes()[:4] == b"\x89PNG"


def test_outputs_that_would_land_on_another_input_are_refused_and_the_input_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "x.annotated.png"  # where the first input's annotated copy would go
    original = encode(data.astronaut(), "PNG")
    photo.write_bytes(original)
    first = tmp_path / "x.png"
    first.write_bytes(original)

    code = main(["analyze", str(first), str(photo), "--out", str(tmp_path), "--annotate"])

    assert code == 1 and "would replace one of the inputs" in capsys.readouterr().err
    assert photo.read_bytes() == original


def test_predict_never_writes_a_copy_over_a_photo_it_has_still_to_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    later = tmp_path / "a" / "x.jpg"
    later.write_bytes(encode(astronaut_grey()))
    (tmp_path / "b" / "x.jpg").write_bytes(encode(astronaut_grey()[::-1]))
    original = later.read_bytes()

    code = main(["predict", str(tmp_path / "b" / "x.jpg"), str(later), "--annotate", str(tmp_path / "a")])

    out, err = capsys.readouterr()
    assert code == 1 and "no annotated copy" in err and later.read_bytes() == original
    assert len(out.splitlines()) == 2  # both photos' answers are printed all the same


@pytest.mark.parametrize("every", ["nan", "inf", "-1", "0"])
def test_a_sampling_step_that_is_no_number_of_seconds_is_refused_with_exit_2(
    every: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 3)
    assert main(["analyze", str(clip), "--out", str(tmp_path), "--every", every]) == 2
    assert "--every must be a positive number" in capsys.readouterr().err


def test_a_sampling_step_far_finer_than_the_frames_takes_every_frame_without_hanging(
    engine: VisionEngine, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 5)
    for every_s in (1e-300, 5e-324):
        frames = list(analyze_video(clip, every_s=every_s, engine=engine))
        assert [frame.frame for frame in frames] == [0, 1, 2, 3, 4]
    out = tmp_path / "out"
    assert main(["analyze", str(clip), "--out", str(out), "--every", "1e-300", "--annotate"]) == 0
    copy = cv2.VideoCapture(str(out / "talk.annotated.mp4"))
    assert int(copy.get(cv2.CAP_PROP_FRAME_COUNT)) == 5  # at the source's rate, not a million a second
    copy.release()


def test_a_frame_over_the_pixel_limit_stops_the_video_with_an_error(
    engine: VisionEngine, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 3)
    with pytest.raises(VideoOverLimit, match="larger than the limit of 1000 pixels"):
        list(analyze_video(clip, engine=engine, max_pixels=1000))


def test_files_that_cannot_be_written_are_named_and_the_next_inputs_still_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_video(tmp_path / "first.mp4", [face_frame(100)] * 3)
    second = write_video(tmp_path / "second.mp4", [face_frame(100)] * 3)
    out = tmp_path / "out"
    (out / "first.annotated.mp4").mkdir(parents=True)  # in the way of the annotated copy...
    (out / "first.summary.json").mkdir()  # ...and of the summary

    code = main(["analyze", str(first), str(second), "--out", str(out), "--annotate"])

    err = capsys.readouterr().err
    assert code == 1 and "could not write" in err and "first.summary.json" in err
    assert json.loads((out / "second.summary.json").read_text())["frames_analysed"] == 3


def test_a_name_with_a_nul_byte_on_stdin_is_reported_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "face.jpg"
    photo.write_bytes(encode(data.astronaut()))
    names = f"{tmp_path}/fa\0ce.jpg\n{photo}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(names)))

    assert main(["analyze", "-", "--out", str(tmp_path / "out")]) == 1

    assert "cannot hold a NUL byte" in capsys.readouterr().err
    assert (tmp_path / "out" / "face.summary.json").is_file()


def test_sigterm_stops_an_analysis_as_ctrl_c_does_with_its_outputs_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 20)
    real_analyze = service.inputs.analyze_video

    def terminated_after_three_frames(*arguments: Any, **options: Any) -> Iterator[AnalysedFrame]:
        for index, frame in enumerate(real_analyze(*arguments, **options)):
            if index == 3:
                os.kill(os.getpid(), signal.SIGTERM)  # as `timeout`, `docker stop` or systemd would
            yield frame

    monkeypatch.setattr(service.inputs, "analyze_video", terminated_after_three_frames)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(["analyze", str(clip), "--out", str(tmp_path / "out"), "--format", "jsonl"])
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert code == INTERRUPTED
    summary = json.loads((tmp_path / "out" / "talk.summary.json").read_text())
    assert summary["interrupted"] is True and 3 <= summary["frames_analysed"] < 20
    lines = (tmp_path / "out" / "talk.jsonl").read_text().splitlines()
    assert len(lines) == summary["frames_analysed"] and all(json.loads(line) for line in lines)


def test_a_reader_that_leaves_early_ends_the_command_quietly(tiny_model: Path, tmp_path: Path) -> None:
    photos = tmp_path / "album"
    photos.mkdir()
    for index in range(400):  # more answers than a pipe holds, so the command is still writing at the end
        cv2.imwrite(str(photos / f"{index:03}.png"), np.full((32, 32), index % 250, np.uint8))
    command = [
        sys.executable,
        "-m",
        "service.cli",
        "predict",
        str(photos),
        "--no-detect",
        "--format",
        "jsonl",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # as `| head -1` does
        err = process.stderr.read().decode()
    assert process.returncode == BROKEN_PIPE and "Traceback" not in err


def test_settings_and_ports_out_of_range_are_refused_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "99999"])
    assert stopped.value.code == 2 and "from 0 to 65535" in capsys.readouterr().err
    monkeypatch.setenv("MOODFEED_OPENCV_THREADS", "99999999999")
    assert main(["predict", "whatever.jpg"]) == 2
    assert "MOODFEED_OPENCV_THREADS" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999"])
def test_an_endless_or_not_a_number_setting_is_refused_with_exit_2(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODFEED_MAX_VIDEO_SECONDS", value)  # inf would lift the limit it sets
    assert main(["predict", "whatever.jpg"]) == 2
    assert "MOODFEED_MAX_VIDEO_SECONDS: Input should be a finite number" in capsys.readouterr().err


def test_names_on_stdin_in_another_encoding_are_read_as_the_file_systems_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = undecodable(tmp_path, b"caf\xe9.jpg")
    photo.write_bytes(encode(data.astronaut()))
    listing = os.fsencode(photo) + b"\n"  # not UTF-8, whatever the locale says stdin holds
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(listing), encoding="utf-8", errors="strict")
    )

    assert main(["analyze", "-", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "caf\ufffd.summary.json").is_file()


def test_an_earlier_runs_annotated_folder_is_kept_and_the_new_copies_go_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = tmp_path / "shots"
    (shots / "shots.annotated").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "c.jpg", "shots.annotated/a.jpg"):  # the last: an earlier run's copy
        (shots / name).write_bytes(encode(data.astronaut()))
    earlier = (shots / "shots.annotated" / "a.jpg").read_bytes()

    code = main(["analyze", str(shots), "--out", str(shots), "--annotate", "--format", "csv"])

    assert code == 0 and f"{shots / 'shots-2'}.* (that name was taken)" in capsys.readouterr().err
    assert len((shots / "shots-2.csv").read_text().splitlines()) == 1 + 4  # every photo's row
    assert (shots / "shots.annotated" / "a.jpg").read_bytes() == earlier
    assert cv2.imread(str(shots / "shots-2.annotated" / "b.jpg")) is not None


def test_a_file_name_holding_an_escape_sequence_is_shown_escaped_not_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named = tmp_path / "x\x1b]0;pwned\x07.jpg"  # would set the terminal's title
    assert main(["predict", str(named)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "x\\x1b]0;pwned\\x07.jpg" in err


def test_a_broken_link_or_a_pipe_with_a_photos_name_in_a_folder_is_named_not_passed_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    album = tmp_path / "album"
    album.mkdir()
    (album / "a.jpg").write_bytes(encode(data.astronaut()))
    (album / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    os.mkfifo(album / "pipe.jpg")

    assert main(["predict", str(album), "--format", "jsonl"]) == 1

    out, err = capsys.readouterr()
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(album / "a.jpg")]
    assert "gone.jpg: No such file" in err and "pipe.jpg: not a regular file" in err
