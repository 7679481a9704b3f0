"""Reading a viewer's mood: one emotion, or a probability for each."""

from __future__ import annotations

import pytest

from service.news.mood import EMOTIONS, Mood, MoodError


def test_one_emotion_puts_all_weight_on_it() -> None:
    mood = Mood.of("Sad")
    assert mood.emotion == "sad"
    assert mood.confidence == 1.0
    assert sum(mood.scores.values()) == 1.0


def test_scores_are_normalised_and_missing_labels_count_as_zero() -> None:
    mood = Mood.parse("angry:0.1, happy:0.6,sad:0.3, neutral:1")
    assert list(mood.scores) == list(EMOTIONS)
    assert mood.emotion == "neutral"
    assert mood.scores["happy"] == pytest.approx(0.3)
    assert mood.scores["fear"] == 0.0
    assert sum(mood.scores.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bored:1", "unknown emotion 'bored'"),
        ("sad", "expected label:probability"),
        ("sad:lots", "is not a number"),
        ("sad:-0.2", "must be a finite number >= 0"),
        ("sad:nan", "must be a finite number >= 0"),
        ("sad:inf", "must be a finite number >= 0"),
        ("sad:0.5,sad:0.5", "given twice"),
        ("sad:0,happy:0", "at least one emotion"),
        ("sad:1e308,happy:1e308", "too large to add up"),
        ("", "at least one emotion"),
    ],
)
def test_unusable_scores_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(MoodError, match=message):
        Mood.parse(text)


def test_an_unknown_emotion_is_refused_with_the_labels_we_know() -> None:
    with pytest.raises(
        MoodError, match="expected one of angry, disgust, fear, happy, sad, surprise, neutral"
    ):
        Mood.of("bored")
