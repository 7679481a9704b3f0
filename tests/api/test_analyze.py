"""POST /analyze: a clip in, JSON Lines of its frames and a summary out; clear refusals for bad clips."""

from __future__ import annotations

import json
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from service.main import create_app
from tests.support import vision_settings
from tests.vision.frames import VIDEO_FPS, VIDEO_SIZE, astronaut_grey, encode, face_frame, write_video


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
    assert garbage.json()["detail"].endswith(": not a video OpenCV's FFmpeg can read")  # the reason, too
    empty = post(vision_client, b"")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]


def test_a_clip_past_the_byte_or_time_limit_is_refused_with_413(tiny_model: Path, tmp_path: Path) -> None:
    with TestClient(create_app(vision_settings(tiny_model, tmp_path, max_video_bytes=2048))) as client:
        too_big = post(client, b"\x00" * 4096)
    assert too_big.status_code == 413 and "2048 bytes" in too_big.json()["detail"]
    with TestClient(create_app(vision_settings(tiny_model, tmp_path, max_video_seconds=0.5))) as client:
        too_long = post(client, clip_bytes(tmp_path, frames=30))
    assert too_long.status_code == 413 and "0.5 s" in too_long.json()["detail"]


def test_a_clip_of_frames_larger_than_the_pixel_limit_is_refused_with_413(
    tiny_model: Path, tmp_path: Path
) -> None:
    width, height = VIDEO_SIZE
    limit = width * height - 1  # a small file can hold huge frames: their size is what costs memory
    with TestClient(
        create_app(vision_settings(tiny_model, tmp_path, max_video_frame_pixels=limit))
    ) as client:
        refused = post(client, clip_bytes(tmp_path))
    assert refused.status_code == 413 and f"{width}x{height} pixels" in refused.json()["detail"]


def test_a_video_without_a_single_frame_is_refused_with_400(
    vision_client: TestClient, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.avi"
    cv2.VideoWriter(str(empty), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, VIDEO_SIZE).release()
    assert empty.stat().st_size > 0  # a container, with headers and no frame

    refused = post(vision_client, empty.read_bytes(), media_type="video/x-msvideo")

    assert refused.status_code == 400 and "with a frame" in refused.json()["detail"]
    assert refused.json()["detail"].endswith(": no frame could be decoded")


def test_a_sampling_step_finer_than_the_frames_analyses_every_frame_at_once(
    vision_client: TestClient, tmp_path: Path
) -> None:
    response = post(vision_client, clip_bytes(tmp_path), query="?every=1e-300")  # no step-by-step catching up

    *frames, last = [json.loads(line) for line in response.text.splitlines()]
    assert [frame["frame"] for frame in frames] == list(range(15))


def avi_claiming_one_frame(path: Path, frames: int) -> bytes:
    """An MJPEG AVI of `frames` face frames whose headers say it holds one: a lie about its length."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, VIDEO_SIZE)
    for _ in range(frames):
        writer.write(face_frame(100))
    writer.release()
    avi = bytearray(path.read_bytes())
    main_header, stream_header = avi.find(b"avih"), avi.find(b"strh")
    avi[main_header + 24 : main_header + 28] = struct.pack("<I", 1)  # dwTotalFrames
    avi[stream_header + 40 : stream_header + 44] = struct.pack("<I", 1)  # dwLength
    return bytes(avi)


def test_a_clip_whose_header_hides_its_length_is_cut_off_at_the_time_limit(
    tiny_model: Path, tmp_path: Path
) -> None:
    body = avi_claiming_one_frame(tmp_path / "liar.avi", frames=45)  # 3 s at 15 fps
    with TestClient(create_app(vision_settings(tiny_model, tmp_path, max_video_seconds=0.5))) as client:
        response = post(client, body, media_type="video/x-msvideo")

    assert response.status_code == 200  # the header passed; the decoded frames did not
    *frames, error, last = [json.loads(line) for line in response.text.splitlines()]
    assert max(frame["time_s"] for frame in frames) <= 0.5
    assert error == {"error": "the video runs past the limit of 0.5 s"}
    assert last["summary"]["frames_analysed"] == len(frames) <= 0.5 * VIDEO_FPS + 1
    assert last["summary"]["duration_s"] == frames[-1]["time_s"]  # not the header's 1/15 s


def test_a_clip_being_analysed_keeps_its_own_slot_and_photos_do_not_wait_for_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    settings = vision_settings(tiny_model, tmp_path, max_concurrent_uploads=1, max_concurrent_videos=1)
    clip = clip_bytes(tmp_path, frames=60)
    photo_body, photo_type = encode(astronaut_grey()), {"Content-Type": "image/jpeg"}
    # A photo stuck behind the clip fails the test at the timeout, rather than hanging it.
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(1) as pool:
        with client.stream("POST", "/analyze", content=clip, headers={"Content-Type": "video/mp4"}) as stream:
            lines = stream.iter_lines()
            assert json.loads(next(lines))["frame"] == 0  # the clip holds the one video slot now
            photo = pool.submit(client.post, "/predict", content=photo_body, headers=photo_type)
            assert photo.result(timeout=30).status_code == 200
            assert json.loads(list(lines)[-1])["summary"]["frames_analysed"] == 60
        again = post(client, clip_bytes(tmp_path, frames=5))  # the slot came back with the last line
    assert again.status_code == 200


def faces_observed() -> tuple[float, float]:
    """How many frames the faces-per-frame histogram has seen, and how many faces in them."""
    count = REGISTRY.get_sample_value("moodfeed_faces_per_frame_count") or 0.0
    return count, REGISTRY.get_sample_value("moodfeed_faces_per_frame_sum") or 0.0


def test_a_clips_frames_are_counted_in_the_vision_metrics(vision_client: TestClient, tmp_path: Path) -> None:
    before_frames, before_faces = faces_observed()
    response = post(vision_client, clip_bytes(tmp_path), query="?every=0.2")
    assert response.status_code == 200
    frames = [json.loads(line) for line in response.text.splitlines()][:-1]
    after_frames, after_faces = faces_observed()
    assert after_frames - before_frames == len(frames) == 5
    assert after_faces - before_faces == sum(len(frame["faces"]) for frame in frames)
