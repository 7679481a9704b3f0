"""The affect scored for a story: valence from VADER, arousal and novelty estimates."""

from __future__ import annotations

from service.news.affect import AffectScorer


def test_good_news_is_positive_and_bad_news_negative(scorer: AffectScorer) -> None:
    good = scorer.score("Rescued puppy finds a loving home", "The happy family is delighted.")
    bad = scorer.score("Family mourns teenager killed in crash", "Friends described their grief.")
    assert good.valence > 0.5
    assert bad.valence < -0.5


def test_violent_breaking_news_is_more_arousing_than_a_quiet_garden_story(scorer: AffectScorer) -> None:
    violent = scorer.score("BREAKING: explosion and gunfire as attack kills dozens!", "Panic spread.")
    calm = scorer.score("A quiet community garden offers a calm place to rest", "Gentle Sunday mornings.")
    assert violent.arousal > 0.7
    assert calm.arousal < 0.3


def test_discoveries_read_as_novel_and_routine_news_does_not(scorer: AffectScorer) -> None:
    assert scorer.score("Divers discover a rare glowing fish never seen before").novelty >= 0.7
    assert scorer.score("Council approves budget for road repairs").novelty == 0.0


def test_every_score_stays_in_its_range(scorer: AffectScorer) -> None:
    for title in ("", "!!!!!!", "WAR WAR WAR ATTACK KILL DEAD CRISIS!!!", "calm calm quiet gentle rest"):
        affect = scorer.score(title, title)
        assert -1.0 <= affect.valence <= 1.0
        assert 0.0 <= affect.arousal <= 1.0
        assert 0.0 <= affect.novelty <= 1.0
