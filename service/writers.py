"""Which files `moodfeed analyze` writes for an input, opened once and written as its frames come: the
timeline's rows (CSV, JSON Lines), its summary (`service.timeline`) and plot (`service.plot`), and the
annotated copy."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cv2

from service.api.schemas import DECIMALS
from service.console import say
from service.frames import AnalysedFrame
from service.inputs import Source
from service.outputs import OutputFiles, OutputNames, opencv_name, own_stem, readable_name
from service.plot import Plot
from service.timeline import Summary, frame_json
from service.vision.annotate import draw_faces, write_annotated

FACE_COLUMNS = ["track_id", "x", "y", "w", "h", "emotion", "confidence"]


class RowWriter:
    """The frames of one input as CSV (a row per face, or one row for a frame without faces) and/or
    JSON Lines (an object per frame); every row is flushed as written, so an interrupted run leaves
    valid files."""

    def __init__(self, files: OutputFiles, formats: Collection[str], labels: list[str]):
        self.labels = labels
        self._files: list[IO[str]] = []
        self._csv = None
        self._jsonl: IO[str] | None = None
        files.folder.mkdir(parents=True, exist_ok=True)
        if "csv" in formats:
            # A file name in another encoding than UTF-8 (in `source`) is written with its bytes escaped.
            handle = files.rows("csv").open("w", newline="", encoding="utf-8", errors="backslashreplace")
            self._files.append(handle)
            self._csv = csv.writer(handle)
            self._csv.writerow(
                [
                    "source",
                    "time_s",
                    "frame",
                    *FACE_COLUMNS,
                    *labels,
                    "mood_emotion",
                    "mood_confidence",
                    "held",
                ]
            )
        if "jsonl" in formats:
            try:
                self._jsonl = files.rows("jsonl").open("w", encoding="utf-8")
            except OSError:
                self.close()  # the CSV already open
                raise
            self._files.append(self._jsonl)

    def add(self, frame: AnalysedFrame) -> None:
        mood = [frame.mood.emotion, round(frame.mood.confidence, DECIMALS)] if frame.mood else ["", ""]
        if self._csv is not None:
            where = [frame.source, round(frame.time_s, 3), frame.frame]
            for face in frame.faces:
                box, reading = face.box, face.reading
                scores = [round(reading.scores[label], DECIMALS) for label in self.labels]
                face_cells = [
                    face.track_id,
                    box.x,
                    box.y,
                    box.w,
                    box.h,
                    reading.emotion,
                    round(reading.confidence, DECIMALS),
                ]
                self._csv.writerow([*where, *face_cells, *scores, *mood, "true" if face.held else "false"])
            if not frame.faces:
                self._csv.writerow([*where, *[""] * (len(FACE_COLUMNS) + len(self.labels)), *mood, ""])
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(frame_json(frame)) + "\n")
        for handle in self._files:
            handle.flush()

    def close(self) -> None:
        for handle in self._files:
            handle.close()


@dataclass(frozen=True)
class Options:
    """What the command line asked to be written for each input."""

    out: Path
    formats: frozenset[str]
    every_s: float | None
    plot: bool
    annotate: bool
    colours: dict[str, str]  # the page's colour for each emotion, for the plots


class Outputs:
    """One input's files, written as its frames come: the rows at once, the annotated copy frame by frame,
    the summary and the plot at the end. None of them may replace an input (OSError if one would)."""

    def __init__(self, path: Path, source: Source, names: OutputNames, options: Options, labels: list[str]):
        self.path, self.names, self.options = path, names, options
        stem = names.stem(path, lambda stem: OutputFiles(options.out, stem).written_before(names.is_input))
        self.files = files = OutputFiles(options.out, stem)
        if stem != own_stem(path):
            print(
                f"moodfeed: {path}: its files are {options.out / stem}.* (that name was taken)",
                file=sys.stderr,
            )
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
                say(f"{frame.source}: no annotated copy: {error}")
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
            say(str(error))
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
