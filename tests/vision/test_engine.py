"""The engine end to end: photos to faces and a mood; a stream of frames to tracked faces and a mood."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from service.samples import ASTRONAUT_FACE, astronaut_face
from service.vision.boxes import Box
from service.vision.engine import VisionEngine
from service.vision.images import UndecodableImage
from tests.vision.frames import (
    astronaut_grey,
    encode,
    frames_held,
    paste,
    webcam_face_box,
    webcam_frame,
)


def test_a_photo_gives_its_faces_with_emotions_its_size_and_a_mood(engine: VisionEngine) -> None:
    analysis = engine.analyse_photo(encode(astronaut_grey()))
    assert (analysis.width, analysis.height, analysis.min_face_px) == (512, 512, 24)
    assert len(analysis.faces) == 1
    face = analysis.faces[0]
    assert face.box.iou(ASTRONAUT_FACE) > 0.7
    assert set(face.reading.scores) == set(engine.labels)
    assert sum(face.reading.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert analysis.mood == face.reading
    assert analysis.timings.total_ms > 0


def test_without_detection_the_whole_photo_is_one_face(engine: VisionEngine) -> None:
    analysis = engine.analyse_photo(encode(astronaut_face()), detect=False)
    assert [(face.box.x, face.box.y, face.box.w, face.box.h) for face in analysis.faces] == [(0, 0, 95, 95)]
    assert analysis.min_face_px is None


def test_a_photo_without_faces_has_no_mood(engine: VisionEngine) -> None:
    analysis = engine.analyse_photo(encode(np.full((300, 400), 128, np.uint8)))
    assert analysis.faces == [] and analysis.mood is None


def test_a_large_photo_is_scanned_for_faces_in_proportion_to_its_size(engine: VisionEngine) -> None:
    analysis = engine.analyse_photo(encode(np.full((3000, 2000), 128, np.uint8), quality=50))
    assert analysis.min_face_px == 40  # 2% of the shorter side, not 24 px


def test_the_caller_chooses_the_smallest_face(engine: VisionEngine) -> None:
    boxes = [Box(40, 60, 50, 50), Box(250, 40, 140, 140)]
    frame = paste(np.full((480, 640), 110, np.uint8), astronaut_face(), boxes)
    assert len(engine.analyse_photo(encode(frame), min_face_px=24).faces) == 2
    assert len(engine.analyse_photo(encode(frame), min_face_px=100).faces) == 1


def test_the_mood_of_a_bright_and_a_dark_face_leans_to_the_larger(engine: VisionEngine) -> None:
    face = astronaut_face()
    bright = np.clip(face.astype(int) + 90, 0, 255).astype(np.uint8)
    dark = (face * 0.3).astype(np.uint8)
    frame = paste(np.full((480, 640), 128, np.uint8), bright, [Box(40, 100, 200, 200)])
    frame = paste(frame, dark, [Box(400, 150, 100, 100)])
    analysis = engine.analyse_photo(encode(frame, "PNG"))
    assert [face.reading.emotion for face in analysis.faces] == ["happy", "sad"]
    assert analysis.mood is not None and analysis.mood.emotion == "happy"


def test_a_stream_keeps_one_track_for_a_face_that_moves(engine: VisionEngine) -> None:
    session = engine.open_stream()
    track_ids = []
    for frame in range(12):
        shift = 4 * frame
        analysis = session.analyse_frame(encode(webcam_frame(shift_x=shift)), now_s=frame / 15)
        assert len(analysis.faces) == 1
        assert analysis.faces[0].box.iou(webcam_face_box(shift_x=shift)) > 0.6
        track_ids.append(analysis.faces[0].track_id)
    assert set(track_ids) == {1}


def test_a_face_that_suddenly_looks_larger_keeps_its_track(engine: VisionEngine) -> None:
    """The viewer leans in: between two frames the face grows by half, more than the search around its last
    box looks for. The track holds its last box, and before it would end, a scan of the whole frame gives
    it the face back."""
    face = webcam_face_box()
    centre_x, centre_y, zoom = face.x + face.w / 2, face.y + face.h / 2, 1.5
    warp = np.array([[zoom, 0, (1 - zoom) * centre_x], [0, zoom, (1 - zoom) * centre_y]])
    leaning_in = cv2.warpAffine(webcam_frame(), warp, (640, 480))
    left, top = (round(value) for value in warp @ [face.x, face.y, 1])
    larger = Box(left, top, round(face.w * zoom), round(face.h * zoom))
    session = engine.open_stream()
    answers = []
    for frame in range(8):  # at 30 fps: no full scan is due in these 0.27 s
        analysis = session.analyse_frame(
            encode(webcam_frame() if frame < 2 else leaning_in), now_s=frame / 30
        )
        answers.append([(found.track_id, found.held) for found in analysis.faces])
    assert all(len(answer) == 1 and answer[0][0] == 1 for answer in answers), answers
    assert answers[-2:] == [[(1, False)]] * 2
    assert analysis.faces[0].box.iou(larger) > 0.5


def test_a_stream_follows_a_face_in_dim_light(engine: VisionEngine) -> None:
    session = engine.open_stream()
    for frame in range(4):
        analysis = session.analyse_frame(encode(webcam_frame(shift_x=3 * frame, gain=0.25)), now_s=frame / 15)
        assert len(analysis.faces) == 1


def test_a_streams_mood_moves_smoothly_and_fades_when_the_face_leaves(engine: VisionEngine) -> None:
    session = engine.open_stream()
    bright, dark = webcam_frame(gain=0.5, offset=120), webcam_frame(gain=0.35)
    first = session.analyse_frame(encode(bright), now_s=0.0)
    assert first.mood is not None and first.mood.emotion == "happy"
    sad_share = []
    for frame in range(1, 16):  # one second of a dark (sad) face at 15 frames per second
        analysis = session.analyse_frame(encode(dark), now_s=frame / 15)
        assert analysis.mood is not None
        sad_share.append(analysis.mood.scores["sad"])
    assert sad_share == sorted(sad_share)  # it moves one way, no jumps back
    assert sad_share[0] < 0.3 < sad_share[-1]
    empty = encode(np.full((480, 640), 96, np.uint8))
    held = session.analyse_frame(empty, now_s=16 / 15)
    assert [face.held for face in held.faces] == [True] and held.faces[0].raw is None
    # The face was last seen in frame 15; its track is held as long as both of its holds last.
    held_frames = frames_held(engine.stream, 15)
    for frame in range(17, 16 + held_frames):
        analysis = session.analyse_frame(empty, now_s=frame / 15)
        assert [face.held for face in analysis.faces] == [True]
    analysis = session.analyse_frame(empty, now_s=(16 + held_frames) / 15)
    assert analysis.faces == []
    assert analysis.mood is not None and analysis.mood.emotion == "sad"
    assert analysis.mood.scores["sad"] < sad_share[-1]  # fading, not frozen
    gone = session.analyse_frame(empty, now_s=16 / 15 + 5 * engine.stream.half_life_s)
    assert gone.mood is None  # nobody in view for a while: no mood


def test_a_texture_the_quick_scan_takes_for_a_face_never_starts_a_track(engine: VisionEngine) -> None:
    # At JPEG quality 90 the stream's quick scan sees a 128 px "face" on the astronaut's space shuttle on
    # every full scan; the photo path never does. The real face keeps one track throughout.
    frame = encode(data.astronaut(), quality=90)
    session = engine.open_stream()
    tracks = {face.track_id for index in range(24) for face in session.analyse_frame(frame, index / 15).faces}
    assert tracks == {1}
    photo_faces = engine.analyse_photo(frame).faces
    assert len(photo_faces) == 1


def test_a_bad_frame_raises_and_the_stream_carries_on(engine: VisionEngine) -> None:
    session = engine.open_stream()
    with pytest.raises(UndecodableImage):
        session.analyse_frame(b"not a frame", now_s=0.0)
    assert len(session.analyse_frame(encode(webcam_frame()), now_s=0.1).faces) == 1


def test_frames_of_another_size_end_the_tracks_instead_of_holding_boxes_outside_them(
    engine: VisionEngine,
) -> None:
    session = engine.open_stream()
    assert len(session.analyse_frame(encode(webcam_frame()), now_s=0.0).faces) == 1

    small = session.analyse_frame(encode(np.full((100, 100), 90, np.uint8)), now_s=0.1)

    assert small.faces == []  # not the last face held over, at a box that lies outside this frame
    assert small.mood is not None  # fading from the viewer's last mood, as when they look away
