"""`moodfeed analyze`: videos, photos and folders of photos into emotion timelines on disk.

Each input gets `<name>.csv` and/or `<name>.jsonl`, `<name>.summary.json`, and with `--plot` a
`<name>.plot.png` of each track's emotions over time, with `--annotate` a copy with the faces boxed
(`<name>.annotated.mp4` for a video, `<name>.annotated/` holding each photo of a folder, or
`<name>.annotated.<suffix>` for one photo).
Unreadable inputs are named with the reason and skipped; the exit code is 1 if any was. Ctrl-C stops
at once, with everything written so far valid (the summary says `"interrupted": true`).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

from service.config import Settings
from service.exits import INTERRUPTED
from service.outputs import OutputFiles, OutputNames, opencv_name, readable_name
from service.photos import no_photos_in, photos_in, reason
from service.timeline import Plot, RowWriter, Summary, page_colours
from service.video import (
    PHOTO_TIME_AXIS,
    VIDEO_TIME_AXIS,
    AnalysedFrame,
    VideoError,
    analyze_photos,
    analyze_video,
    open_video,
)
from service.vision.annotate import draw_faces, write_annotated
from service.vision.engine import VisionEngine
from service.vision.images import PHOTO_SUFFIXES, ImageError

FORMATS = ("csv", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="videos, photos, folders of photos, or - for paths on stdin",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("moodfeed-analysis"), help="where to write (default: %(default)s)"
    )
    parser.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="one frame every this many seconds (default: every frame)",
    )
    parser.add_argument("--format", default="csv,jsonl", help="csv, jsonl or both (default: %(default)s)")
    parser.add_argument("--plot", action="store_true", help="draw each input's emotions over time as a PNG")
    parser.add_argument(
        "--annotate", action="store_true", help="write a copy of each video or photo with the faces boxed"
    )


class Progress:
    """Frames done, of how many, how fast and how long to go, on one terminal line; silent elsewhere."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.enabled = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown_at = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown_at < 0.2:
            return
        self.shown_at = now
        rate = done / max(now - self.started, 1e-6)
        of = f"/{self.total}" if self.total else ""
        eta = f", {max(self.total - done, 0) / rate:.0f} s left" if self.total and rate else ""
        print(
            f"\r{self.label}: {done}{of} frames, {rate:.1f} fps{eta}   ", end="", file=sys.stderr, flush=True
        )

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def expand(inputs: list[str]) -> Iterator[Path]:
    """The inputs as paths; `-` reads one path per line from stdin."""
    for item in inputs:
        if item == "-":
            # A line is a name as it is, spaces and all (and in any encoding: read as the file system's
            # bytes); only its line ending is not part of it.
            lines = (os.fsdecode(line.rstrip(b"\r\n")) for line in sys.stdin.buffer)
            yield from (Path(line) for line in lines if line.strip())
        else:
            yield Path(item)


@dataclass(frozen=True)
class Options:
    """What the command line asked to be written for each input."""

    out: Path
    formats: frozenset[str]
    every_s: float | None
    plot: bool
    annotate: bool
    colours: dict[str, str]  # the page's colour for each emotion, for the plots


def run(arguments: argparse.Namespace) -> int:
    if problem := arguments_problem(arguments):
        print(f"moodfeed: {problem}", file=sys.stderr)
        return 2
    settings = Settings()
    engine = VisionEngine.from_settings(settings)  # a ModelError is said by the CLI, before --out is made
    try:
        arguments.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"moodfeed: --out {arguments.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    stylesheet = settings.web_dir / "static" / "app.css"
    colours = page_colours(stylesheet) if arguments.plot and stylesheet.is_file() else {}
    options = Options(
        arguments.out,
        row_formats(arguments.format),
        arguments.every,
        arguments.plot,
        arguments.annotate,
        colours,
    )
    # Every input named on the command line is safe from the outputs from the start; stdin's as it comes.
    names = OutputNames(named_files(item for item in arguments.inputs if item != "-"))
    failures = 0
    try:
        for path in expand(arguments.inputs):
            failures += not analyse_input(path, names, engine, options)
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted; what was written so far is complete", file=sys.stderr)
        return INTERRUPTED
    return 1 if failures else 0


def arguments_problem(arguments: argparse.Namespace) -> str | None:
    """What is wrong with the options given, in words; None if nothing."""
    if not row_formats(arguments.format):
        return f"--format takes csv, jsonl or csv,jsonl, not {arguments.format!r}"
    if arguments.every is not None and not 0 < arguments.every < math.inf:
        return "--every must be a positive number of seconds"
    if arguments.plot and importlib.util.find_spec("matplotlib") is None:
        return "--plot needs matplotlib: pip install -e '.[plot]'"
    if arguments.annotate:
        try:
            opencv_name(arguments.out)  # the annotated video is written by OpenCV
        except OSError as error:
            return f"--out {error}"
    return None


def row_formats(text: str) -> frozenset[str]:
    """The row formats `--format` asks for; none if it names anything else."""
    asked = frozenset(part.strip() for part in text.split(",") if part.strip())
    return asked if asked <= set(FORMATS) else frozenset()


def named_files(items: Iterable[str]) -> Iterator[Path]:
    """The files the inputs name: each file itself, each folder's photos."""
    for item in items:
        path = Path(item)
        if "\0" not in item and path.is_dir():
            yield from photos_in(path)
        else:
            yield path


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
        return Source(frames, photos, len(photos), 0.0, time_axis=PHOTO_TIME_AXIS)
    if path.suffix.lower() in PHOTO_SUFFIXES:
        frames = analyze_photos([path], engine=engine, with_images=annotate)
        return Source(frames, [path], 1, 0.0, time_axis=PHOTO_TIME_AXIS)
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


def analyse_input(path: Path, names: OutputNames, engine: VisionEngine, options: Options) -> bool:
    """Analyse one input and write its files, named by `names`; False (with the reason on stderr) if it, or
    part of it, could not be read or written. An input that gives no frame at all leaves no files."""
    try:
        source = open_input(path, engine, options.every_s, options.annotate)
    except InputError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        return False
    for read in source.reads:  # (an input named on stdin was not known before)
        names.add_input(read)
    labels = list(engine.labels)
    progress = Progress(readable_name(path.name), source.total)
    outputs: Outputs | None = None  # opened with the first frame
    ok, interrupted = True, False
    try:
        for done, frame in enumerate(source.frames, start=1):
            if isinstance(frame, tuple):  # a photo of a folder that could not be read
                photo, problem = frame
                print(f"moodfeed: {photo}: {reason(problem)}", file=sys.stderr)
                ok = False
                continue
            outputs = outputs or Outputs(path, source, names, options, labels)
            ok &= outputs.add(frame)
            progress.update(done)
    # A video that breaks off, a file that cannot be written: what was written so far stays valid.
    except (VideoError, OSError) as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        ok = False
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        progress.close()
        if outputs is not None:
            ok &= outputs.close(interrupted)
    return ok


class Outputs:
    """One input's files, written as its frames come: the rows at once, the annotated copy frame by frame,
    the summary and the plot at the end. None of them may replace an input (OSError if one would)."""

    def __init__(self, path: Path, source: Source, names: OutputNames, options: Options, labels: list[str]):
        self.path, self.names, self.options = path, names, options
        self.files = files = OutputFiles(options.out, names.stem(path))
        self.copy_fps = source.copy_fps if options.annotate else None  # a video's annotated copy, if asked
        planned = [*(files.rows(kind) for kind in options.formats), files.summary]
        planned += [files.plot] if options.plot else []
        planned += [files.annotated_video] if self.copy_fps else []
        for target in planned:
            names.check(target)
        self.rows = RowWriter(files, options.formats, labels)
        self.summary = Summary(str(path), source.duration_s)
        self.plot = Plot(labels, options.colours, source.time_axis) if options.plot else None
        self._copy: cv2.VideoWriter | None = None

    def add(self, frame: AnalysedFrame) -> bool:
        """Write the frame's rows (and its copy); False (with the reason on stderr) if its copy failed."""
        self.rows.add(frame)
        self.summary.add(frame)
        if self.plot is not None:
            self.plot.add(frame)
        if self.copy_fps is not None:
            self._copy = annotate_frame(self._copy, self.files.annotated_video, self.copy_fps, frame)
        elif self.options.annotate and frame.image_bgr is not None:
            try:  # one photo's copy: the folder's other photos go on
                copy_path = self.names.check(self.files.annotated_photo(self.path, Path(frame.source)))
                write_annotated(copy_path, frame.image_bgr, frame.faces)
            except OSError as error:
                print(f"moodfeed: {frame.source}: no annotated copy: {error}", file=sys.stderr)
                return False
        return True

    def close(self, interrupted: bool) -> bool:
        """Finish every file; False (with the reason on stderr) if one could not be written."""
        if self._copy is not None:
            self._copy.release()
        self.summary.interrupted = interrupted
        try:
            self.rows.close()
            self.summary.write(self.files.summary)
            if self.plot is not None:
                self.plot.write(self.files.plot, readable_name(self.path.name))
        except OSError as error:
            print(f"moodfeed: {error}", file=sys.stderr)
            return False
        return True


def annotate_frame(
    writer: cv2.VideoWriter | None, out_path: Path, fps: float, frame: AnalysedFrame
) -> cv2.VideoWriter:
    """Append the frame, boxes drawn, to the annotated copy at `out_path` (opened on the first frame);
    OSError if it cannot be written there."""
    if writer is None:
        size = (frame.width, frame.height)
        writer = cv2.VideoWriter(opencv_name(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        if not writer.isOpened():
            raise OSError(f"could not write {out_path}")
    if frame.image_bgr is not None:
        writer.write(draw_faces(frame.image_bgr, frame.faces))
    return writer
