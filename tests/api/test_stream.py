"""WS /ws/stream: an answer per analysed frame, stale frames dropped and counted, bad frames answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.websockets import WebSocketDisconnect

from model.labels import EMOTIONS
from service.api.routes.stream import MAX_CLOSE_REASON_BYTES, LatestFrame, close_reason
from service.api.vision import Vision
from service.config import Settings
from service.main import create_app
from tests.support import PAGE_ORIGIN, vision_settings, wait_until
from tests.vision.frames import encode, webcam_face_box, webcam_frame

FRAME = encode(webcam_frame())


def receive(socket: Any) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(socket.receive_text())
    return answer


def test_each_frame_gets_its_tracked_faces_and_the_mood(vision_client: TestClient) -> None:
    with vision_client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket:
        socket.send_bytes(FRAME)
        answer = receive(socket)
    assert {"seq", "faces", "mood", "dropped"} <= set(answer)
    assert (answer["seq"], answer["dropped"]) == (1, 0)
    (face,) = answer["faces"]
    assert set(face) == {"track_id", "box", "emotion", "confidence", "scores", "held", "raw"}
    assert face["track_id"] == 1 and face["held"] is False
    assert set(face["raw"]) == {"emotion", "confidence", "scores"}  # this frame's own, unsmoothed reading
    assert list(face["scores"]) == list(EMOTIONS)
    box = webcam_face_box()
    assert abs(face["box"]["x"] - box.x) < 15 and abs(face["box"]["w"] - box.w) < 20
    assert set(answer["mood"]) == {"emotion", "confidence", "scores"}
    assert answer["mood"]["emotion"] == face["emotion"]


def test_a_face_keeps_its_track_id_from_frame_to_frame(vision_client: TestClient) -> None:
    with vision_client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket:
        track_ids = []
        for frame in range(5):
            socket.send_bytes(encode(webcam_frame(shift_x=5 * frame)))
            track_ids.append([face["track_id"] for face in receive(socket)["faces"]])
    assert track_ids == [[1]] * 5


def test_a_frame_without_faces_has_no_faces_and_no_mood_yet(vision_client: TestClient) -> None:
    with vision_client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket:
        socket.send_bytes(encode(webcam_frame(gain=0.0, offset=96)))
        answer = receive(socket)
    assert answer["faces"] == [] and answer["mood"] is None


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (b"not a jpeg at all", "not an image"),
        (FRAME[: len(FRAME) // 2], "truncated"),
        (bytes(3 * 1024 * 1024), "limit"),
    ],
)
def test_a_bad_frame_gets_an_error_and_the_stream_stays_open(
    vision_client: TestClient, message: bytes, why: str
) -> None:
    with vision_client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket:
        socket.send_bytes(message)
        error = receive(socket)
        socket.send_bytes(FRAME)
        answer = receive(socket)
    assert error["seq"] == 1 and why in error["error"]
    assert answer["seq"] == 2 and len(answer["faces"]) == 1


def test_a_text_message_gets_an_error_saying_to_send_binary_frames(vision_client: TestClient) -> None:
    with vision_client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket:
        socket.send_text("hello")
        assert "binary" in receive(socket)["error"]


def frames_dropped() -> float:
    return REGISTRY.get_sample_value("moodfeed_stream_frames_dropped_total") or 0.0


def test_frames_sent_faster_than_analysed_are_dropped_and_counted_never_queued(
    tiny_model: Path, tmp_path: Path
) -> None:
    burst = [encode(webcam_frame(shift_x=2 * frame)) for frame in range(12)]
    dropped_before = frames_dropped()
    with (
        TestClient(create_app(vision_settings(tiny_model, tmp_path, vision_workers=1))) as client,
        client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket,
    ):
        vision: Vision = client.app.state.vision  # type: ignore[attr-defined]
        assert client.portal is not None
        # Another address holds the only vision worker, so this stream falls behind however fast the
        # server is: of the frames that arrive meanwhile only the newest may wait, the others are dropped
        # (ten of the twelve, or eleven if the first was not yet taken for analysis when the second came).
        with client.portal.wrap_async_context_manager(vision.workers.slot("198.51.100.7")):
            for frame in burst:
                socket.send_bytes(frame)
            assert wait_until(lambda: frames_dropped() - dropped_before >= len(burst) - 2)
        answers = [receive(socket)]
        while answers[-1]["seq"] < len(burst):
            answers.append(receive(socket))
    seqs = [answer["seq"] for answer in answers]
    assert seqs == sorted(set(seqs))  # in order, none twice
    assert answers[-1]["dropped"] == len(burst) - len(answers)  # every frame is answered or counted
    assert len(answers) < len(burst)  # sent while the server was busy: the stale ones were skipped


def test_the_mailbox_keeps_only_the_newest_waiting_frame() -> None:
    async def scenario() -> tuple[Any, ...]:
        mailbox = LatestFrame()
        for seq in (1, 2, 3):
            mailbox.put(seq, b"frame %d" % seq)
        newest = await mailbox.take()
        mailbox.put(4, b"frame 4")
        after = await mailbox.take()
        mailbox.close()
        return newest, after, await mailbox.take(), mailbox.dropped

    assert anyio.run(scenario) == ((3, b"frame 3"), (4, b"frame 4"), None, 2)


def test_a_stream_opened_while_the_model_loads_is_told_to_try_again_later(offline_settings: Settings) -> None:
    client = TestClient(create_app(offline_settings))  # not entered: the app's startup has not run
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket,
    ):
        socket.receive_text()
    assert closed.value.code == 1013 and "still starting" in closed.value.reason


def test_a_close_reason_is_cut_to_the_bytes_a_close_frame_holds_not_its_characters() -> None:
    reason = close_reason("модель " * 40)  # two bytes a letter
    assert len(reason.encode()) <= MAX_CLOSE_REASON_BYTES < len(("модель " * 40).encode())
    assert ("модель " * 40).startswith(reason) and len(reason.encode()) >= MAX_CLOSE_REASON_BYTES - 1


def test_without_a_usable_model_the_socket_closes_saying_why(tmp_path: Path) -> None:
    app = create_app(vision_settings(tmp_path / "missing.onnx", tmp_path))
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as socket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        socket.receive_text()
    assert closed.value.code == 1011
    assert "unavailable" in closed.value.reason
