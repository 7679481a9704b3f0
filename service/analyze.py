"""`moodfeed analyze`: videos, photos and folders of photos into emotion timelines on disk.

Each input gets `<name>.csv` and/or `<name>.jsonl`, `<name>.summary.json`, and with `--plot` a
`<name>.png` of each track's emotions over time, with `--annotate` a copy with the faces boxed.
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
from service.photos import photos_in
from service.timeline import Plot, RowWriter, Summary, page_colours
from service.video import (
    VIDEO_SUFFIXES,
    AnalysedFrame,
    VideoError,
    analyze_photos,
    analyze_video,
    open_video,
)
from service.vision.annotate import draw_faces
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
        "--annotate", action="store_true", help="write a copy of each video with the faces boxed"
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
    colours = page_colours(settings.web_dir / "static" / "app.css")
    failures = 0
    try:
        for path in expand(arguments.inputs):
            failures += not analyse_input(path, engine, arguments, formats, colours)
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted; what was written so far is complete", file=sys.stderr)
        return INTERRUPTED
    return 1 if failures else 0


def analyse_input(
    path: Path,
    engine: VisionEngine,
    arguments: argparse.Namespace,
    formats: set[str],
    colours: dict[str, str],
) -> bool:
    """Analyse one input and write its files; False (with the reason on stderr) if it could not be read."""
    labels = list(engine.labels)
    if path.is_dir():
        photos = photos_in(path)
        if not photos:
            print(
                f"moodfeed: {path}: no photos ({', '.join(PHOTO_SUFFIXES)}) in this folder", file=sys.stderr
            )
            return False
        frames, total, duration_s = analyze_photos(photos, engine=engine), len(photos), 0.0
    elif path.suffix.lower() in PHOTO_SUFFIXES:
        frames, total, duration_s = analyze_photos([path], engine=engine), 1, 0.0
    else:
        try:
            video = open_video(path)
        except VideoError as error:
            print(f"moodfeed: {error}", file=sys.stderr)
            return False
        info = video.info
        frames = analyze_video(video, arguments.every, engine, with_images=arguments.annotate)
        total, duration_s = info.frames, info.duration_s
        if arguments.every:
            total = int(info.duration_s / arguments.every) + 1 if info.duration_s else 0
    stem = path.stem if path.name else "input"
    writer = RowWriter(arguments.out, stem, formats, labels)
    summary, plot = Summary(str(path), duration_s), Plot(labels, colours)
    progress = Progress(path.name, total)
    annotated: cv2.VideoWriter | None = None
    ok = True
    try:
        for done, frame in enumerate(frames, start=1):
            if isinstance(frame, tuple):  # a photo of a folder that could not be read
                print(f"moodfeed: {frame[0]}: {frame[1]}", file=sys.stderr)
                ok = False
                continue
            writer.add(frame)
            summary.add(frame)
            plot.add(frame)
            if arguments.annotate and path.suffix.lower() in VIDEO_SUFFIXES:
                annotated = annotate_frame(annotated, path, frame, arguments)
            progress.update(done)
    except VideoError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        ok = False
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        progress.close()
        writer.close()
        if annotated is not None:
            annotated.release()
        summary.write(arguments.out / f"{stem}.summary.json")
        if arguments.plot and summary.frames:
            write_plot(plot, arguments.out / f"{stem}.png", path.name)
    return ok


def write_plot(plot: Plot, out_path: Path, title: str) -> None:
    try:
        plot.write(out_path, title)
    except ModuleNotFoundError as missing:
        print(f"moodfeed: --plot needs {missing.name}: pip install -e '.[plot]'", file=sys.stderr)


def annotate_frame(
    writer: cv2.VideoWriter | None, path: Path, frame: AnalysedFrame, arguments: argparse.Namespace
) -> cv2.VideoWriter:
    """Append the frame, boxes drawn, to the annotated copy (opened on the first frame)."""
    if writer is None:
        fps = 1 / arguments.every if arguments.every else 30.0
        out = arguments.out / f"{path.stem}.annotated.mp4"
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (frame.width, frame.height))
    if frame.image_bgr is not None:
        writer.write(draw_faces(frame.image_bgr, frame.faces))
    return writer
