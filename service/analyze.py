"""`moodfeed analyze`: videos, photos and folders of photos into emotion timelines on disk.

Each input gets `<name>.csv` and/or `<name>.jsonl`, `<name>.summary.json`, and with `--plot` a
`<name>.png` of each track's emotions over time, with `--annotate` a copy with the faces boxed
(`<name>.annotated.mp4` for a video, `<name>.annotated/` holding each photo of a folder, or
`<name>.annotated.<suffix>` for one photo).
Unreadable inputs are named with the reason and skipped; the exit code is 1 if any was. Ctrl-C stops
at once, with everything written so far valid (the summary says `"interrupted": true`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from service.config import Settings
from service.outputs import OutputNames
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
from service.vision.images import PHOTO_SUFFIXES

FORMATS = ("csv", "jsonl")
INTERRUPTED = 130  # what shells report for a command stopped by Ctrl-C


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
            yield from (Path(line.strip()) for line in sys.stdin if line.strip())
        else:
            yield Path(item)


def run(arguments: argparse.Namespace) -> int:
    formats = {part.strip() for part in arguments.format.split(",") if part.strip()}
    if not formats <= set(FORMATS) or not formats:
        print(f"moodfeed: --format takes csv, jsonl or csv,jsonl, not {arguments.format!r}", file=sys.stderr)
        return 2
    if arguments.every is not None and arguments.every <= 0:
        print("moodfeed: --every must be a positive number of seconds", file=sys.stderr)
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
    names = OutputNames()
    try:
        for path in expand(arguments.inputs):
            failures += not analyse_input(path, names, engine, arguments, formats, colours)
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted; what was written so far is complete", file=sys.stderr)
        return INTERRUPTED
    return 1 if failures else 0


def analyse_input(
    path: Path,
    names: OutputNames,
    engine: VisionEngine,
    arguments: argparse.Namespace,
    formats: set[str],
    colours: dict[str, str],
) -> bool:
    """Analyse one input and write its files, named by `names`; False (with the reason on stderr) if it, or
    part of it, could not be read. An input that gives no frame at all leaves no files."""
    labels = list(engine.labels)
    copy_fps: float | None = None  # for a video: the frame rate of its annotated copy
    if path.is_dir():
        photos = photos_in(path)
        if not photos:
            print(
                f"moodfeed: {path}: no photos ({', '.join(PHOTO_SUFFIXES)}) in this folder", file=sys.stderr
            )
            return False
        frames = analyze_photos(photos, engine=engine, with_images=arguments.annotate)
        total, duration_s = len(photos), 0.0
    elif path.suffix.lower() in PHOTO_SUFFIXES:
        frames = analyze_photos([path], engine=engine, with_images=arguments.annotate)
        total, duration_s = 1, 0.0
    else:
        try:
            video = open_video(path)
        except VideoError as error:
            print(f"moodfeed: {error}", file=sys.stderr)
            return False
        info, copy_fps = video.info, 1 / arguments.every if arguments.every else video.info.fps
        frames = analyze_video(video, arguments.every, engine, with_images=arguments.annotate)
        total, duration_s = info.frames, info.duration_s
        if arguments.every:
            total = int(info.duration_s / arguments.every) + 1 if info.duration_s else 0
    summary, plot = Summary(str(path), duration_s), Plot(labels, colours)
    progress = Progress(path.name, total)
    writer: RowWriter | None = None  # opened with the first frame
    stem = ""
    annotated: cv2.VideoWriter | None = None
    ok = True
    try:
        for done, frame in enumerate(frames, start=1):
            if isinstance(frame, tuple):  # a photo of a folder that could not be read
                print(f"moodfeed: {frame[0]}: {frame[1]}", file=sys.stderr)
                ok = False
                continue
            if writer is None:
                stem = names.stem(path)
                writer = RowWriter(arguments.out, stem, formats, labels)
            writer.add(frame)
            summary.add(frame)
            plot.add(frame)
            if arguments.annotate and copy_fps is not None:
                copy_path = arguments.out / f"{stem}.annotated.mp4"
                annotated = annotate_frame(annotated, copy_path, copy_fps, frame)
            elif arguments.annotate and frame.image_bgr is not None:
                copy_path = annotated_photo_path(arguments.out, stem, path, Path(frame.source))
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
            writer.close()
            summary.write(arguments.out / f"{stem}.summary.json")
            if arguments.plot:
                write_plot(plot, arguments.out / f"{stem}.png", path.name)
    return ok


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
    """Append the frame, boxes drawn, to the annotated copy at `out_path` (opened on the first frame)."""
    if writer is None:
        size = (frame.width, frame.height)
        writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if frame.image_bgr is not None:
        writer.write(draw_faces(frame.image_bgr, frame.faces))
    return writer
