"""The shapes of an analysed timeline, one for `moodfeed analyze`'s files and `POST /analyze`'s lines alike: a
frame as JSON, and the summary of an input."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from service.api.schemas import DECIMALS, EmotionOut, TrackedFaceOut
from service.frames import AnalysedFrame

SEGMENTS = 10  # the summary's dominant emotion over this many equal stretches of time


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
