"""Order stories for a mood: how well each story's affect suits it, how fresh it is, and variety.

A policy says what suits each emotion. `uplift` (the default) follows mood regulation: sad, fearful,
angry or disgusted viewers get positive, calmer stories, happy viewers keep positive ones, surprise
favours novel ones and neutral shows the top recent stories. `match` follows mood congruence instead.
For a mixed mood the fit is the probability-weighted mix of each emotion's fit, so the feed moves
smoothly as the mood moves. Arrays are scored with numpy, so a few thousand stories rank in milliseconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from service.news.affect import Affect
from service.news.mood import Mood
from service.news.stories import Story, near_duplicate, title_words

# How much of a story's score is affect fit; the rest is recency.
FIT_WEIGHT = 0.7
_VALENCE_WEIGHT = 2.0  # valence is the better-measured dimension, and what "uplift" is mostly about
_AROUSAL_WEIGHT = 1.0


class PolicyError(ValueError):
    """An unknown ranking policy."""


class Policy(StrEnum):
    UPLIFT = "uplift"
    MATCH = "match"

    @classmethod
    def parse(cls, text: str) -> Policy:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(policy.value for policy in cls)
            raise PolicyError(f"unknown policy {text!r}: expected one of {choices}") from None


@dataclass(frozen=True, slots=True)
class Aim:
    """The stories that suit one emotion under one policy; None means that dimension does not matter."""

    label: str  # how a story's reason opens, e.g. "uplifting"
    valence: float | None
    arousal: float | None
    novelty_weight: float = 0.0


AIMS: dict[Policy, dict[str, Aim]] = {
    Policy.UPLIFT: {
        "angry": Aim("calming", valence=0.5, arousal=0.15),
        "disgust": Aim("restoring", valence=0.6, arousal=0.3),
        "fear": Aim("reassuring", valence=0.5, arousal=0.15),
        "sad": Aim("uplifting", valence=0.7, arousal=0.35),
        "happy": Aim("upbeat", valence=0.7, arousal=0.55),
        "surprise": Aim("something new", valence=0.3, arousal=None, novelty_weight=0.5),
        "neutral": Aim("recent", valence=None, arousal=None),
    },
    Policy.MATCH: {
        "angry": Aim("stirring", valence=-0.6, arousal=0.85),
        "disgust": Aim("troubling", valence=-0.6, arousal=0.6),
        "fear": Aim("tense", valence=-0.5, arousal=0.8),
        "sad": Aim("sombre", valence=-0.7, arousal=0.3),
        "happy": Aim("upbeat", valence=0.7, arousal=0.6),
        "surprise": Aim("surprising", valence=None, arousal=0.75, novelty_weight=0.5),
        "neutral": Aim("recent", valence=None, arousal=None),
    },
}


@dataclass(frozen=True, slots=True)
class StoryPool:
    """An immutable snapshot of the stories on offer, with their affect laid out as arrays for scoring."""

    stories: tuple[Story, ...]
    affects: tuple[Affect, ...]
    samples: bool
    valence: np.ndarray
    arousal: np.ndarray
    novelty: np.ndarray
    published_s: np.ndarray
    words: tuple[frozenset[str], ...]

    @classmethod
    def build(cls, scored: Sequence[tuple[Story, Affect]], *, samples: bool = False) -> StoryPool:
        stories = tuple(story for story, _ in scored)
        affects = tuple(affect for _, affect in scored)
        return cls(
            stories=stories,
            affects=affects,
            samples=samples,
            valence=np.array([a.valence for a in affects], dtype=np.float64),
            arousal=np.array([a.arousal for a in affects], dtype=np.float64),
            novelty=np.array([a.novelty for a in affects], dtype=np.float64),
            published_s=np.array([s.published.timestamp() for s in stories], dtype=np.float64),
            words=tuple(title_words(story.title) for story in stories),
        )

    def __len__(self) -> int:
        return len(self.stories)


@dataclass(frozen=True, slots=True)
class RankedStory:
    story: Story
    affect: Affect
    score: float
    reason: str


def rank(
    pool: StoryPool,
    mood: Mood,
    policy: Policy,
    *,
    limit: int,
    now_s: float,
    half_life_s: float,
    max_per_source: int,
) -> list[RankedStory]:
    """The best `limit` stories for the mood, at most `max_per_source` per source before any other source's
    leftovers, and never a near-duplicate of a story already chosen."""
    if not len(pool):
        return []
    aims = AIMS[policy]
    fit = sum(
        (weight * _fit(pool, aims[label]) for label, weight in mood.scores.items() if weight > 0),
        start=np.zeros(len(pool)),
    )
    age_s = np.maximum(now_s - pool.published_s, 0.0)
    recency = np.exp2(-age_s / half_life_s)
    scores = FIT_WEIGHT * fit + (1 - FIT_WEIGHT) * recency
    chosen = _diverse(pool, np.argsort(-scores, kind="stable"), limit, max_per_source)
    aim = aims[mood.emotion]
    return [
        RankedStory(
            pool.stories[i],
            pool.affects[i],
            round(float(scores[i]), 4),
            _reason(aim, pool.affects[i], age_s[i]),
        )
        for i in chosen
    ]


def _fit(pool: StoryPool, aim: Aim) -> np.ndarray:
    """How well each story suits one aim, from 0 (opposite) to 1 (exactly it)."""
    distance = np.zeros(len(pool))
    weights = 0.0
    if aim.valence is not None:
        # Saturates at a full unit of valence: a story that far off the aim is simply wrong for it.
        distance += _VALENCE_WEIGHT * np.minimum(np.abs(pool.valence - aim.valence), 1.0)
        weights += _VALENCE_WEIGHT
    if aim.arousal is not None:
        distance += _AROUSAL_WEIGHT * np.abs(pool.arousal - aim.arousal)
        weights += _AROUSAL_WEIGHT
    fit = 1 - distance / weights if weights else np.full(len(pool), 0.5)
    return (1 - aim.novelty_weight) * fit + aim.novelty_weight * pool.novelty


def _diverse(pool: StoryPool, order: np.ndarray, limit: int, max_per_source: int) -> list[int]:
    """Walk the stories best first, skipping near-duplicates and holding back a source's stories past its cap;
    held-back stories fill the end of the feed only when other sources run out."""
    picked: list[int] = []
    held_back: list[int] = []
    per_source: Counter[str] = Counter()
    seen = _SeenTitles()
    for index in order.tolist():
        if len(picked) >= limit:
            break
        source = pool.stories[index].source
        over_cap = per_source[source] >= max_per_source
        if over_cap and len(held_back) >= limit - len(picked):
            continue
        if seen.has_near_duplicate(pool.words[index]):
            continue
        seen.add(pool.words[index])
        if over_cap:
            held_back.append(index)
        else:
            picked.append(index)
            per_source[source] += 1
    return picked + held_back[: limit - len(picked)]


class _SeenTitles:
    """The titles already chosen, indexed by word, so a near-duplicate check only compares titles that share
    a word (a page of 100 against thousands of candidates stays cheap)."""

    def __init__(self) -> None:
        self._by_word: dict[str, list[frozenset[str]]] = defaultdict(list)

    def add(self, words: frozenset[str]) -> None:
        for word in words:
            self._by_word[word].append(words)

    def has_near_duplicate(self, words: frozenset[str]) -> bool:
        sharing = {id(other): other for word in words for other in self._by_word.get(word, ())}
        return any(near_duplicate(words, other) for other in sharing.values())


def _reason(aim: Aim, affect: Affect, age_s: float) -> str:
    """A short human reason, e.g. "uplifting: strongly positive, calm, 2 h old"."""
    notes = [_tone(affect.valence)]
    if affect.arousal >= 0.65:
        notes.append("intense")
    elif affect.arousal <= 0.3:
        notes.append("calm")
    if aim.novelty_weight and affect.novelty >= 0.35:
        notes.append("novel")
    notes.append(_age(age_s))
    return f"{aim.label}: {', '.join(notes)}"


def _tone(valence: float) -> str:
    if valence >= 0.5:
        return "strongly positive"
    if valence >= 0.15:
        return "positive"
    if valence > -0.15:
        return "neutral in tone"
    return "negative" if valence > -0.5 else "strongly negative"


def _age(age_s: float) -> str:
    minutes = int(age_s // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min old"
    hours = minutes // 60
    return f"{hours} h old" if hours < 48 else f"{hours // 24} d old"
