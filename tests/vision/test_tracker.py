"""Tracks and mood: the same face keeps its id, emotions are smoothed over time, the mood holds steady."""

from __future__ import annotations

import numpy as np
import pytest

from model.labels import EMOTIONS
from service.vision.boxes import Box
from service.vision.tracker import FaceTracker

LABELS = EMOTIONS
HAPPY = np.array([0, 0, 0, 1, 0, 0, 0], np.float64)
SAD = np.array([0, 0, 0, 0, 1, 0, 0], np.float64)
FACE = Box(100, 100, 100, 100)


def tracker(half_life_s: float = 0.5, max_missed_frames: int = 2, max_missed_s: float = 0.0) -> FaceTracker:
    return FaceTracker(LABELS, half_life_s, max_missed_frames, max_missed_s)


NOBODY = np.empty((0, 7))


def test_a_face_that_moves_a_little_keeps_its_track_and_a_new_face_gets_a_new_one() -> None:
    faces = tracker()
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    faces.update([Box(108, 96, 100, 100), Box(400, 80, 60, 60)], np.array([HAPPY, SAD]), now_s=0.1)
    assert [(face.track_id, face.box) for face in faces.faces()] == [
        (1, Box(108, 96, 100, 100)),
        (2, Box(400, 80, 60, 60)),
    ]


def test_a_new_track_starts_from_its_first_reading() -> None:
    faces = tracker()
    faces.update([FACE], np.array([SAD]), now_s=0.0)
    assert faces.faces()[0].reading.scores["sad"] == 1.0


def test_emotions_are_smoothed_with_a_half_life_in_seconds() -> None:
    faces = tracker(half_life_s=0.5)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    faces.update([FACE], np.array([SAD]), now_s=0.5)  # one half-life later: half way
    assert faces.faces()[0].reading.scores == pytest.approx(
        {**dict.fromkeys(LABELS, 0.0), "happy": 0.5, "sad": 0.5}
    )
    for step in range(1, 11):  # a steady sad face for two more seconds wins
        faces.update([FACE], np.array([SAD]), now_s=0.5 + step * 0.2)
    assert faces.faces()[0].reading.emotion == "sad"
    assert faces.faces()[0].reading.confidence > 0.95


def test_smoothing_is_the_same_at_any_frame_rate() -> None:
    slow, fast = tracker(), tracker()
    for faces, frames_per_s in ((slow, 5), (fast, 30)):
        faces.update([FACE], np.array([HAPPY]), now_s=0.0)
        for frame in range(1, frames_per_s + 1):  # one second of a sad face
            faces.update([FACE], np.array([SAD]), now_s=frame / frames_per_s)
    assert slow.faces()[0].reading.scores["sad"] == pytest.approx(fast.faces()[0].reading.scores["sad"])
    assert slow.faces()[0].reading.scores["sad"] == pytest.approx(0.75)  # two half-lives


def test_a_track_outlives_a_few_missed_frames_then_ends() -> None:
    faces = tracker(max_missed_frames=2)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    for frame in (1, 2):
        faces.update([], NOBODY, now_s=frame * 0.1)
        assert [face.track_id for face in faces.faces()] == [1]
    faces.update([], NOBODY, now_s=0.3)
    assert faces.faces() == []
    faces.update([FACE], np.array([HAPPY]), now_s=0.4)
    assert [face.track_id for face in faces.faces()] == [2]


def test_at_a_high_frame_rate_a_track_is_held_for_its_time_too_then_ends() -> None:
    faces = tracker(max_missed_frames=3, max_missed_s=0.5)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    for frame in range(1, 16):  # half a second at 30 fps without the face: a head turned away
        faces.update([], NOBODY, now_s=frame / 30)
        assert [(face.track_id, face.held) for face in faces.faces()] == [(1, True)]
    faces.update([], NOBODY, now_s=16 / 30)
    assert faces.faces() == []


def test_a_missed_track_asks_for_a_whole_frame_scan_when_its_frames_of_hold_run_out_and_before_it_ends():
    faces = tracker(max_missed_frames=3, max_missed_s=0.5)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    rescues = []
    for frame in range(1, 17):  # at 30 fps
        if faces.rescue_due_if_missed(faces.tracks[0], now_s=frame / 30):
            rescues.append(frame)
        faces.update([], NOBODY, now_s=frame / 30)
    assert rescues == [4, 16] and faces.faces() == []


def test_a_face_back_within_its_hold_keeps_its_track() -> None:
    faces = tracker(max_missed_frames=3, max_missed_s=0.5)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    for frame in range(1, 10):
        faces.update([], NOBODY, now_s=frame / 30)
    faces.update([Box(104, 100, 100, 100)], np.array([SAD]), now_s=10 / 30)
    (back,) = faces.faces()
    assert back.track_id == 1 and not back.held


def test_at_a_low_frame_rate_a_track_is_held_for_its_frames_however_long_they_take() -> None:
    faces = tracker(max_missed_frames=3, max_missed_s=0.5)
    faces.update([FACE], np.array([HAPPY]), now_s=0.0)
    for sample in (1, 2, 3):  # a video sampled every 2 s
        faces.update([], NOBODY, now_s=sample * 2.0)
        assert [face.track_id for face in faces.faces()] == [1]
    assert faces.rescue_due_if_missed(faces.tracks[0], now_s=8.0)
    faces.update([], NOBODY, now_s=8.0)
    assert faces.faces() == []


def test_a_missed_track_ends_when_the_clock_goes_back() -> None:
    faces = tracker(max_missed_frames=1, max_missed_s=10.0)
    faces.update([FACE], np.array([HAPPY]), now_s=5.0)
    faces.update([], NOBODY, now_s=5.1)
    assert faces.faces() != []
    faces.update([], NOBODY, now_s=0.0)  # a new video's clock
    assert faces.faces() == []


def test_the_mood_weights_each_face_by_its_area() -> None:
    faces = tracker()
    big, small = Box(0, 0, 200, 200), Box(300, 0, 100, 100)  # areas 4:1
    faces.update([big, small], np.array([HAPPY, SAD]), now_s=0.0)
    assert faces.mood is not None
    assert faces.mood.emotion == "happy"
    assert faces.mood.scores["happy"] == pytest.approx(0.8)
    assert faces.mood.scores["sad"] == pytest.approx(0.2)


def test_the_mood_is_none_before_any_face_and_fades_to_none_while_nobody_is_in_view() -> None:
    faces = tracker(max_missed_frames=0)
    faces.update([], NOBODY, now_s=0.0)
    assert faces.mood is None
    faces.update([FACE], np.array([SAD]), now_s=0.1)
    seen = faces.mood
    faces.update([], NOBODY, now_s=0.2)
    assert faces.faces() == []
    assert seen is not None and faces.mood is not None and faces.mood.emotion == "sad"
    assert faces.mood.scores["sad"] < seen.scores["sad"]
    faces.update([], NOBODY, now_s=10.0)
    assert faces.mood is None


def test_a_face_missed_for_a_frame_is_held_with_its_last_box_and_no_raw_reading() -> None:
    faces = tracker(max_missed_frames=2)
    faces.update([FACE], np.array([SAD]), now_s=0.0)
    (seen,) = faces.faces()
    assert not seen.held and seen.raw is not None and seen.raw.emotion == "sad"
    faces.update([], NOBODY, now_s=0.1)
    (held,) = faces.faces()
    assert held.held and held.raw is None and held.box == FACE and held.track_id == seen.track_id
