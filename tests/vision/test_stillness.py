"""Searches a stream skips where nothing moved: a still face is not searched for again, a still scene not
scanned again, and neither holds back a face that moves or one that arrives."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from skimage import data

from service.samples import astronaut_face
from service.vision.boxes import Box
from service.vision.engine import SCAN_PUT_OFF_AT_MOST, VisionEngine
from service.vision.stillness import StillFaces, StillScene
from tests.vision.frames import encode, paste, webcam_face_box, webcam_frame


@pytest.fixture
def searches(fresh_engine: VisionEngine, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the engine's detector searched near a face and scanned a whole frame."""
    counted: Counter[str] = Counter()
    for name in ("find_near", "scan"):
        search = getattr(fresh_engine.detector, name)

        def counting(*arguments: object, _search=search, _name=name, **keywords: object) -> object:
            counted[_name] += 1
            return _search(*arguments, **keywords)

        monkeypatch.setattr(fresh_engine.detector, name, counting)
    return counted


def test_a_face_that_keeps_still_is_found_where_it_was_without_searching_again(
    fresh_engine: VisionEngine, searches: Counter[str]
) -> None:
    session = fresh_engine.open_stream()
    still = encode(webcam_frame())
    answers = [session.analyse_frame(still, now_s=frame / 30) for frame in range(10)]

    assert searches["find_near"] == 1  # the second frame's search; then the face had not moved
    assert all([(face.track_id, face.held) for face in answer.faces] == [(1, False)] for answer in answers)
    assert {answer.faces[0].box for answer in answers[1:]} == {answers[1].faces[0].box}
    assert all(answer.faces[0].raw is not None for answer in answers)  # classified in every frame

    moved = session.analyse_frame(encode(webcam_frame(shift_x=16)), now_s=10 / 30)

    assert searches["find_near"] == 2
    assert moved.faces[0].track_id == 1 and moved.faces[0].box.iou(webcam_face_box(shift_x=16)) > 0.6


def test_a_still_empty_room_is_scanned_seldom_and_a_face_entering_it_is_found_at_once(
    fresh_engine: VisionEngine, searches: Counter[str]
) -> None:
    room = np.asarray(data.camera()[:480, :512], dtype=np.uint8)  # a photo with nobody's face in it
    session = fresh_engine.open_stream()
    every_s = fresh_engine.stream.full_scan_every_s
    fps = 10
    frames = round(SCAN_PUT_OFF_AT_MOST * every_s * fps)
    for frame in range(frames):
        assert session.analyse_frame(encode(room), now_s=frame / fps).faces == []
    assert searches["scan"] == 1  # the first frame's: nothing changed since

    session.analyse_frame(encode(room), now_s=frames / fps)
    assert searches["scan"] == 2  # put off for as long as it may be, and no longer

    face_box = Box(300, 150, 100, 100)  # a size and place the quick scan finds in this photo
    arrived = session.analyse_frame(encode(paste(room, astronaut_face(), [face_box])), (frames + 1) / fps)
    assert searches["scan"] == 3
    assert [face.box.iou(face_box) > 0.5 for face in arrived.faces] == [True]


def test_a_scene_changed_only_where_the_faces_are_is_unchanged() -> None:
    frame = np.asarray(data.camera(), dtype=np.uint8)
    scene = StillScene()
    face_then, face_now = Box(100, 100, 80, 80), Box(130, 100, 80, 80)
    scene.scanned(frame, [face_then])

    moved = frame.copy()
    moved[100:180, 100:210] = 255 - moved[100:180, 100:210]  # the face's old place and its new one
    assert scene.unchanged(moved, [face_now])
    assert not scene.unchanged(moved, [face_then])  # its new place was not where a face is

    elsewhere = frame.copy()
    elsewhere[350:420, 350:420] = 0  # someone arriving
    assert not scene.unchanged(elsewhere, [face_now])
    assert not scene.unchanged(frame[:, :-10], [])  # another frame size is another scene


def test_a_face_is_still_only_at_the_box_it_was_found_at_and_while_it_looks_the_same() -> None:
    frame = webcam_frame()
    box = webcam_face_box()
    faces = StillFaces()
    assert not faces.still(frame, 1, box)  # never found

    faces.found(frame, 1, box)
    noisy = np.clip(frame + np.random.default_rng(0).normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
    assert faces.still(noisy, 1, box)  # camera noise averages out
    assert not faces.still(frame, 1, box.shifted(2, 0))  # the track's box moved
    assert not faces.still(webcam_frame(shift_x=6), 1, box)  # the face moved under the box
    assert not faces.still(webcam_frame(gain=0.8), 1, box)  # the light changed

    faces.keep_only([2])
    assert not faces.still(frame, 1, box)  # its track ended
