"""The affect of a story: how positive it reads (valence) and how much of six emotions it carries.

Scores come from the story affect lexicon that `python -m model.story_affect` trains (its card is
`model/STORY_AFFECT.md`): seven numbers per word (valence, then `STORY_EMOTIONS`), the mean over a
text's known words, plus VADER's compound score of the headline. The lexicon's part is linear in the text's
length, VADER's grows with its square, so texts are capped before they get here (`service/news/parse.py`);
a story of capped length scores in tens of microseconds, with nothing but numpy and the lexicon file.
The headline weighs more than the summary because the headline is what a reader takes in first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from model.labels import STORY_AFFECT_OUTPUTS, STORY_EMOTIONS
from model.words import words_of
from service.config import MODEL_DIR

LEXICON_PATH = MODEL_DIR / "story_affect.npz"
NOTABLE = 0.5  # how far from its median toward its upper quartile an emotion must be to be carried
NEAR_STRONGEST = 0.75  # a second emotion counts as carried when it stands out at least this much as the first
HEADLINE_WEIGHT = 0.65  # of a story with a summary; the summary has the rest


@dataclass(frozen=True, slots=True)
class Affect:
    """Valence in [-1, 1] (sad to glad) and each of `STORY_EMOTIONS` in [0, 1] (absent to strong)."""

    valence: float
    emotions: tuple[float, ...]  # in the order of STORY_EMOTIONS
    carries: tuple[str, ...] = ()  # the emotions that stand out in this story, strongest first

    def as_dict(self) -> dict[str, float]:
        return dict(zip(STORY_EMOTIONS, self.emotions, strict=True))


class LexiconError(RuntimeError):
    """The lexicon file is missing, unreadable, or not for these outputs."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The trained lexicon: a row of `STORY_AFFECT_OUTPUTS` per word, VADER's weight per output, and the
    intercepts."""

    rows: dict[str, int]
    weights: np.ndarray  # (words, outputs)
    vader: np.ndarray  # (outputs,)
    intercept: np.ndarray  # (outputs,)
    typical: np.ndarray  # (emotions,) each emotion's median over the training headlines
    notable: np.ndarray  # (emotions,) and its upper quartile: a story above it carries the emotion

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                words = bytes(arrays["words"]).decode("utf-8").split("\n")
                outputs = tuple(bytes(arrays["outputs"]).decode("utf-8").split("\n"))
                weights = arrays["weights"].astype(np.float32)
                vader, intercept = arrays["vader"].astype(np.float32), arrays["intercept"].astype(np.float32)
                typical, notable = arrays["typical"].astype(np.float32), arrays["notable"].astype(np.float32)
        except (OSError, KeyError, ValueError) as error:
            raise LexiconError(f"story affect lexicon {path} cannot be read: {error}") from None
        if outputs != STORY_AFFECT_OUTPUTS or weights.shape != (len(words), len(STORY_AFFECT_OUTPUTS)):
            raise LexiconError(
                f"story affect lexicon {path} gives {outputs}, expected {STORY_AFFECT_OUTPUTS}"
            )
        rows = {word: row for row, word in enumerate(words)}
        return cls(rows, weights, vader, intercept, typical, notable)


class AffectScorer:
    """Scores stories with the lexicon and one VADER analyser, both loaded once."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or Lexicon.load()
        self._vader = SentimentIntensityAnalyzer()

    def score(self, title: str, summary: str = "") -> Affect:
        lexicon = self.lexicon
        words = self._mean_row(title)
        if summary:
            words = HEADLINE_WEIGHT * words + (1 - HEADLINE_WEIGHT) * self._mean_row(summary)
        compound = self._vader.polarity_scores(title)["compound"]
        raw = lexicon.intercept + words + lexicon.vader * compound
        valence = float(np.clip(raw[0], -1.0, 1.0))
        emotions = np.clip(raw[1:], 0.0, 1.0)
        return Affect(valence, tuple(float(e) for e in emotions), self._carried(emotions))

    def _carried(self, emotions: np.ndarray) -> tuple[str, ...]:
        """The emotions above their notable level and near the most outstanding one, strongest first.

        Standing out is measured against ordinary headlines, not in absolute terms: every headline has
        some surprise in this scorer's eyes, and hardly any has much disgust.
        """
        lexicon = self.lexicon
        salience = (emotions - lexicon.typical) / np.maximum(lexicon.notable - lexicon.typical, 1e-6)
        strongest = float(salience.max())
        order = np.argsort(-salience, kind="stable")
        return tuple(
            STORY_EMOTIONS[i]
            for i in order
            if salience[i] >= NOTABLE and salience[i] >= NEAR_STRONGEST * strongest
        )

    def _mean_row(self, text: str) -> np.ndarray:
        """The mean lexicon row of the text's known words; zeros when it has none."""
        rows = [row for word in words_of(text) if (row := self.lexicon.rows.get(word)) is not None]
        if not rows:
            return np.zeros(len(STORY_AFFECT_OUTPUTS), dtype=np.float32)
        return self.lexicon.weights[rows].mean(axis=0)
