"""`moodfeed predict`: find the faces in photos and read each one's emotion.

Photos are named as files, folders (searched recursively, in name order) or globs; each answer is printed
as a table on a terminal and as JSON Lines (one /predict answer a line) otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from service.api.schemas import PredictOut
from service.config import Settings
from service.console import say, shown
from service.outputs import OutputNames, own_stem
from service.paths import no_photos_in, os_error_text, photo_paths
from service.vision.annotate import upright_bgr, write_annotated
from service.vision.engine import VisionEngine
from service.vision.faces import MAX_FACE_PX, WINDOW_PX
from service.vision.images import (
    LOCAL_FILE_LIMITS,
    PHOTO_KINDS,
    PHOTO_SUFFIXES,
    ImageError,
    read_photo_file,
)

FORMATS = ("table", "jsonl", "csv")
CSV_COLUMNS = ("file", "face", "x", "y", "w", "h", "emotion", "confidence")  # then each emotion's score


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "images",
        nargs="+",
        metavar="PHOTO",
        help=f"{PHOTO_KINDS} files, folders (searched recursively) or globs",
    )
    parser.add_argument("--no-detect", action="store_true", help="read each whole image as one face")
    parser.add_argument("--min-face", type=face_size, help="smallest face to look for, in pixels")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="table (the default on a terminal), jsonl (one /predict answer a line, "
        "the default otherwise) or csv (a row per face with every score)",
    )
    parser.add_argument(
        "--annotate",
        type=Path,
        metavar="DIR",
        help="write a copy of each photo with its faces boxed and labelled here",
    )


def run(arguments: argparse.Namespace) -> int:
    """Print the faces and emotions of each photo; exit 1 if any could not be analysed."""
    if arguments.annotate is not None and arguments.annotate.exists() and not arguments.annotate.is_dir():
        say(f"--annotate {arguments.annotate}: not a folder")
        return 2
    engine = VisionEngine.from_settings(Settings())
    style = arguments.format or ("table" if sys.stdout.isatty() else "jsonl")
    return predict_photos(
        engine,
        arguments.images,
        style=style,
        detect=not arguments.no_detect,
        min_face=arguments.min_face,
        annotate_dir=arguments.annotate,
    )


def face_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of pixels, not {text!r}") from None
    if not WINDOW_PX <= size <= MAX_FACE_PX:
        raise argparse.ArgumentTypeError(
            f"must be from {WINDOW_PX} pixels (the smallest face Haar can see) to {MAX_FACE_PX}"
        )
    return size


class Report:
    """Writes each photo's answer as a table row per face, a JSON line per photo, or CSV rows per face."""

    def __init__(self, out: TextIO, style: str, labels: Sequence[str]):
        self.out, self.style, self.labels = out, style, list(labels)
        self._csv = csv.writer(out) if style == "csv" else None
        if self._csv is not None:
            self._csv.writerow([*CSV_COLUMNS, *self.labels])
        elif style == "table":
            print(f"{'file':<32} {'face':>4}  {'box (x, y, w, h)':<22} emotion", file=out)

    def add(self, path: Path, answer: PredictOut) -> None:
        if self.style == "jsonl":
            print(json.dumps({"file": str(path), **answer.model_dump()}), file=self.out)
            return
        if not answer.faces and self.style == "table":
            print(f"{_short(path):<32} {'-':>4}  {'no face found':<22}", file=self.out)
        if not answer.faces and self._csv is not None:  # analysed, nobody there: a row says so
            self._csv.writerow([path, *[""] * (len(CSV_COLUMNS) - 1 + len(self.labels))])
        for index, face in enumerate(answer.faces, start=1):
            box = face.box
            if self._csv is not None:
                scores = [face.scores.get(label, 0.0) for label in self.labels]
                self._csv.writerow(
                    [path, index, box.x, box.y, box.w, box.h, face.emotion, face.confidence, *scores]
                )
            else:
                where = f"{box.x}, {box.y}, {box.w}, {box.h}"
                print(
                    f"{_short(path):<32} {index:>4}  {where:<22} {face.emotion} {face.confidence:.0%}",
                    file=self.out,
                )


def _short(path: Path) -> str:
    """The path for a table cell: safe for a terminal, and its end when it is long."""
    text = shown(str(path))
    return text if len(text) <= 32 else "…" + text[-31:]


def predict_photos(
    engine: VisionEngine,
    arguments: Sequence[str],
    *,
    style: str,
    detect: bool,
    min_face: int | None,
    annotate_dir: Path | None,
) -> int:
    """Analyse every photo named; 1 if any could not be read or was no photo, 0 otherwise."""
    report = Report(sys.stdout, style, engine.labels)
    paths = list(photo_paths(arguments))
    names = OutputNames(paths)  # no copy may replace a photo still to be read
    failures = 0
    for path in paths:
        if path.is_dir():
            say(no_photos_in(path))
            failures += 1
            continue
        try:
            data = read_photo_file(path)
            analysis = engine.analyse_photo(data, detect, min_face, limits=LOCAL_FILE_LIMITS)
        except (OSError, ImageError) as error:
            say(f"{path}: {os_error_text(error)}")
            failures += 1
            continue
        report.add(path, PredictOut.of(analysis))
        if annotate_dir is not None:
            try:
                copy_path = names.check(annotate_dir / names.photo(path, annotate_dir))
                if copy_path.stem != own_stem(path):
                    note = f"annotated copy written as {copy_path} (that name was taken)"
                    say(f"{path}: {note}")
                write_annotated(copy_path, upright_bgr(data), analysis.faces)
            except OSError as error:
                say(f"{path}: no annotated copy: {error}")
                failures += 1
    if not paths:
        say(f"no photos ({', '.join(PHOTO_SUFFIXES)}) found there")
        return 1
    return 1 if failures else 0
