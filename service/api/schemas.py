"""The JSON shapes of the vision API (`POST /predict`, `WS /ws/stream`, `POST /analyze`) and of
`moodfeed predict` and `analyze`; the news feed's are in `feed_schemas`.

The web page reads these field names; keep them stable. Probabilities are rounded to `DECIMALS` decimals.
"""

from __future__ import annotations

from typing import Any, Protocol, Self

from pydantic import BaseModel, Field

from service.vision.boxes import Box
from service.vision.results import Analysis, Face, Timings

DECIMALS = 4


class BoxOut(BaseModel):
    """A face box in the analysed image's pixels (after EXIF rotation): left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def of(cls, box: Box) -> BoxOut:
        return cls(x=box.x, y=box.y, w=box.w, h=box.h)


class Scores(Protocol):
    """Probabilities per label with the dominant one: a face's reading or a viewer's mood."""

    @property
    def scores(self) -> dict[str, float]: ...

    @property
    def emotion(self) -> str: ...

    @property
    def confidence(self) -> float: ...


class EmotionOut(BaseModel):
    """The dominant emotion, its probability, and the probability of every label."""

    emotion: str
    confidence: float = Field(ge=0, le=1)
    scores: dict[str, float]

    @classmethod
    def of(cls, reading: Scores, **fields: Any) -> Self:
        """The reading rounded to DECIMALS; `fields` fill a subclass's own fields."""
        return cls(
            emotion=reading.emotion,
            confidence=round(reading.confidence, DECIMALS),
            scores={label: round(p, DECIMALS) for label, p in reading.scores.items()},
            **fields,
        )


class FaceOut(EmotionOut):
    """One face: its box and its reading."""

    box: BoxOut

    @classmethod
    def of_face(cls, face: Face) -> FaceOut:
        return cls.of(face.reading, box=BoxOut.of(face.box))


class TrackedFaceOut(FaceOut):
    """A face in a stream: `track_id` stays the same while the face stays in view; `emotion`, `confidence`
    and `scores` are smoothed over the last second or so, `raw` is this frame's own reading (null when
    `held`: the face was not found in this frame and its last box and reading are kept for a moment)."""

    track_id: int
    held: bool
    raw: EmotionOut | None

    @classmethod
    def of_face(cls, face: Face) -> TrackedFaceOut:
        if face.track_id is None:
            raise ValueError("a stream's faces are tracked faces")
        raw = None if face.raw is None else EmotionOut.of(face.raw)
        return cls.of(face.reading, box=BoxOut.of(face.box), track_id=face.track_id, held=face.held, raw=raw)


class ImageOut(BaseModel):
    width: int
    height: int


class TimingsOut(BaseModel):
    """Milliseconds the server spent on the image, by stage."""

    decode_ms: float
    detect_ms: float
    classify_ms: float
    total_ms: float

    @classmethod
    def of(cls, timings: Timings) -> TimingsOut:
        return cls(
            decode_ms=round(timings.decode_ms, 2),
            detect_ms=round(timings.detect_ms, 2),
            classify_ms=round(timings.classify_ms, 2),
            total_ms=round(timings.total_ms, 2),
        )


def _image_mood_and_timings(analysis: Analysis) -> dict[str, Any]:
    return {
        "image": ImageOut(width=analysis.width, height=analysis.height),
        "mood": EmotionOut.of(analysis.mood) if analysis.mood else None,
        "timings_ms": TimingsOut.of(analysis.timings),
    }


class PredictOut(BaseModel):
    """Every face found in a photo, largest first, and the photo's mood (the faces weighted by area)."""

    faces: list[FaceOut]
    image: ImageOut
    mood: EmotionOut | None = Field(description="null when no face was found")
    min_face: int | None = Field(description="smallest face size scanned for, px; null with detect=false")
    timings_ms: TimingsOut

    @classmethod
    def of(cls, analysis: Analysis) -> PredictOut:
        return cls(
            faces=[FaceOut.of_face(face) for face in analysis.faces],
            min_face=analysis.min_face_px,
            **_image_mood_and_timings(analysis),
        )


class FrameOut(BaseModel):
    """The answer to one analysed stream frame: its number, the tracked faces, and the stream's mood.

    `mood` is smoothed over about a second; while no face is in view it fades toward no emotion in
    particular (halving each `MOODFEED_MOOD_HALF_LIFE_S`) and is null once faded, as before the first face.
    `dropped` counts the frames skipped so far because a newer one arrived first.
    """

    seq: int
    faces: list[TrackedFaceOut]
    mood: EmotionOut | None
    dropped: int
    image: ImageOut
    timings_ms: TimingsOut

    @classmethod
    def of(cls, seq: int, analysis: Analysis, dropped: int) -> FrameOut:
        return cls(
            seq=seq,
            faces=[TrackedFaceOut.of_face(face) for face in analysis.faces],
            dropped=dropped,
            **_image_mood_and_timings(analysis),
        )


class FrameErrorOut(BaseModel):
    """The answer to a frame that could not be analysed; the stream stays open."""

    seq: int
    error: str
    dropped: int
