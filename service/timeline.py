"""The shapes of an analysed timeline: its rows (CSV, JSON Lines), its summary and its plot, as
`moodfeed analyze` writes them and `POST /analyze` streams them."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

from service.api.schemas import DECIMALS, EmotionOut, TrackedFaceOut
from service.frames import AnalysedFrame
from service.outputs import OutputFiles

SEGMENTS = 10  # the summary's dominant emotion over this many equal stretches of time
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


def frame_json(frame: AnalysedFrame) -> dict[str, Any]:
    """One analysed frame as a JSON object (the rows of `moodfeed analyze` and of `POST /analyze`), its
    faces as `/ws/stream` answers them (smoothed, with the frame's own reading as `raw`)."""
    return {
        "source": frame.source,
        "time_s": round(frame.time_s, 3),
        "frame": frame.frame,
        "faces": [TrackedFaceOut.of_face(face).model_dump() for face in frame.faces],
        "mood": None if frame.mood is None else EmotionOut.of(frame.mood).model_dump(),
    }


class Summary:
    """What one input added up to: frames, faces found per frame, each track's share of each emotion, and
    the dominant emotion over equal stretches of time. A held face (not found in its frame, its track kept
    for a moment) counts in none of them: it is no new sight of the face."""

    def __init__(self, source: str, duration_s: float):
        self.source = source
        self.duration_s = duration_s
        self.frames = 0
        self.faces = 0
        self.last_time_s = 0.0
        self.track_emotions: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.moods: list[tuple[float, str]] = []
        self.interrupted = False

    def add(self, frame: AnalysedFrame) -> None:
        self.frames += 1
        seen = [face for face in frame.faces if not face.held]
        self.faces += len(seen)
        self.last_time_s = frame.time_s
        for face in seen:
            if face.track_id is not None:
                self.track_emotions[face.track_id][face.reading.emotion] += 1
        if frame.mood is not None:
            self.moods.append((frame.time_s, frame.mood.emotion))

    def as_json(self) -> dict[str, Any]:
        duration_s = max(self.duration_s, self.last_time_s)  # a container's stated length can be short
        return {
            "source": self.source,
            "duration_s": round(duration_s, 3),
            "frames_analysed": self.frames,
            "faces_per_frame": round(self.faces / self.frames, 3) if self.frames else 0.0,
            "tracks": {
                str(track): {
                    "frames": sum(counts.values()),
                    "share": {
                        emotion: round(n / sum(counts.values()), DECIMALS)
                        for emotion, n in counts.most_common()
                    },
                }
                for track, counts in sorted(self.track_emotions.items())
            },
            "segments": self._segments(duration_s),
            "interrupted": self.interrupted,
        }

    def _segments(self, duration_s: float) -> list[dict[str, Any]]:
        if not self.moods:
            return []
        length_s = max(duration_s, self.moods[-1][0] + 1e-6) / SEGMENTS
        stretches: defaultdict[int, Counter[str]] = defaultdict(Counter)
        for time_s, emotion in self.moods:
            stretches[min(int(time_s / length_s), SEGMENTS - 1)][emotion] += 1
        return [
            {
                "start_s": round(index * length_s, 3),
                "end_s": round((index + 1) * length_s, 3),
                "emotion": counts.most_common(1)[0][0],
            }
            for index, counts in sorted(stretches.items())
        ]

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")


MAX_PLOTTED_TRACKS = 8
FEW_POINTS = 5  # a track with fewer readings is drawn with a marker at each


def page_colours(css_path: Path) -> dict[str, str]:
    """The page's colour for each emotion (`--emotion-NAME: #rrggbb` in its stylesheet), so plots match."""
    return dict(re.findall(r"--emotion-(\w+):\s*(#[0-9a-fA-F]{6})", css_path.read_text(encoding="utf-8")))


class Plot:
    """Each track's emotion probabilities over time, one panel per track, in the page's colours: the
    `MAX_PLOTTED_TRACKS` tracks seen in the most frames, so that a crowd still gives a readable figure."""

    def __init__(self, labels: list[str], colours: dict[str, str], time_axis: str):
        self.labels, self.colours, self.time_axis = labels, colours, time_axis
        self.series: defaultdict[int, list[tuple[float, list[float]]]] = defaultdict(list)

    def add(self, frame: AnalysedFrame) -> None:
        for face in frame.faces:
            if face.track_id is not None and not face.held:  # a held face's reading is an old one
                self.series[face.track_id].append(
                    (frame.time_s, [face.reading.scores[x] for x in self.labels])
                )

    def plotted_tracks(self) -> list[int]:
        """The tracks drawn, in order: those with the most readings (the earlier of equal ones)."""
        longest = sorted(self.series, key=lambda track: (-len(self.series[track]), track))
        return sorted(longest[:MAX_PLOTTED_TRACKS])

    def write(self, path: Path, title: str) -> None:
        import matplotlib  # the plot extra; the rows and the summary need nothing more

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tracks = self.plotted_tracks() or [0]
        if len(self.series) > len(tracks):
            title += f" (the {len(tracks)} tracks seen longest, of {len(self.series)})"
        figure, axes = plt.subplots(
            len(tracks), 1, figsize=(10, 1.2 + 2.2 * len(tracks)), squeeze=False, sharex=True
        )
        for axis, track in zip(axes[:, 0], tracks, strict=True):
            points = self.series.get(track, [])
            times = [time_s for time_s, _ in points]
            marker = "o" if len(points) < FEW_POINTS else None  # a line through one point shows nothing
            for column, label in enumerate(self.labels):
                values = [scores[column] for _, scores in points]
                colour = self.colours.get(label, "#888888")
                axis.plot(
                    times, values, color=colour, label=label, linewidth=1.4, marker=marker, markersize=4
                )
            axis.set_ylim(0, 1)
            axis.set_ylabel(f"track {track}" if points else "no face")
            axis.grid(alpha=0.3)
        axes[0, 0].set_title(title)
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        axes[-1, 0].set_xlabel(self.time_axis)
        figure.supylabel("probability")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
