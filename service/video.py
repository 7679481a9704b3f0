"""Analyse a video as one stream: tracked faces and a smoothed mood, frame by frame.

    from service.video import analyze_video
    for frame in analyze_video(Path("interview.mp4"), every_s=0.2):
        print(frame.time_s, [(face.track_id, face.reading.emotion) for face in frame.faces], frame.mood)

Frames are decoded once, in order, by OpenCV's FFmpeg, and go through the same stream path as a webcam
(tracking, smoothing), timed by the video's own clock rather than the wall clock, so the smoothing means
the same at any speed of analysis (a series of photos: `service.photo_series`). Nothing is kept but the
current frame: memory stays flat however long the video is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from service.config import Settings
from service.frames import AnalysedFrame
from service.outputs import opencv_name
from service.vision.engine import VisionEngine

# A file FFmpeg cannot read is reported by us, in words and with its name; FFmpeg's and OpenCV's own
# warnings about it would only break the log's one-JSON-object-a-line format and the CLI's messages.
# (FFmpeg reads its level when OpenCV first opens a video, so this must come before.)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

# The containers `POST /analyze` takes (and the page offers), by media type, with the names people know.
VIDEO_TYPES = {
    "video/mp4": "MP4",
    "video/webm": "WebM",
    "video/quicktime": "QuickTime",
    "video/x-matroska": "Matroska",
    "video/x-msvideo": "AVI",
}
VIDEO_KINDS = ", ".join(VIDEO_TYPES.values())

DEFAULT_FPS = 30.0  # for a file that does not say its frame rate
VIDEO_TIME_AXIS = "time in the video (s)"  # what a frame's time_s counts, in words for a plot's axis
# One analysis takes one core, as the engine's scans and model runs do (FFmpeg would take two threads
# by default); parallelism comes from analysing several videos at once.
DECODING = [cv2.CAP_PROP_N_THREADS, 1]
# No camera films faster: a video with more frames than this per second of its limit is past the limit,
# whatever its timestamps say.
MAX_FPS = 240.0


class VideoError(ValueError):
    """A file OpenCV cannot read as a video (corrupt, empty, not a video, no frame in it); `reason` says
    why without the file's name."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.reason = reason


class VideoOverLimit(VideoError):
    """A video longer, or with larger frames, than the caller allows."""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    frames: int  # as the container says; 0 when it does not know
    fps: float
    duration_s: float
    width: int
    height: int

    def check(self, path: Path | str, max_s: float, max_pixels: int) -> None:
        """`VideoOverLimit` if the container says the video is longer, or its frames larger, than allowed."""
        if self.duration_s > max_s:
            raise VideoOverLimit(path, f"the clip lasts {self.duration_s:.1f} s; the limit is {max_s:g} s")
        if self.width * self.height > max_pixels:
            raise VideoOverLimit(
                path,
                f"the clip's frames are {self.width}x{self.height} pixels, more than the limit of "
                f"{max_pixels} pixels",
            )

    def frames_every(self, every_s: float | None) -> int:
        """How many frames sampling every `every_s` seconds (every frame: None) will give; 0 if unknown."""
        if not every_s or every_s * self.fps <= 1 or not self.duration_s:
            return self.frames
        return int(self.duration_s / every_s) + 1


@dataclass(frozen=True, slots=True)
class OpenedVideo:
    """A video opened for decoding, with what its container says; `analyze_video` releases it when done."""

    path: Path
    capture: cv2.VideoCapture
    info: VideoInfo

    def release(self) -> None:
        """Close it without analysing it (analyze_video closes it itself)."""
        self.capture.release()


@contextmanager
def video_in_memory(data: bytes) -> Iterator[Path]:
    """A path through which FFmpeg reads `data` from memory: an anonymous in-memory file (memfd), so an
    uploaded clip never touches the disk."""
    descriptor = os.memfd_create("moodfeed-clip", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(descriptor), "wb") as handle:
            handle.write(data)
        yield Path(f"/proc/self/fd/{descriptor}")
    finally:
        os.close(descriptor)


class FrameClock:
    """Each frame's time from the video's first frame: the container's timestamp where it gives one that
    moves forward, else the previous frame's time plus one frame at the stated rate.

    Counting frames at the stated rate is wrong for variable-rate video (phones slow down in the dark) and
    for browser recordings, whose "frame rate" is often a time base such as 1000; the timestamps are not.
    """

    def __init__(self, fps: float):
        self.frame_s = 1 / fps
        self._start_s: float | None = None  # the first frame's timestamp: some containers start later than 0
        self._last_s = 0.0

    def time_s(self, reported_ms: float) -> float:
        """The time of the frame just grabbed, whose timestamp the container reports as `reported_ms`."""
        reported_s = reported_ms / 1000 if math.isfinite(reported_ms) and reported_ms >= 0 else None
        if self._start_s is None:
            self._start_s = reported_s or 0.0
            return 0.0
        if reported_s is not None and reported_s - self._start_s > self._last_s:
            self._last_s = reported_s - self._start_s
        else:
            self._last_s += self.frame_s
        return self._last_s


def open_video(path: Path) -> OpenedVideo:
    """The opened video and what its container says of it; `VideoError` if it is not a readable video."""
    if not path.is_file():
        reason = "not a regular file" if path.exists() else "no such file"
        raise VideoError(path, reason)
    if path.stat().st_size == 0:
        raise VideoError(path, "the file is empty")
    capture = _capture(path)
    if not capture.isOpened():
        raise VideoError(path, "not a video OpenCV's FFmpeg can read")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if np.isfinite(fps) and fps > 0 else DEFAULT_FPS
    frames = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    width, height = (
        max(0, int(capture.get(side))) for side in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
    )
    info = VideoInfo(frames, fps, frames / fps if frames else 0.0, width, height)
    return OpenedVideo(path, capture, info)


def _capture(path: Path) -> cv2.VideoCapture:
    """OpenCV's FFmpeg reader on `path`, decoding on one thread. OpenCV takes file names only in UTF-8 (and
    crashes on others), so a file whose name is in another encoding is opened here and read through its
    descriptor's /proc name."""
    try:
        return cv2.VideoCapture(opencv_name(path), cv2.CAP_FFMPEG, DECODING)
    except OSError:
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise VideoError(path, error.strerror or str(error)) from None
        try:  # FFmpeg opens the file anew through the link, so ours can be closed once it has
            return cv2.VideoCapture(f"/proc/self/fd/{descriptor}", cv2.CAP_FFMPEG, DECODING)
        finally:
            os.close(descriptor)


def analyze_video(
    video: Path | OpenedVideo,
    every_s: float | None = None,
    engine: VisionEngine | None = None,
    with_images: bool = False,
    max_s: float | None = None,
    max_pixels: int | None = None,
) -> Iterator[AnalysedFrame]:
    """Each analysed frame of the video (a path, or one `open_video` opened to look at its length first),
    in order: every frame, or one every `every_s` seconds of video (`with_images`: each with its colour
    frame).

    Raises `VideoError` before the first frame if the file is not a readable video, or if it holds no
    frame at all; with `max_s`, once the video runs past `max_s` seconds; with `max_pixels`, at a frame
    larger than that. A container's header can lie, so a caller that limits length or size must pass the
    limits as well as check `VideoInfo`.
    """
    engine = engine or VisionEngine.from_settings(Settings())
    opened = video if isinstance(video, OpenedVideo) else open_video(video)
    try:
        session, analysed = engine.open_stream(), 0
        for index, time_s, frame_bgr in _sampled_frames(opened, every_s, max_s, max_pixels):
            grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
            analysis = session.analyse_grey(np.ascontiguousarray(grey), now_s=time_s)
            analysed += 1
            image = frame_bgr if with_images else None
            yield AnalysedFrame.of(str(opened.path), index, time_s, analysis, image)
        if analysed == 0:
            raise VideoError(opened.path, "no frame could be decoded")
    finally:
        opened.capture.release()


def _sampled_frames(
    opened: OpenedVideo, every_s: float | None, max_s: float | None, max_pixels: int | None
) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, time_s, colour frame) of each frame due, in order, as `analyze_video` describes; frames
    between those due are grabbed but never decoded, so skipping them costs little."""
    capture, path, clock = opened.capture, opened.path, FrameClock(opened.info.fps)
    next_due_s, index = 0.0, -1
    while capture.grab():
        index += 1
        time_s = clock.time_s(capture.get(cv2.CAP_PROP_POS_MSEC))
        if max_s is not None and (time_s > max_s or index >= max_s * MAX_FPS):
            raise VideoOverLimit(path, f"the video runs past the limit of {max_s:g} s")
        if every_s and time_s + 1e-9 < next_due_s:
            continue
        ok, frame_bgr = capture.retrieve()
        if not ok:
            return
        if max_pixels is not None and frame_bgr.shape[0] * frame_bgr.shape[1] > max_pixels:
            raise VideoOverLimit(path, f"a frame is larger than the limit of {max_pixels} pixels")
        if every_s:
            next_due_s = _next_due(time_s, every_s)
        yield index, time_s, frame_bgr


def _next_due(time_s: float, every_s: float) -> float:
    """The first point of the grid 0, every_s, 2 every_s, ... after `time_s` (`time_s` itself when the grid
    is finer than a float can count: every frame is due then)."""
    steps = (time_s + 1e-9) / every_s
    return (math.floor(steps) + 1) * every_s if math.isfinite(steps) else time_s
