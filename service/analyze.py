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
import sys
import time
from pathlib import Path

from service.config import Settings
from service.console import say
from service.exits import INTERRUPTED
from service.inputs import InputError, expand, open_input
from service.outputs import OutputNames, opencv_name, readable_name
from service.paths import os_error_text, photo_paths
from service.plot import page_colours
from service.video import (
    VideoError,
)
from service.vision.engine import VisionEngine
from service.writers import Options, Outputs

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


def run(arguments: argparse.Namespace) -> int:
    if problem := arguments_problem(arguments):
        say(problem)
        return 2
    settings = Settings()
    engine = VisionEngine.from_settings(settings)  # a ModelError is said by the CLI, before --out is made
    try:
        arguments.out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file of that name, not a folder
        say(f"--out {arguments.out}: not a folder")
        return 2
    except OSError as error:
        say(f"--out {arguments.out}: {error.strerror or error}")
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
    names = OutputNames(photo_paths([item for item in arguments.inputs if item != "-"]))
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


def analyse_input(path: Path, names: OutputNames, engine: VisionEngine, options: Options) -> bool:
    """Analyse one input and write its files, named by `names`; False (with the reason on stderr) if it, or
    part of it, could not be read or written. An input that gives no frame at all leaves no files."""
    try:
        source = open_input(path, engine, options.every_s, options.annotate)
    except InputError as error:
        say(str(error))
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
                say(f"{photo}: {os_error_text(problem)}")
                ok = False
                continue
            outputs = outputs or Outputs(path, source, names, options, labels)
            ok &= outputs.add(frame)
            progress.update(done)
    # A video that breaks off, a file that cannot be written: what was written so far stays valid.
    except (VideoError, OSError) as error:
        say(str(error))
        ok = False
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        progress.close()
        if outputs is not None:
            ok &= outputs.close(interrupted)
    return ok
