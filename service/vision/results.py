"""What the engine answers: faces with their emotions, a mood, the image size, and where the time went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.vision.boxes import Box


@dataclass(frozen=True, slots=True)
class EmotionReading:
    """A probability per emotion label, with the dominant one and its probability."""

    scores: dict[str, float]

    @classmethod
    def of(cls, labels: Sequence[str], probabilities: np.ndarray) -> EmotionReading:
        return cls({label: float(p) for label, p in zip(labels, probabilities, strict=True)})

    @property
    def emotion(self) -> str:
        """The most probable label (the first in label order on a tie)."""
        return max(self.scores, key=self.scores.__getitem__)

    @property
    def confidence(self) -> float:
        return self.scores[self.emotion]


@dataclass(frozen=True, slots=True)
class Face:
    """One face: where it is (in the analysed image's pixels), what it shows, and its track in a stream."""

    box: Box
    reading: EmotionReading
    track_id: int | None = None
    # In a stream: this frame's own, unsmoothed reading (None when the face was not found in this frame,
    # whose box and reading are then held over from the last frame that had it).
    raw: EmotionReading | None = None

    @property
    def held(self) -> bool:
        """A tracked face not found in this frame: its last box and smoothed reading, kept for a moment."""
        return self.track_id is not None and self.raw is None


def blend(labels: Sequence[str], probabilities: np.ndarray, boxes: Sequence[Box]) -> EmotionReading | None:
    """The mood of several faces: their probabilities averaged with each face weighted by its area.

    The largest face is usually the viewer nearest the camera, so it counts most. None without faces.
    """
    if not boxes:
        return None
    weights = np.array([box.area for box in boxes], np.float64)
    mixture = weights @ np.asarray(probabilities, np.float64) / weights.sum()
    return EmotionReading.of(labels, mixture)


@dataclass(frozen=True, slots=True)
class Timings:
    """Milliseconds spent on one image, by stage, for metrics and the benchmark."""

    decode_ms: float
    detect_ms: float
    classify_ms: float

    @property
    def total_ms(self) -> float:
        return self.decode_ms + self.detect_ms + self.classify_ms


@dataclass(frozen=True, slots=True)
class Analysis:
    """The engine's answer for one photo or video frame; faces are ordered largest first.

    `min_face_px` is the smallest face size scanned for, None when the whole image was one face.
    """

    faces: list[Face]
    mood: EmotionReading | None
    width: int
    height: int
    timings: Timings
    min_face_px: int | None
