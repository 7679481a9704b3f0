"""`moodfeed analyze` and `analyze_video`: videos and photo folders into timelines, tables and summaries."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from service.cli import main
from service.frames import AnalysedFrame
from service.photo_scenes import scenes
from service.photo_series import analyze_photos
from service.plot import Plot
from service.video import VIDEO_TIME_AXIS, FrameClock, VideoError, analyze_video
from service.vision.annotate import BOX_BGR
from service.vision.boxes import Box
from service.vision.engine import VisionEngine
from service.vision.results import EmotionReading, Face, Timings
from tests.vision.frames import (
    VIDEO_FPS,
    VIDEO_SIZE,
    astronaut_grey,
    encode,
    face_frame,
    frames_held,
    write_video,
)


def test_one_person_is_found_in_nearly_every_frame_under_one_track(
    engine: VisionEngine, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "one.mp4", [face_frame(100 + step) for step in range(45)])

    frames = list(analyze_video(clip, engine=engine))

    assert len(frames) == 45
    assert [frame.frame for frame in frames] == list(range(45))
    assert frames[1].time_s == pytest.approx(1 / VIDEO_FPS)
    with_face = [frame for frame in frames if frame.faces]
    assert len(with_face) >= 0.95 * len(frames)
    assert {face.track_id for frame in frames for face in frame.faces} == {1}


def test_a_cut_between_two_faces_gives_two_tracks_and_a_faceless_stretch_no_faces(
    engine: VisionEngine, tmp_path: Path
) -> None:
    empty = np.zeros((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), np.uint8)
    clip = write_video(tmp_path / "cut.mp4", [face_frame(20)] * 15 + [empty] * 15 + [face_frame(280)] * 15)

    frames = list(analyze_video(clip, engine=engine))

    held_frames = frames_held(engine.stream, VIDEO_FPS)
    assert 15 + held_frames < 25
    assert all(not frame.faces for frame in frames[15 + held_frames + 1 : 30])  # past the hold, nobody
    first, second = (
        {face.track_id for frame in part for face in frame.faces} for part in (frames[:15], frames[30:])
    )
    assert len(first) == 1 and len(second) == 1 and first != second


def test_every_samples_the_video_by_its_own_clock(engine: VisionEngine, tmp_path: Path) -> None:
    clip = write_video(tmp_path / "long.mp4", [face_frame(100)] * 45)

    times = [frame.time_s for frame in analyze_video(clip, every_s=0.5, engine=engine)]

    # The first frame at or after each half second: 15 fps has none at 0.5 s itself.
    assert times == pytest.approx([0.0, 8 / 15, 1.0, 23 / 15, 2.0, 38 / 15])


def test_frame_times_follow_the_containers_timestamps_even_when_the_rate_varies() -> None:
    clock = FrameClock(fps=1000)  # a browser recording's "frame rate" is often its time base

    assert [clock.time_s(ms) for ms in (0, 33, 100, 300.5)] == pytest.approx([0, 0.033, 0.1, 0.3005])


def test_frame_times_start_at_the_first_frame_of_a_container_that_starts_later() -> None:
    clock = FrameClock(fps=25)

    assert [clock.time_s(ms) for ms in (1400, 1440, 1480)] == pytest.approx([0, 0.04, 0.08])


def test_frames_without_timestamps_that_move_forward_are_counted_at_the_stated_rate() -> None:
    clock = FrameClock(fps=20)

    times = [clock.time_s(ms) for ms in (0, 0, float("nan"), -1, 50, 400)]

    assert times == pytest.approx([0, 0.05, 0.1, 0.15, 0.2, 0.4])


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 5000], ids=["empty", "corrupt"]
)
def test_an_unreadable_video_raises_a_video_error_saying_why(
    engine: VisionEngine, tmp_path: Path, content: bytes
) -> None:
    clip = tmp_path / "broken.mp4"
    clip.write_bytes(content)
    with pytest.raises(VideoError, match="broken.mp4"):
        list(analyze_video(clip, engine=engine))


@pytest.mark.usefixtures("on_tiny_model")
def test_analyze_writes_rows_summary_and_plot_and_skips_bad_inputs_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 30)
    album = tmp_path / "album"
    album.mkdir()
    for name in ("b.jpg", "a.jpg"):
        (album / name).write_bytes(encode(data.astronaut()))
    (tmp_path / "empty.mp4").write_bytes(b"")
    out = tmp_path / "out"

    code = main(["analyze", str(clip), str(tmp_path / "empty.mp4"), str(album), "--out", str(out), "--plot"])

    assert code == 1
    assert "empty.mp4: the file is empty" in capsys.readouterr().err
    rows = list(csv.DictReader((out / "talk.csv").open()))
    assert len(rows) == 30 and rows[0]["track_id"] == "1" and rows[0]["happy"]
    assert set(rows[0]) >= {
        "source",
        "time_s",
        "frame",
        "x",
        "y",
        "w",
        "h",
        "emotion",
        "confidence",
        "mood_emotion",
        "held",
    }
    lines = [json.loads(line) for line in (out / "talk.jsonl").read_text().splitlines()]
    assert len(lines) == 30 and lines[-1]["faces"][0]["track_id"] == 1
    summary = json.loads((out / "talk.summary.json").read_text())
    assert summary["frames_analysed"] == 30 and summary["duration_s"] == pytest.approx(2.0)
    assert summary["faces_per_frame"] >= 0.95 and list(summary["tracks"]) == ["1"]
    assert summary["segments"] and summary["interrupted"] is False
    assert (out / "talk.plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    photos = [json.loads(line)["source"] for line in (out / "album.jsonl").read_text().splitlines()]
    assert photos == [str(album / "a.jpg"), str(album / "b.jpg")]


@pytest.mark.usefixtures("on_tiny_model")
def test_a_face_hidden_for_a_moment_keeps_its_track_its_rows_say_held_and_the_summary_counts_only_sightings(
    tmp_path: Path,
) -> None:
    empty = np.zeros((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), np.uint8)
    clip = write_video(tmp_path / "turn.mp4", [face_frame(100)] * 10 + [empty] * 4 + [face_frame(100)] * 10)

    assert main(["analyze", str(clip), "--out", str(tmp_path / "out"), "--format", "csv"]) == 0

    rows = list(csv.DictReader((tmp_path / "out" / "turn.csv").open()))
    assert len(rows) == 24 and {row["track_id"] for row in rows} == {"1"}
    assert [row["held"] for row in rows[10:14]] == ["true"] * 4
    seen = sum(row["held"] == "false" for row in rows)
    assert seen >= 19
    summary = json.loads((tmp_path / "out" / "turn.summary.json").read_text())
    assert summary["tracks"]["1"]["frames"] == seen
    assert summary["faces_per_frame"] == pytest.approx(seen / 24, abs=1e-3)


@pytest.mark.usefixtures("on_tiny_model")
def test_analyze_annotates_a_copy_of_the_video_at_its_own_frame_rate(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "talk.mp4", [face_frame(100)] * 10)
    assert main(["analyze", str(clip), "--out", str(tmp_path), "--format", "jsonl", "--annotate"]) == 0
    copy = cv2.VideoCapture(str(tmp_path / "talk.annotated.mp4"))
    assert int(copy.get(cv2.CAP_PROP_FRAME_COUNT)) == 10 and copy.get(cv2.CAP_PROP_FPS) == VIDEO_FPS
    copy.release()


def boxes_drawn(path: Path, original: np.ndarray) -> bool:
    """Whether the image at `path` is `original` (RGB) with something drawn on it in the box colour."""
    copy = cv2.imread(str(path))
    assert copy is not None, f"{path} is not an image"
    changed = np.abs(copy.astype(int) - cv2.cvtColor(original, cv2.COLOR_RGB2BGR)).max(axis=2) > 60
    return copy.shape[:2] == original.shape[:2] and bool((copy[changed] == BOX_BGR).all(axis=1).any())


@pytest.mark.usefixtures("on_tiny_model")
def test_analyze_annotates_the_photos_of_a_folder_at_their_places_and_a_photo_given_alone(
    tmp_path: Path,
) -> None:
    album = tmp_path / "album"
    (album / "day2").mkdir(parents=True)
    for photo in (album / "a.png", album / "day2" / "a.png", tmp_path / "solo.png"):
        photo.write_bytes(encode(data.astronaut(), "PNG"))
    out = tmp_path / "out"

    assert main(["analyze", str(album), str(tmp_path / "solo.png"), "--out", str(out), "--annotate"]) == 0

    for copy in (out / "album.annotated" / "a.png", out / "album.annotated" / "day2" / "a.png"):
        assert boxes_drawn(copy, data.astronaut())
    assert boxes_drawn(out / "solo.annotated.png", data.astronaut())


@pytest.mark.usefixtures("on_tiny_model")
def test_inputs_of_the_same_name_get_files_of_their_own(tmp_path: Path) -> None:
    for day, frames in (("day1", 10), ("day2", 20)):
        (tmp_path / day).mkdir()
        write_video(tmp_path / day / "talk.mp4", [face_frame(100)] * frames)
    out = tmp_path / "out"

    assert (
        main(["analyze", str(tmp_path / "day1/talk.mp4"), str(tmp_path / "day2/talk.mp4"), "--out", str(out)])
        == 0
    )

    first, second = (
        json.loads((out / name).read_text()) for name in ("talk.summary.json", "talk-2.summary.json")
    )
    assert (first["frames_analysed"], second["frames_analysed"]) == (10, 20)
    assert second["source"].endswith("day2/talk.mp4")


def test_a_second_run_into_the_same_folder_keeps_the_first_runs_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for day, frames in (("day1", 10), ("day2", 20)):
        (tmp_path / day).mkdir()
        write_video(tmp_path / day / "talk.mp4", [face_frame(100)] * frames)
    out = tmp_path / "out"

    assert main(["analyze", str(tmp_path / "day1/talk.mp4"), "--out", str(out), "--format", "csv"]) == 0
    first_rows = (out / "talk.csv").read_text()
    assert main(["analyze", str(tmp_path / "day2/talk.mp4"), "--out", str(out), "--format", "jsonl"]) == 0

    assert (out / "talk.csv").read_text() == first_rows
    assert json.loads((out / "talk-2.summary.json").read_text())["frames_analysed"] == 20
    assert not (out / "talk.jsonl").exists()  # no input's files mixed with another's
    assert "talk-2.* (that name was taken)" in capsys.readouterr().err


@pytest.mark.usefixtures("on_tiny_model")
def test_analyze_leaves_no_files_for_an_input_it_cannot_read_and_refuses_an_out_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    out = tmp_path / "out"

    assert (
        main(["analyze", str(tmp_path / "broken.jpg"), str(tmp_path / "missing.jpg"), "--out", str(out)]) == 1
    )

    assert list(out.iterdir()) == []
    assert "broken.jpg" in capsys.readouterr().err
    (tmp_path / "taken").write_text("a file")
    assert main(["analyze", str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "taken")]) == 2
    assert f"--out {tmp_path / 'taken'}: not a folder" in capsys.readouterr().err


def test_a_folders_photos_are_each_scanned_for_all_their_faces_and_none_is_held_over(
    tmp_path: Path, engine: VisionEngine
) -> None:
    """A group photo's faces are far smaller than a stream's smallest face (15 % of the frame's side):
    each photo of a series is scanned as /predict scans one, and a face is in the rows of the photos
    that show it only."""
    group = scenes()[0].grey  # 15 faces 24-120 px in 1280x960
    album = tmp_path / "album"
    album.mkdir()
    (album / "1-group.png").write_bytes(encode(group, "PNG"))
    (album / "2-nobody.png").write_bytes(encode(scenes()[5].grey, "PNG"))  # the same size, no one in it

    results = list(analyze_photos(sorted(album.iterdir()), engine=engine))
    frames = [frame for frame in results if isinstance(frame, AnalysedFrame)]
    assert len(frames) == len(results) == 2

    found_by_predict = engine.analyse_photo(encode(group, "PNG")).faces
    assert len(found_by_predict) >= 12
    assert [face.box for face in frames[0].faces] == [face.box for face in found_by_predict]
    assert frames[1].faces == []


@pytest.mark.usefixtures("on_tiny_model")
def test_a_folders_summary_counts_its_photos_as_its_duration(tmp_path: Path) -> None:
    album = tmp_path / "album"
    album.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        (album / name).write_bytes(encode(astronaut_grey(), "PNG"))

    assert main(["analyze", str(album), "--out", str(tmp_path / "out"), "--format", "jsonl"]) == 0

    summary = json.loads((tmp_path / "out" / "album.summary.json").read_text())
    assert (summary["frames_analysed"], summary["duration_s"]) == (3, 3.0)


def test_a_crowds_plot_draws_the_tracks_seen_longest() -> None:
    labels = ["happy", "sad"]
    plot = Plot(labels, {}, VIDEO_TIME_AXIS)
    reading = EmotionReading.of(labels, np.array([0.7, 0.3]))
    for index in range(30):  # track t is seen in the first t + 1 frames of 30
        faces = [
            Face(Box(0, 0, 10, 10), reading, track, raw=reading) for track in range(20) if index <= track
        ]
        plot.add(AnalysedFrame("crowd.mp4", index, index / 30, faces, None, 640, 480, Timings(0, 0, 0)))
    assert plot.plotted_tracks() == list(range(12, 20))


@pytest.mark.usefixtures("on_tiny_model")
def test_analyze_reads_a_quoted_glob_as_its_matches_in_name_order_and_reports_one_matching_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("b.mp4", "a.mp4"):
        write_video(clips / name, [face_frame(100)] * 3)
    out = tmp_path / "out"

    assert main(["analyze", str(clips / "*.mp4"), str(tmp_path / "none" / "*.avi"), "--out", str(out)]) == 1

    assert sorted(path.name for path in out.iterdir() if path.suffix == ".csv") == ["a.csv", "b.csv"]
    assert f"{tmp_path / 'none' / '*.avi'}: no such file" in capsys.readouterr().err
