"""POST /analyze: a clip in, JSON Lines of its frames and a summary out; clear refusals for bad clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.main import create_app
from tests.support import vision_settings
from tests.vision.test_video_analysis import face_frame, write_video


def clip_bytes(tmp_path: Path, frames: int = 15) -> bytes:
    return write_video(tmp_path / "clip.mp4", [face_frame(100)] * frames).read_bytes()


def post(client: TestClient, body: bytes, media_type: str = "video/mp4", query: str = "") -> Any:
    return client.post(f"/analyze{query}", content=body, headers={"Content-Type": media_type})


def test_a_clip_streams_one_line_per_frame_then_its_summary(
    vision_client: TestClient, tmp_path: Path
) -> None:
    response = post(vision_client, clip_bytes(tmp_path), query="?every=0.2")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    *frames, last = lines
    assert [frame["frame"] for frame in frames] == [0, 3, 6, 9, 12]
    assert all(frame["faces"] and frame["faces"][0]["track_id"] == 1 for frame in frames)
    assert last["summary"]["frames_analysed"] == 5 and last["summary"]["tracks"]["1"]["frames"] == 5


def test_what_is_not_a_video_is_refused_with_400_or_415(vision_client: TestClient) -> None:
    wrong_type = post(vision_client, b"hello", media_type="text/plain")
    assert wrong_type.status_code == 415 and "send a video" in wrong_type.json()["detail"]
    garbage = post(vision_client, b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 4000)
    assert garbage.status_code == 400 and "not a video" in garbage.json()["detail"]
    empty = post(vision_client, b"")
    assert empty.status_code == 400


def test_a_clip_past_the_byte_or_time_limit_is_refused_with_413(tiny_model: Path, tmp_path: Path) -> None:
    with TestClient(create_app(vision_settings(tiny_model, tmp_path, max_video_bytes=2048))) as client:
        too_big = post(client, b"\x00" * 4096)
    assert too_big.status_code == 413 and "2048 bytes" in too_big.json()["detail"]
    with TestClient(create_app(vision_settings(tiny_model, tmp_path, max_video_seconds=0.5))) as client:
        too_long = post(client, clip_bytes(tmp_path, frames=30))
    assert too_long.status_code == 413 and "0.5 s" in too_long.json()["detail"]
