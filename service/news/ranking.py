"""Order stories for a mood: what each emotion's viewer should be shown, how fresh it is, and variety.

A policy maps each of the seven viewer emotions to an aim: which stories it admits at all and which it
prefers among those. `match` follows mood congruence (a fearful viewer gets stories that carry fear, not
anger); `uplift`, the default, follows mood regulation (sad viewers get hopeful, warm stories; angry ones
calm, constructive ones; fearful ones reassuring ones; disgusted ones decent ones; happy ones keep
positive ones; surprised ones get curious, positive ones). A neutral viewer gets the latest news under
either policy. For a mixed mood, each story's fit is the probability-weighted mix of the aims' fits, and
a story is shown only if aims holding at least half the mood admit it: a page may be shorter than
`limit` rather than carry a story that contradicts the policy. Arrays are scored with numpy, so a few
thousand stories rank in milliseconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from model.labels import STORY_EMOTIONS
from service.news.affect import Affect
from service.news.mood import Mood
from service.news.stories import Story, near_duplicate, title_words

# How much of a story's score is affect fit; the rest is recency.
FIT_WEIGHT = 0.7
# An emotion this strong counts as fully there when fits are weighed (the scorer seldom goes past it).
FULL = 0.8
# Uplift shows only stories at least this positive.
UPLIFTING_VALENCE = 0.05
GRIEVOUS_VALENCE = -0.3  # what an angry viewer's match page also takes when anger is not found
NEGATIVE_EMOTIONS = ("anger", "disgust", "fear", "sadness")


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


DEFAULT_POLICY = Policy.UPLIFT  # what /feed ranks by, and the page offers first, unless told


@dataclass(frozen=True, slots=True)
class StoryPool:
    """An immutable snapshot of the stories on offer, with their affect laid out as arrays for scoring."""

    stories: tuple[Story, ...]
    affects: tuple[Affect, ...]
    samples: bool
    valence: np.ndarray  # (stories,)
    emotions: np.ndarray  # (stories, STORY_EMOTIONS)
    carried: np.ndarray  # (stories, STORY_EMOTIONS) booleans: the emotions each story carries
    published_s: np.ndarray
    words: tuple[frozenset[str], ...]

    @classmethod
    def build(cls, scored: Sequence[tuple[Story, Affect]], *, samples: bool = False) -> StoryPool:
        stories = tuple(story for story, _ in scored)
        affects = tuple(affect for _, affect in scored)
        emotions = np.array([a.emotions for a in affects], dtype=np.float64).reshape(-1, len(STORY_EMOTIONS))
        return cls(
            stories=stories,
            affects=affects,
            samples=samples,
            valence=np.array([a.valence for a in affects], dtype=np.float64),
            emotions=emotions,
            carried=np.array(
                [[name in a.carries for name in STORY_EMOTIONS] for a in affects], dtype=bool
            ).reshape(-1, len(STORY_EMOTIONS)),
            published_s=np.array([s.published.timestamp() for s in stories], dtype=np.float64),
            words=tuple(title_words(story.title) for story in stories),
        )

    def __len__(self) -> int:
        return len(self.stories)

    def carrying(self, *names: str) -> np.ndarray:
        """Which stories carry any of these emotions."""
        columns = [STORY_EMOTIONS.index(name) for name in names]
        return np.asarray(self.carried[:, columns].any(axis=1))


def _everything(pool: StoryPool) -> np.ndarray:
    return np.ones(len(pool), dtype=bool)


def _uplifting(pool: StoryPool) -> np.ndarray:
    """Positive, and carrying none of the negative emotions."""
    return (pool.valence >= UPLIFTING_VALENCE) & ~pool.carrying(*NEGATIVE_EMOTIONS)


def _carrying(*names: str, unless: tuple[str, ...] = ()) -> Callable[[StoryPool], np.ndarray]:
    """Stories that carry one of `names` and none of `unless`."""

    def admits(pool: StoryPool) -> np.ndarray:
        return pool.carrying(*names) & ~pool.carrying(*unless)

    return admits


def _grievous(pool: StoryPool) -> np.ndarray:
    """Stories of wrongs: carrying anger or disgust, or clearly negative without fear or joy in them (the
    scorer finds anger less surely than the other emotions, so a plainly bad story counts as well)."""
    return pool.carrying("anger", "disgust") | (
        (pool.valence <= GRIEVOUS_VALENCE) & ~pool.carrying("fear", "joy")
    )


@dataclass(frozen=True, slots=True)
class Aim:
    """What one viewer emotion is shown under one policy."""

    purpose: str  # how a reason ends: "to lift a sad mood"
    admits: Callable[[StoryPool], np.ndarray]  # which stories may be shown at all
    prefer: dict[str, float] = field(default_factory=dict)  # weight on "valence" and story emotions


LATEST = Aim("among the latest", _everything)
AIMS: dict[Policy, dict[str, Aim]] = {
    Policy.UPLIFT: {
        "angry": Aim("to cool an angry mood", _uplifting, {"valence": 1.0, "anger": -2.0, "surprise": -0.5}),
        "disgust": Aim("to restore a soured mood", _uplifting, {"valence": 1.0, "joy": 1.0, "disgust": -2.0}),
        "fear": Aim("to ease a fearful mood", _uplifting, {"valence": 1.0, "joy": 0.5, "fear": -2.0}),
        "sad": Aim("to lift a sad mood", _uplifting, {"valence": 1.0, "joy": 2.0, "sadness": -1.0}),
        "happy": Aim("to keep a happy mood", _uplifting, {"valence": 1.0, "joy": 1.0}),
        "surprise": Aim("for a curious mood", _uplifting, {"surprise": 2.0, "valence": 0.5}),
        "neutral": LATEST,
    },
    Policy.MATCH: {
        "angry": Aim("like your mood", _grievous, {"anger": 2.0, "disgust": 1.0, "valence": -1.0}),
        "disgust": Aim("like your mood", _grievous, {"disgust": 2.0, "anger": 1.0, "valence": -1.0}),
        "fear": Aim("like your mood", _carrying("fear", unless=("anger",)), {"fear": 2.0, "anger": -1.0}),
        "sad": Aim("like your mood", _carrying("sadness"), {"sadness": 2.0, "valence": -0.5}),
        "happy": Aim("like your mood", _uplifting, {"joy": 2.0, "valence": 1.0}),
        "surprise": Aim("like your mood", _carrying("surprise"), {"surprise": 2.0}),
        "neutral": LATEST,
    },
}


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
    """The best stories for the mood, up to `limit`: only those the mood's aims admit, at most
    `max_per_source` per source before any other source's leftovers, and never a near-duplicate of a story
    already chosen."""
    if not len(pool):
        return []
    weighted = [(weight, AIMS[policy][label]) for label, weight in mood.scores.items() if weight > 0]
    admitted = [aim.admits(pool) for _, aim in weighted]
    fit = sum((weight * _fit(pool, aim) for weight, aim in weighted), start=np.zeros(len(pool)))
    support = sum(
        (weight * admits for (weight, _), admits in zip(weighted, admitted, strict=True)),
        start=np.zeros(len(pool)),
    )
    age_s = np.maximum(now_s - pool.published_s, 0.0)
    recency = np.exp2(-age_s / half_life_s)
    scores = FIT_WEIGHT * fit + (1 - FIT_WEIGHT) * recency
    order = np.argsort(-scores, kind="stable")
    chosen = _diverse(pool, order[support[order] >= 0.5], limit, max_per_source)
    return [
        RankedStory(
            pool.stories[i],
            pool.affects[i],
            float(scores[i]),
            f"{describe(pool, i)}, {_purpose(weighted, admitted, i)}",
        )
        for i in chosen
    ]


def _fit(pool: StoryPool, aim: Aim) -> np.ndarray:
    """How well each story suits an aim's preferences, from 0 (their opposite) to 1 (exactly them)."""
    if not aim.prefer:
        return np.full(len(pool), 0.5)
    total = np.zeros(len(pool))
    for name, weight in aim.prefer.items():
        value = pool.valence if name == "valence" else pool.emotions[:, STORY_EMOTIONS.index(name)] / FULL
        total += weight * np.clip(value, -1.0, 1.0)
    return 0.5 + 0.5 * total / sum(abs(weight) for weight in aim.prefer.values())


def _purpose(weighted: list[tuple[float, Aim]], admitted: list[np.ndarray], index: int) -> str:
    """The purpose of the weightiest aim that admits this story."""
    _, aim = max(
        ((weight, aim) for (weight, aim), admits in zip(weighted, admitted, strict=True) if admits[index]),
        key=lambda pair: pair[0],
    )
    return aim.purpose


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


# How a reason names the emotion a story carries.
TONE_WORDS = {
    "anger": "angry",
    "disgust": "distasteful",
    "fear": "tense",
    "joy": "hopeful",
    "sadness": "sad",
    "surprise": "surprising",
}


def describe(pool: StoryPool, index: int) -> str:
    """The story's emotional tone in a few words: "hopeful and calm", "tense and sad", "neutral in tone"."""
    carried = pool.affects[index].carries
    words = [TONE_WORDS[name] for name in carried[:2]]
    valence = pool.valence[index]
    if not set(carried) & {*NEGATIVE_EMOTIONS, "surprise"}:
        if not words and abs(valence) < 0.15:
            return "neutral in tone"
        words.append("calm" if valence > -0.15 else "downbeat")
    return " and ".join(words)
