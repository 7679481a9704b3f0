"""The affect of a story: how positive it reads (valence), how stirring (arousal), how novel.

Valence is VADER's compound score (vaderSentiment, MIT, lexicon shipped in the wheel, no network), with
the headline weighted above the summary because the headline is what a reader takes in first.
No maintained offline library gives arousal under a licence we can ship (the NRC VAD and Warriner norms
are research-only or no-derivatives), so arousal is estimated from VADER's own intensity (the share of
emotionally charged words and how strong the compound is) plus short lists of words that news uses
for agitating or calming events, and emphatic punctuation. Novelty, used when the viewer is surprised,
counts words of discovery and surprise. All three are computed once, at ingest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

_HEADLINE_WEIGHT = 0.65
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


class _Lexicon:
    """A word list: exact words (and their -s plurals) plus stems matched as prefixes."""

    def __init__(self, entries: tuple[str, ...]):
        self.stems = tuple(entry[:-1] for entry in entries if entry.endswith("-"))
        words = [entry for entry in entries if not entry.endswith("-")]
        self.words = frozenset(words + [word + "s" for word in words])

    def count(self, words: list[str]) -> int:
        return sum(1 for word in words if word in self.words or word.startswith(self.stems))


# News words for agitating and calming events, and for novelty. A word ending in "-" is a stem that
# matches any word it begins ("kill-": killed, killing); any other matches itself and its plural in -s.
# fmt: off
_AGITATING = _Lexicon((
    "attack-", "bomb-", "blast-", "explo-", "kill-", "dead", "deadly", "death-", "shoot-", "shot", "gunman",
    "gunmen", "war", "invasion", "invade-", "missile-", "crisis", "crises", "emergenc-", "urgent", "breaking",
    "chaos", "chaotic", "panic-", "riot-", "violen-", "terror-", "threat-", "crash-", "collaps-", "plung-",
    "soar-", "surg-", "storm-", "hurricane-", "flood-", "wildfire-", "earthquake-", "evacuat-", "outrage-",
    "furious", "fury", "scandal-", "shock-", "stunn-", "thrill-", "triumph-", "victor-", "celebrat-",
    "jubila-", "ecsta-", "record", "massacre-", "hostage-", "arrest-", "protest-", "clash-", "fight-",
))
_CALMING = _Lexicon((
    "calm-", "quiet-", "gentle", "gently", "peace-", "relax-", "rest", "restful", "slow-", "sooth-", "serene",
    "serenity", "tranquil-", "garden-", "meditat-", "mindful-", "nap", "sleep-", "cosy", "cozy", "tea",
    "walk-", "knit-", "bird-", "meadow-", "library", "libraries", "reading", "recipe", "baking", "bakery",
    "community", "communities", "volunteer-", "kindness", "heal", "healing", "restor-", "comfort-",
))
_NOVEL = _Lexicon((
    "discover-", "unexpected-", "surpris-", "first", "unusual-", "rare", "rarest", "mystery", "mysteries",
    "mysterious-", "breakthrough-", "invent-", "unveil-", "never", "bizarre", "astonish-", "unprecedented",
    "newly", "found", "reveal-", "curious-", "weird-", "odd", "oddly",
))
# fmt: on


@dataclass(frozen=True, slots=True)
class Affect:
    """Valence in [-1, 1], sad to glad; arousal and novelty in [0, 1], calm to stirring and old to new."""

    valence: float
    arousal: float
    novelty: float


class AffectScorer:
    """Scores stories with one VADER analyser, loaded once (its lexicon takes a moment to read)."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def score(self, title: str, summary: str = "") -> Affect:
        headline = self._vader.polarity_scores(title)
        if summary:
            body = self._vader.polarity_scores(summary)
            valence = _HEADLINE_WEIGHT * headline["compound"] + (1 - _HEADLINE_WEIGHT) * body["compound"]
            charged_share = max(headline["pos"] + headline["neg"], body["pos"] + body["neg"])
        else:
            valence = headline["compound"]
            charged_share = headline["pos"] + headline["neg"]
        words = _WORD.findall(f"{title} {summary}".lower())
        agitating, calming = _AGITATING.count(words), _CALMING.count(words)
        emphasis = title.count("!") + sum(1 for word in title.split() if len(word) > 3 and word.isupper())
        arousal = (
            0.3
            + 0.4 * min(1.0, 2 * charged_share) * abs(valence) ** 0.5
            + 0.15 * min(agitating, 3)
            - 0.1 * min(calming, 3)
            + 0.05 * min(emphasis, 3)
        )
        novelty = min(1.0, 0.35 * _NOVEL.count(words))
        return Affect(round(valence, 4), round(_clamp(arousal), 4), round(novelty, 4))


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
