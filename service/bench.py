"""`moodfeed bench`: how fast the vision engine is on this machine, against the naive pipeline, in one run.

In-process figures run pinned to one core: the naive pipeline (stock full-resolution Haar, then the
classifier on every frame), our stream path, detection and classification on their own, and single
photos. Then a real `moodfeed serve` on 127.0.0.1 (all cores) is timed over HTTP (`POST /predict` at
concurrency 1, 4 and 16) and over WebSockets (1 and 8 streams, one frame in flight each, as the page
sends them). The frames are built from scikit-image's astronaut photo (public domain): 640x480 webcam
frames with one face about 110 px tall, and a second one in every other frame.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import cv2
import httpx
import numpy as np
from PIL import Image

from model.timing import CallTimes, time_each
from service.config import Settings
from service.fer_peer import fer_version
from service.localserver import served, stream_url
from service.photo_bench import (
    STOCK_MIN_FACE_PX,
    compare_all,
    fer_detections,
    read_fer2013_scenes,
    stock_haar,
)
from service.samples import ASTRONAUT_FACE, astronaut_face, skimage_grey
from service.vision.boxes import Box
from service.vision.classifier import crop_faces
from service.vision.engine import VisionEngine
from service.vision.images import decode_grey

FRAME_SHAPE = (480, 640)
JPEG_HEADERS = {"Content-Type": "image/jpeg"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=90, help="video frames per in-process measurement")
    parser.add_argument("--requests", type=int, default=64, help="/predict requests per concurrency level")
    parser.add_argument("--stream-seconds", type=float, default=10.0, help="how long each stream test runs")
    parser.add_argument(
        "--fer-python", type=Path, help="a Python with the fer package, to compare its photo path with ours"
    )
    parser.add_argument(
        "--fer2013", type=Path, help="FER2013 (as model.train reads it): its faces in photos too"
    )


def jpeg(grey: np.ndarray, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def webcam_clip(frame_count: int) -> list[bytes]:
    """JPEG frames of a person swaying a little; every other frame has a second, smaller face."""
    person = skimage_grey("astronaut")
    scale = 110 / ASTRONAUT_FACE.w
    person = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    face = ASTRONAUT_FACE.scaled(scale)
    second_face = cv2.resize(person[face.y : face.y + face.h, face.x : face.x + face.w], (100, 100))
    frames = []
    for index in range(frame_count):
        sway = round(8 * np.sin(index / 6))
        frame = np.full(FRAME_SHAPE, 96, np.uint8)
        left = 20 + sway
        visible = person[: FRAME_SHAPE[0] - 10, : FRAME_SHAPE[1] - left - 220]
        frame[10 : 10 + visible.shape[0], left : left + visible.shape[1]] = visible
        if index % 2:
            frame[150:250, 500 - sway : 600 - sway] = second_face
        frames.append(jpeg(frame))
    return frames


def group_photo() -> tuple[bytes, int]:
    """A 1280x960 photo with twelve copies of the astronaut's face, 35 to 120 px tall, and their count."""
    face = astronaut_face()
    shading = np.linspace(70, 170, 1280, dtype=np.float32)  # a plain wall, lit from one side
    photo = np.tile(shading, (960, 1)).astype(np.uint8)
    sides = np.linspace(35, 120, 12).astype(int)
    for index, side in enumerate(sides):
        row, col = divmod(index, 4)
        top, left = 40 + row * 300, 40 + col * 310
        photo[top : top + side, left : left + side] = cv2.resize(face, (side, side))
    return jpeg(photo, 90), len(sides)


@contextmanager
def one_core() -> Iterator[None]:
    """Run the block on a single core, as the per-core targets are stated."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def report(label: str, times: CallTimes) -> float:
    """One line of the bench: mean, p50 and p95 wall milliseconds (and CPU, when measured); the mean."""
    cpu = f"  cpu {times.cpu_mean_ms:7.1f} ms" if times.cpu_ms else ""
    p50, p95 = times.percentile_ms(0.5), times.percentile_ms(0.95)
    print(f"  {label:<44} mean {times.mean_ms:7.1f} ms  p50 {p50:7.1f}  p95 {p95:7.1f}{cpu}")
    return times.mean_ms


def in_process(engine: VisionEngine, clip: list[bytes], fer_python: Path | None) -> None:
    """The engine's figures without HTTP: video frames, classification, photos."""
    bench_video_frames(engine, clip, fer_python)
    bench_classification(engine, decode_grey(clip[0], engine.stream.limits))
    bench_photos(engine)


def bench_video_frames(engine: VisionEngine, clip: list[bytes], fer_python: Path | None) -> None:
    """The stream path against the naive pipeline (and `fer`, given its venv's Python), then by stage."""
    stock = {size: stock_haar(size) for size in (STOCK_MIN_FACE_PX, 96)}
    limits = engine.stream.limits

    def naive(frame: bytes, min_face_px: int = STOCK_MIN_FACE_PX) -> object:
        grey = decode_grey(frame, limits)
        return engine.classify(grey, stock[min_face_px](grey))

    print(f"Video frames, 640x480, one core ({len(clip)} frames, 1-2 faces ~100-110 px):")
    naive_ms = report("naive: stock Haar minSize 24 + classify", time_each(naive, clip))
    report("stock Haar minSize 96 + classify (reference)", time_each(lambda frame: naive(frame, 96), clip))
    session = engine.open_stream()
    ours_ms = report("ours: stream path end to end", time_each(session.analyse_frame, clip))
    print(f"  speed-up over naive: {naive_ms / ours_ms:.1f}x")
    if fer_python is not None:
        frames = [decode_grey(frame, limits) for frame in clip[:30]]
        fer_ms = statistics.median(ms for _, ms in fer_detections(fer_python, frames))
        speed_up = fer_ms / ours_ms
        print(
            f"  fer {fer_version(fer_python)} detect_emotions: median {fer_ms:.1f} ms/frame, "
            f"ours {speed_up:.1f}x faster"
        )
    breakdown = [session.analyse_frame(frame).timings for frame in clip]
    for stage in ("decode_ms", "detect_ms", "classify_ms"):
        print(f"    {stage[:-3]:<10} {statistics.fmean(getattr(t, stage) for t in breakdown):6.2f} ms/frame")
    greys = [decode_grey(frame, limits) for frame in clip]
    frame_height, frame_width = FRAME_SHAPE
    min_face = engine.stream_min_face_px(frame_width, frame_height)
    report(
        "ours: full scan alone (every frame)",
        time_each(lambda grey: engine.detector.scan(grey, min_face), greys),
    )


def bench_classification(engine: VisionEngine, grey: np.ndarray) -> None:
    """Milliseconds per face, one face at a time and eight at once."""
    print("Classification:")
    face = crop_faces(grey, [Box(0, 0, 100, 100)], engine.classifier.input_size)
    for batch in (1, 8):
        crops = np.repeat(face, batch, axis=0)
        times = time_each(engine.classifier.classify, [crops] * 50)
        per_face_ms, cpu_ms = times.mean_ms / batch, times.cpu_mean_ms / batch
        print(f"  batch of {batch}: {per_face_ms:6.2f} ms per face (cpu {cpu_ms:.2f})")


def bench_photos(engine: VisionEngine) -> None:
    """The /predict path on the astronaut and on a generated group photo at three smallest faces."""
    print("Photos through the /predict path, one core:")
    astronaut = jpeg(skimage_grey("astronaut"), 90)
    report("astronaut 512x512, min_face 24", time_each(engine.analyse_photo, [astronaut] * 5))
    group, faces = group_photo()
    for min_face_px in (24, 48, 96):
        found = len(engine.analyse_photo(group, min_face_px=min_face_px).faces)
        label = f"group 1280x960, min_face {min_face_px}: {found}/{faces} faces"
        report(label, time_each(partial(engine.analyse_photo, min_face_px=min_face_px), [group] * 3))


@contextmanager
def served_for_bench(data_dir: Path) -> Iterator[str]:
    """A real `moodfeed serve` on a free loopback port, offline and without rate limits."""
    environment = {
        "MOODFEED_RATE_LIMIT_PER_S": "0",
        "MOODFEED_MAX_STREAMS": "64",
        # Every stream of the bench comes from one address; it measures throughput, not fairness.
        "MOODFEED_MAX_STREAMS_PER_CLIENT": "64",
        "MOODFEED_VISION_WORKERS_PER_CLIENT": str(os.cpu_count() or 1),
    }
    with served(data_dir, environment) as url:
        yield url


async def predict_load(url: str, photo: bytes, concurrency: int, requests: int) -> tuple[list[float], float]:
    """Latencies (ms) of `requests` POSTs from `concurrency` clients at once, and requests per second."""
    latencies: list[float] = []
    queue = list(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            started = time.perf_counter()
            response = await http.post(f"{url}/predict", content=photo, headers=JPEG_HEADERS)
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, requests / elapsed


async def stream_load(url: str, clip: list[bytes], streams: int, seconds: float) -> list[float]:
    """Answered frames per second of each of `streams` sockets sending with one frame in flight."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async def viewer() -> float:
        answered = 0
        async with connect(stream_url(url), origin=Origin(url), max_size=2**20) as socket:
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                await socket.send(clip[answered % len(clip)])
                await socket.recv()
                answered += 1
            return answered / (time.perf_counter() - started)

    return list(await asyncio.gather(*(viewer() for _ in range(streams))))


def over_loopback(clip: list[bytes], requests: int, stream_seconds: float) -> None:
    photo = jpeg(skimage_grey("astronaut"), 90)
    with tempfile.TemporaryDirectory() as data_dir, served_for_bench(Path(data_dir)) as url:
        print(f"POST /predict over HTTP on 127.0.0.1 (astronaut 512x512 JPEG, {os.cpu_count()} cores):")
        for concurrency in (1, 4, 16):
            latencies, throughput = asyncio.run(predict_load(url, photo, concurrency, requests))
            report(f"concurrency {concurrency:>2} ({throughput:5.1f} requests/s)", CallTimes(latencies, []))
        print(f"WS /ws/stream, one frame in flight per stream, {stream_seconds:g} s each:")
        for streams in (1, 8):
            rates = asyncio.run(stream_load(url, clip, streams, stream_seconds))
            slowest, mean = min(rates), statistics.fmean(rates)
            print(f"  {streams} stream(s): {slowest:5.1f} fps slowest, {mean:5.1f} fps mean each")


def run(arguments: argparse.Namespace) -> int:
    fer2013_items = read_fer2013_scenes(arguments.fer2013)
    engine = VisionEngine.from_settings(Settings())
    clip = webcam_clip(arguments.frames)
    with one_core():
        in_process(engine, clip, arguments.fer_python)
        compare_all(engine, arguments.fer_python, fer2013_items)
    over_loopback(clip, arguments.requests, arguments.stream_seconds)
    return 0
