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
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

from service.config import Settings
from service.exits import INTERRUPTED
from service.outputs import OutputNames, opencv_name, readable_name
from service.photos import photos_in
from service.timeline import Plot, RowWriter, Summary, page_colours
from service.video import (
    AnalysedFrame,
    VideoError,
    analyze_photos,
    analyze_video,
    open_video,
)
from service.vision.annotate import draw_faces, write_annotated
from service.vision.engine import VisionEngine
from service.vision.errors import ModelError
from service.vision.images import PHOTO_SUFFIXES, ImageError

FORMATS = ("csv", "jsonl")
PLOT_SUFFIX = ".plot.png"  # not .png: an input photo of the same name in the --out folder stays


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
            # A line is a name as it is, spaces and all; only its line ending is not part of it.
            yield from (Path(line.rstrip("\r\n")) for line in sys.stdin if line.strip())
        else:
            yield Path(item)


def run(arguments: argparse.Namespace) -> int:
    formats = {part.strip() for part in arguments.format.split(",") if part.strip()}
    if not formats <= set(FORMATS) or not formats:
        print(f"moodfeed: --format takes csv, jsonl or csv,jsonl, not {arguments.format!r}", file=sys.stderr)
        return 2
    if arguments.every is not None and not (0 < arguments.every < math.inf):
        print("moodfeed: --every must be a positive number of seconds", file=sys.stderr)
        return 2
    if arguments.annotate:
        try:
            opencv_name(arguments.out)  # the annotated video is written by OpenCV
        except OSError as error:
            print(f"moodfeed: --out {error}", file=sys.stderr)
            return 2
    settings = Settings()
    try:
        engine = VisionEngine.from_settings(settings)
    except ModelError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        return 2
    try:
        arguments.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"moodfeed: --out {arguments.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    stylesheet = settings.web_dir / "static" / "app.css"
    colours = page_colours(stylesheet) if arguments.plot and stylesheet.is_file() else {}
    failures = 0
    # Every input named on the command line is safe from the outputs from the start; stdin's as it comes.
    names = OutputNames(named_files(item for item in arguments.inputs if item != "-"))
    try:
        for path in expand(arguments.inputs):
            failures += not analyse_input(path, names, engine, arguments, formats, colours)
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted; what was written so far is complete", file=sys.stderr)
        return INTERRUPTED
    return 1 if failures else 0


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
    total: int  # frames to come, for the progress line; 0 when unknown
    duration_s: float
    copy_fps: float | None = None  # a video's: the frame rate of its annotated copy


class InputError(Exception):
    """An input that cannot be analysed at all; the message names it and says why."""


def open_input(path: Path, engine: VisionEngine, every_s: float | None, annotate: bool) -> Source:
    """The input as frames: a folder's photos, one photo, or a video (`InputError` if none of these)."""
    if "\0" in str(path):
        raise InputError(f"{path!r}: a file name cannot hold a NUL byte")
    if path.is_dir():
        photos = photos_in(path)
        if not photos:
            raise InputError(f"{path}: no photos ({', '.join(PHOTO_SUFFIXES)}) in this folder")
        return Source(analyze_photos(photos, engine=engine, with_images=annotate), len(photos), 0.0)
    if path.suffix.lower() in PHOTO_SUFFIXES:
        return Source(analyze_photos([path], engine=engine, with_images=annotate), 1, 0.0)
    try:
        video = open_video(path)
    except VideoError as error:
        raise InputError(str(error)) from None
    info = video.info
    # The copy shows each analysed frame once: at the sampling rate, or the source's if that is lower, but
    # at least a frame a second (a player may refuse slower video).
    copy_fps = min(info.fps, max(1.0, 1 / every_s)) if every_s else info.fps
    frames = analyze_video(video, every_s, engine, with_images=annotate)
    return Source(frames, info.frames_every(every_s), info.duration_s, copy_fps)


def analyse_input(
    path: Path,
    names: OutputNames,
    engine: VisionEngine,
    arguments: argparse.Namespace,
    formats: set[str],
    colours: dict[str, str],
) -> bool:
    """Analyse one input and write its files, named by `names`; False (with the reason on stderr) if it, or
    part of it, could not be read or written. An input that gives no frame at all leaves no files."""
    try:
        source = open_input(path, engine, arguments.every, arguments.annotate)
    except InputError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        return False
    names.add_input(path)
    labels = list(engine.labels)
    out: Path = arguments.out
    summary, plot = Summary(str(path), source.duration_s), Plot(labels, colours)
    progress = Progress(readable_name(path.name), source.total)
    writer: RowWriter | None = None  # opened with the first frame
    stem = ""
    annotated: cv2.VideoWriter | None = None
    ok = True
    try:
        for done, frame in enumerate(source.frames, start=1):
            if isinstance(frame, tuple):  # a photo of a folder that could not be read
                photo, problem = frame
                print(f"moodfeed: {photo}: {getattr(problem, 'strerror', None) or problem}", file=sys.stderr)
                ok = False
                continue
            if writer is None:
                stem = names.stem(path)
                for suffix in (*(f".{kind}" for kind in formats), ".summary.json", PLOT_SUFFIX):
                    names.check(out / f"{stem}{suffix}")
                writer = RowWriter(out, stem, formats, labels)
            writer.add(frame)
            summary.add(frame)
            plot.add(frame)
            if arguments.annotate and source.copy_fps is not None:
                copy_path = names.check(out / f"{stem}.annotated.mp4")
                annotated = annotate_frame(annotated, copy_path, source.copy_fps, frame)
            elif arguments.annotate and frame.image_bgr is not None:
                copy_path = names.check(annotated_photo_path(out, stem, path, Path(frame.source)))
                write_annotated(copy_path, frame.image_bgr, frame.faces)
            progress.update(done)
    # A video that breaks off, a file that cannot be written: what was written so far stays valid.
    except (VideoError, OSError) as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        ok = False
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        progress.close()
        if annotated is not None:
            annotated.release()
        if writer is not None:
            ok &= finish(writer, summary, plot if arguments.plot else None, out, stem, path.name)
    return ok


def finish(writer: RowWriter, summary: Summary, plot: Plot | None, out: Path, stem: str, title: str) -> bool:
    """Close the rows and write the summary and the plot; False (with the reason on stderr) if any failed."""
    try:
        writer.close()
        summary.write(out / f"{stem}.summary.json")
        if plot is not None:
            write_plot(plot, out / f"{stem}{PLOT_SUFFIX}", readable_name(title))
    except OSError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        return False
    return True


def write_plot(plot: Plot, out_path: Path, title: str) -> None:
    try:
        plot.write(out_path, title)
    except ModuleNotFoundError as missing:
        print(f"moodfeed: --plot needs {missing.name}: pip install -e '.[plot]'", file=sys.stderr)


def annotated_photo_path(out_dir: Path, stem: str, input_path: Path, photo_path: Path) -> Path:
    """Where a photo's annotated copy goes: beside the other files for a photo given alone, or under
    `<stem>.annotated/` at its place in the folder given."""
    if photo_path == input_path:
        return out_dir / f"{stem}.annotated{photo_path.suffix}"
    return out_dir / f"{stem}.annotated" / photo_path.relative_to(input_path)


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
