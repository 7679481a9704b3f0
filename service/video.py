"""Analyse a video or a series of photos as one stream: tracked faces and a smoothed mood, frame by frame.

    from service.video import analyze_video
    for frame in analyze_video(Path("interview.mp4"), every_s=0.2):
        print(frame.time_s, [(face.track_id, face.reading.emotion) for face in frame.faces], frame.mood)

Frames are decoded once, in order, by OpenCV's FFmpeg, and go through the same stream path as a webcam
(tracking, smoothing), timed by the video's own clock rather than the wall clock, so the smoothing means
the same at any speed of analysis. Nothing is kept but the current frame: memory stays flat however long
the video is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from service.config import Settings
from service.vision.engine import VisionEngine
from service.vision.images import LOCAL_FILE_LIMITS, ImageError, decode_grey
from service.vision.results import EmotionReading, Face

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_FPS = 30.0  # for a file that does not say its frame rate


class VideoError(ValueError):
    """A file OpenCV cannot read as a video (corrupt, empty, not a video)."""


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """One analysed frame (or photo): where it is in its source, its tracked faces and the mood so far."""

    source: str
    frame: int  # the frame's index in the video (or the photo's in the series)
    time_s: float  # the frame's own timestamp in the video
    faces: list[Face]
    mood: EmotionReading | None
    width: int
    height: int
    image_bgr: np.ndarray | None = None  # the frame itself, when asked for (to draw on); never kept after


@dataclass(frozen=True, slots=True)
class VideoInfo:
    frames: int  # as the container says; 0 when it does not know
    fps: float
    duration_s: float


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


def open_video(path: Path) -> OpenedVideo:
    """The opened video and what its container says of it; `VideoError` if it is not a readable video."""
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise VideoError(f"{path}: not a video OpenCV's FFmpeg can read")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if np.isfinite(fps) and fps > 0 else DEFAULT_FPS
    frames = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    return OpenedVideo(path, capture, VideoInfo(frames, fps, frames / fps if frames else 0.0))


def analyze_video(
    video: Path | OpenedVideo,
    every_s: float | None = None,
    engine: VisionEngine | None = None,
    with_images: bool = False,
) -> Iterator[AnalysedFrame]:
    """Each analysed frame of the video (a path, or one `open_video` opened to look at its length first),
    in order: every frame, or one every `every_s` seconds of video (`with_images`: each with its colour
    frame).

    Raises `VideoError` before the first frame if the file is not a readable video, or if it holds no
    frame at all.
    """
    engine = engine or VisionEngine.from_settings(Settings())
    opened = video if isinstance(video, OpenedVideo) else open_video(video)
    capture, info, path = opened.capture, opened.info, opened.path
    try:
        session = engine.open_stream()
        next_due_s, index, analysed = 0.0, -1, 0
        while True:
            if not capture.grab():
                break
            index += 1
            time_s = index / info.fps
            if every_s and time_s + 1e-9 < next_due_s:
                continue  # grabbed, never decoded: skipping frames costs little
            ok, frame_bgr = capture.retrieve()
            if not ok:
                break
            while every_s and next_due_s <= time_s + 1e-9:  # the next point of the grid 0, every_s, ...
                next_due_s += every_s
            grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
            analysis = session.analyse_grey(np.ascontiguousarray(grey), now_s=time_s)
            analysed += 1
            yield AnalysedFrame(
                str(path),
                index,
                time_s,
                analysis.faces,
                analysis.mood,
                analysis.width,
                analysis.height,
                frame_bgr if with_images else None,
            )
        if analysed == 0:
            raise VideoError(f"{path}: no frame could be decoded")
    finally:
        capture.release()


def analyze_photos(
    paths: Sequence[Path], every_s: float = 1.0, engine: VisionEngine | None = None
) -> Iterator[AnalysedFrame | tuple[Path, ImageError | OSError]]:
    """Photos as the frames of one stream, `every_s` apart; an unreadable photo is yielded as (path, error)
    and skipped."""
    engine = engine or VisionEngine.from_settings(Settings())
    session = engine.open_stream()
    for index, path in enumerate(paths):
        try:
            grey = decode_grey(path.read_bytes(), LOCAL_FILE_LIMITS)
        except (ImageError, OSError) as error:
            yield path, error
            continue
        analysis = session.analyse_grey(grey, now_s=index * every_s)
        yield AnalysedFrame(
            str(path), index, index * every_s, analysis.faces, analysis.mood, *grey.shape[::-1]
        )
