"""A viewer's mood as the news feed sees it: a probability for each of the seven emotions.

It comes either as one emotion (`sad`) or as the smoothed score vector the vision engine produces
(`angry:0.1,happy:0.6,...`); labels left out count as 0 and the rest is normalised to sum to 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.labels import EMOTIONS


class MoodError(ValueError):
    """The mood given cannot be read: an unknown emotion, or scores that are not a usable distribution."""


@dataclass(frozen=True, slots=True)
class Mood:
    """Normalised probabilities for every label of `EMOTIONS`, in that order of keys."""

    scores: dict[str, float]

    @property
    def emotion(self) -> str:
        """The dominant emotion (the first label wins a tie)."""
        return max(EMOTIONS, key=lambda label: self.scores[label])

    @property
    def confidence(self) -> float:
        return self.scores[self.emotion]

    @classmethod
    def of(cls, emotion: str) -> Mood:
        """All weight on one emotion."""
        label = emotion.strip().lower()
        if label not in EMOTIONS:
            raise MoodError(f"unknown emotion {emotion!r}: expected one of {', '.join(EMOTIONS)}")
        return cls({other: float(other == label) for other in EMOTIONS})

    @classmethod
    def parse(cls, text: str) -> Mood:
        """Read `label:probability` pairs separated by commas, e.g. `sad:0.7,neutral:0.3`."""
        raw: dict[str, float] = {}
        for pair in filter(None, (part.strip() for part in text.split(","))):
            label, colon, number = (piece.strip() for piece in pair.partition(":"))
            label = label.lower()
            if not colon:
                raise MoodError(f"scores: expected label:probability, got {pair!r}")
            if label not in EMOTIONS:
                raise MoodError(f"scores: unknown emotion {label!r}: expected one of {', '.join(EMOTIONS)}")
            if label in raw:
                raise MoodError(f"scores: {label!r} is given twice")
            try:
                value = float(number)
            except ValueError:
                raise MoodError(f"scores: {number!r} for {label!r} is not a number") from None
            if not math.isfinite(value) or value < 0:
                raise MoodError(f"scores: {label!r} must be a finite number >= 0, got {number!r}")
            raw[label] = value
        total = sum(raw.values())
        if total <= 0:
            raise MoodError("scores: give at least one emotion with a probability above 0")
        if not math.isfinite(total):  # each value is finite, but a few near 1e308 overflow the sum
            raise MoodError("scores: the values are too large to add up; give probabilities")
        return cls({label: raw.get(label, 0.0) / total for label in EMOTIONS})
