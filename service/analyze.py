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
from service.photos import photos_in
from service.timeline import Plot, RowWriter, Summary, page_colours
from service.video import (
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
    colours = page_colours(settings.web_dir / "static" / "app.css")
    failures = 0
    stems: set[str] = set()
    try:
        for path in expand(arguments.inputs):
            stem = unique_stem(path, stems)
            failures += not analyse_input(path, stem, engine, arguments, formats, colours)
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted; what was written so far is complete", file=sys.stderr)
        return INTERRUPTED
    return 1 if failures else 0


def unique_stem(path: Path, taken: set[str]) -> str:
    """The name `path`'s files get: its own stem, numbered if an earlier input of this run had it
    (day1/talk.mp4 and day2/talk.mp4 must not overwrite each other); added to `taken`."""
    base = path.stem if path.name else "input"
    stem, number = base, 1
    while stem in taken:
        number += 1
        stem = f"{base}-{number}"
    taken.add(stem)
    return stem


def analyse_input(
    path: Path,
    stem: str,
    engine: VisionEngine,
    arguments: argparse.Namespace,
    formats: set[str],
    colours: dict[str, str],
) -> bool:
    """Analyse one input and write its files, named `stem`; False (with the reason on stderr) if it could
    not be read."""
    labels = list(engine.labels)
    fps = 0.0  # a video's frame rate, for its annotated copy
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
        info, fps = video.info, 1 / arguments.every if arguments.every else video.info.fps
        frames = analyze_video(video, arguments.every, engine, with_images=arguments.annotate)
        total, duration_s = info.frames, info.duration_s
        if arguments.every:
            total = int(info.duration_s / arguments.every) + 1 if info.duration_s else 0
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
            if arguments.annotate and fps:
                annotated = annotate_frame(annotated, arguments.out / f"{stem}.annotated.mp4", fps, frame)
            elif arguments.annotate:
                annotate_photo(annotated_photo_path(arguments.out, stem, path, Path(frame.source)), frame)
            progress.update(done)
    except (
        VideoError,
        OSError,
    ) as error:  # a video that breaks off; an annotated copy that cannot be written
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


def annotated_photo_path(out_dir: Path, stem: str, input_path: Path, photo_path: Path) -> Path:
    """Where a photo's annotated copy goes: beside the other files for a photo given alone, or under
    `<stem>.annotated/` at its place in the folder given."""
    if photo_path == input_path:
        return out_dir / f"{stem}.annotated{photo_path.suffix}"
    return out_dir / f"{stem}.annotated" / photo_path.relative_to(input_path)


def annotate_photo(out_path: Path, frame: AnalysedFrame) -> None:
    """Write the photo, boxes drawn, to `out_path`; OSError if it cannot be written."""
    if frame.image_bgr is None:
        return
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out_path), draw_faces(frame.image_bgr, frame.faces)):
        raise OSError(f"could not write {out_path}")


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
