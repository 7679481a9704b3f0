"""What `moodfeed analyze` reads: the inputs it is named (stdin's list included), each opened as frames."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.frames import AnalysedFrame
from service.paths import glob_matches, no_photos_in, photos_in
from service.photo_series import PHOTO_TIME_AXIS, analyze_photos, series_length_s
from service.video import VIDEO_TIME_AXIS, VideoError, analyze_video, open_video
from service.vision.engine import VisionEngine
from service.vision.images import PHOTO_SUFFIXES, ImageError


def expand(inputs: list[str]) -> Iterator[Path]:
    """The inputs as paths, an unexpanded glob as its matches; `-` reads one path per line from stdin."""
    for item in inputs:
        if item == "-":
            # A line is a name as it is, spaces and all (and in any encoding: read as the file system's
            # bytes); only its line ending is not part of it.
            lines = (os.fsdecode(line.rstrip(b"\r\n")) for line in sys.stdin.buffer)
            yield from (Path(line) for line in lines if line.strip())
        else:
            yield from glob_matches(item) or [Path(item)]


@dataclass
class Source:
    """One input opened for analysis: its frames, and what is known of them before the first."""

    frames: Iterator[AnalysedFrame | tuple[Path, ImageError | OSError]]
    reads: list[Path]  # the files it reads, which no output may replace
    total: int  # frames to come, for the progress line; 0 when unknown
    duration_s: float
    copy_fps: float | None = None  # a video's: the frame rate of its annotated copy
    time_axis: str = VIDEO_TIME_AXIS  # what a frame's time_s counts, in words for the plot


class InputError(Exception):
    """An input that cannot be analysed at all; the message names it and says why."""


def open_input(path: Path, engine: VisionEngine, every_s: float | None, annotate: bool) -> Source:
    """The input as frames: a folder's photos, one photo, or a video (`InputError` if none of these)."""
    if "\0" in str(path):
        raise InputError(f"{path!r}: a file name cannot hold a NUL byte")
    if path.is_dir():
        photos = photos_in(path)
        if not photos:
            raise InputError(no_photos_in(path))
        frames = analyze_photos(photos, engine=engine, with_images=annotate)
        return Source(frames, photos, len(photos), series_length_s(len(photos)), time_axis=PHOTO_TIME_AXIS)
    if path.suffix.lower() in PHOTO_SUFFIXES:
        frames = analyze_photos([path], engine=engine, with_images=annotate)
        return Source(frames, [path], 1, series_length_s(1), time_axis=PHOTO_TIME_AXIS)
    try:
        video = open_video(path)
    except VideoError as error:
        raise InputError(str(error)) from None
    info = video.info
    # The copy shows each analysed frame once: at the sampling rate, or the source's if that is lower, but
    # at least a frame a second (a player may refuse slower video).
    copy_fps = min(info.fps, max(1.0, 1 / every_s)) if every_s else info.fps
    frames = analyze_video(video, every_s, engine, with_images=annotate)
    return Source(frames, [path], info.frames_every(every_s), info.duration_s, copy_fps)
