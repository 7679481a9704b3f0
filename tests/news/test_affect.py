"""The affect scored for a story: valence and six emotions from the shipped lexicon, and what it carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.labels import STORY_AFFECT_OUTPUTS, STORY_EMOTIONS
from service.news.affect import LEXICON_PATH, AffectScorer, Lexicon, LexiconError


def test_good_news_is_positive_and_bad_news_negative(scorer: AffectScorer) -> None:
    good = scorer.score("Rescued puppy finds a loving home", "The happy family is delighted.")
    bad = scorer.score("Family mourns teenager killed in crash", "Friends described their grief.")
    assert good.valence > 0.5
    assert bad.valence < -0.5


@pytest.mark.parametrize(
    ("emotion", "headline"),
    [
        ("anger", "Protesters furious over police brutality"),
        ("fear", "Residents terrified as wildfire threatens to engulf the town"),
        ("joy", "Team celebrates a joyful victory"),
        ("sadness", "Family mourns teenager killed in crash"),
        ("surprise", "Scientists stunned by bizarre discovery"),
        ("disgust", "Hypocrisy and corruption: minister's abhorrent remarks condemned"),
    ],
)
def test_a_headline_carries_its_plain_emotion_first(
    scorer: AffectScorer, emotion: str, headline: str
) -> None:
    affect = scorer.score(headline)
    assert affect.carries[0] == emotion
    scores = affect.as_dict()
    assert scores[emotion] == max(scores[carried] for carried in affect.carries)


def test_scores_are_the_same_every_time(scorer: AffectScorer) -> None:
    text = "Storm batters the coast as thousands evacuate"
    assert scorer.score(text, "Roads closed.") == scorer.score(text, "Roads closed.")


def test_every_score_stays_in_its_range(scorer: AffectScorer) -> None:
    for title in ("", "!!!!!!", "WAR WAR WAR ATTACK KILL DEAD CRISIS!!!", "calm " * 300, "zzqx 12345 ☃"):
        affect = scorer.score(title, title)
        assert -1.0 <= affect.valence <= 1.0
        assert len(affect.emotions) == len(STORY_EMOTIONS)
        assert all(0.0 <= value <= 1.0 for value in affect.emotions)
        assert set(affect.carries) <= set(STORY_EMOTIONS)


def test_the_headline_weighs_more_than_the_summary(scorer: AffectScorer) -> None:
    grim, glad = "Family mourns teenager killed in crash", "Rescued puppy finds a loving home"
    assert scorer.score(grim, glad).valence < scorer.score(glad, grim).valence


def test_a_lexicon_for_other_outputs_is_refused_with_its_path(tmp_path: Path) -> None:
    with np.load(LEXICON_PATH) as arrays:
        parts = dict(arrays)
    parts["outputs"] = np.frombuffer(b"valence\narousal", dtype=np.uint8)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **parts)
    with pytest.raises(LexiconError, match="wrong.npz"):
        Lexicon.load(wrong)


@pytest.mark.parametrize("content", [None, b"not a numpy archive"])
def test_a_missing_or_broken_lexicon_is_a_clear_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "story_affect.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LexiconError, match="story_affect.npz"):
        Lexicon.load(path)


def test_the_shipped_lexicon_gives_the_outputs_in_order() -> None:
    lexicon = Lexicon.load()
    assert lexicon.weights.shape[1] == len(STORY_AFFECT_OUTPUTS)
    assert len(lexicon.rows) > 20_000
    assert np.all(lexicon.notable > lexicon.typical)
