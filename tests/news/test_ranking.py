"""Ranking stories for a mood: affect fit under each policy, recency, and variety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.news.affect import Affect, AffectScorer
from service.news.mood import EMOTIONS, Mood
from service.news.ranking import AIMS, Policy, RankedStory, StoryPool, rank
from service.news.samples import load_samples
from service.news.stories import Story

NOW = datetime(2024, 6, 5, 12, 0, tzinfo=UTC)
HALF_LIFE_S = 6 * 3600.0


def scored(
    title: str,
    *,
    valence: float,
    arousal: float = 0.4,
    novelty: float = 0.0,
    age_h: float = 1.0,
    source: str = "Daily",
) -> tuple[Story, Affect]:
    story = Story(
        id=title,
        feed_url=f"https://{source.lower()}.example/rss",
        source=source,
        title=title,
        link=f"https://{source.lower()}.example/{abs(hash(title))}",
        published=NOW - timedelta(hours=age_h),
        summary="",
    )
    return story, Affect(valence, arousal, novelty)


def ranked(
    pool: list[tuple[Story, Affect]],
    mood: Mood,
    policy: Policy = Policy.UPLIFT,
    *,
    limit: int = 20,
    max_per_source: int = 100,
) -> list[RankedStory]:
    return rank(
        StoryPool.build(pool),
        mood,
        policy,
        limit=limit,
        now_s=NOW.timestamp(),
        half_life_s=HALF_LIFE_S,
        max_per_source=max_per_source,
    )


TOPICS = (
    "harbour",
    "museum",
    "orchard",
    "bakery",
    "library",
    "festival",
    "railway",
    "meadow",
    "choir",
    "lighthouse",
)
MIXED = [
    scored("Flood leaves families homeless", valence=-0.8, arousal=0.8, source="A"),
    scored("Grief as the old mill closes for good", valence=-0.6, arousal=0.3, source="B"),
    scored("Budget vote delayed to next week", valence=0.0, arousal=0.3, source="C"),
    scored("Volunteers rebuild a playground in a day", valence=0.7, arousal=0.4, source="D"),
    scored("Rescued owl returns to the wild", valence=0.6, arousal=0.3, source="E"),
    scored("Violent clashes as protest turns ugly", valence=-0.7, arousal=0.9, source="F"),
]


def test_sad_viewer_with_uplift_gets_positive_stories_first() -> None:
    valences = [item.affect.valence for item in ranked(MIXED, Mood.of("sad"), Policy.UPLIFT)]
    assert valences[:2] == [0.7, 0.6]
    assert all(v < 0 for v in valences[-3:])


def test_sad_viewer_with_match_gets_sad_stories_first() -> None:
    titles = [item.story.title for item in ranked(MIXED, Mood.of("sad"), Policy.MATCH)]
    assert titles[0] == "Grief as the old mill closes for good"
    assert {titles[1], titles[2]} == {
        "Flood leaves families homeless",
        "Violent clashes as protest turns ugly",
    }


@pytest.mark.parametrize("emotion", ["angry", "fear"])
def test_angry_or_fearful_viewer_with_uplift_gets_calm_positive_stories_first(emotion: str) -> None:
    first = ranked(MIXED, Mood.of(emotion))[0]
    assert first.story.title == "Rescued owl returns to the wild"
    assert first.reason.startswith({"angry": "calming", "fear": "reassuring"}[emotion])


def test_surprised_viewer_gets_novel_stories_first() -> None:
    pool = [*MIXED, scored("Divers discover a glowing fish", valence=0.1, novelty=1.0, source="G")]
    assert ranked(pool, Mood.of("surprise"))[0].story.title == "Divers discover a glowing fish"


def test_neutral_viewer_gets_the_most_recent_stories_whatever_their_tone() -> None:
    pool = [
        scored(f"The {TOPICS[age]} story", valence=(-1) ** age * 0.8, age_h=age, source=TOPICS[age])
        for age in range(1, 7)
    ]
    assert [item.story.title for item in ranked(pool, Mood.of("neutral"))] == [
        f"The {TOPICS[age]} story" for age in range(1, 7)
    ]


@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_newer_beats_older_at_equal_fit(emotion: str, policy: Policy) -> None:
    pool = [
        scored("Older story about the harbour", valence=0.3, age_h=10, source="A"),
        scored("Newer story about the museum", valence=0.3, age_h=1, source="B"),
    ]
    assert [item.story.title for item in ranked(pool, Mood.of(emotion), policy)] == [
        "Newer story about the museum",
        "Older story about the harbour",
    ]


def test_one_source_cannot_fill_the_top_even_with_the_best_fitting_stories() -> None:
    prolific = [scored(f"Wonderful {topic} news", valence=0.9, source="Wire") for topic in TOPICS]
    others = [
        scored(f"Pleasant {topic} story", valence=0.3, source=f"Paper{n}")
        for n, topic in enumerate(TOPICS[:4])
    ]
    sources = [
        item.story.source for item in ranked(prolific + others, Mood.of("sad"), limit=10, max_per_source=3)
    ]
    assert sources[:3] == ["Wire"] * 3
    assert sources[3:7] == ["Paper0", "Paper1", "Paper2", "Paper3"]
    assert sources[7:] == ["Wire"] * 3  # the capped source's leftovers come only after everyone else's


def test_a_single_source_still_fills_the_page() -> None:
    pool = [scored(f"Solo {topic} story", valence=0.5, source="Solo") for topic in TOPICS]
    assert len(ranked(pool, Mood.of("happy"), limit=5, max_per_source=2)) == 5


def test_near_identical_titles_from_two_sources_appear_once() -> None:
    pool = [
        scored("Storm hits the coast, thousands without power", valence=-0.5, source="A"),
        scored("Storm hits coast: thousands without power overnight", valence=-0.5, source="B"),
        scored("Town fair raises money for the school", valence=0.5, source="C"),
    ]
    titles = [item.story.title for item in ranked(pool, Mood.of("neutral"))]
    assert len(titles) == 2
    assert "Town fair raises money for the school" in titles


def test_the_feed_moves_smoothly_as_the_mood_shifts_from_sad_to_happy() -> None:
    pool = [
        scored(f"The {topic} story", valence=v, arousal=0.4, source=topic)
        for topic, v in zip(TOPICS, [-0.9, -0.6, -0.3, 0.0, 0.3, 0.6, 0.9], strict=False)
    ]
    mean_valences = []
    for happy in (0.0, 0.25, 0.5, 0.75, 1.0):
        top = ranked(pool, Mood.parse(f"sad:{1 - happy},happy:{happy}"), Policy.MATCH, limit=3)
        mean_valences.append(sum(item.affect.valence for item in top) / 3)
    assert mean_valences == sorted(mean_valences)
    assert mean_valences[0] < 0 < mean_valences[-1]


def test_each_story_says_why_it_is_there() -> None:
    pool = [scored("Rescued owl returns to the wild", valence=0.8, arousal=0.2, age_h=2.5)]
    assert ranked(pool, Mood.of("sad"))[0].reason == "uplifting: strongly positive, calm, 2 h old"


def test_scores_lie_between_zero_and_one_and_an_empty_pool_ranks_to_nothing() -> None:
    assert all(0 <= item.score <= 1 for item in ranked(MIXED, Mood.parse("fear:0.3,happy:0.7")))
    assert ranked([], Mood.of("sad")) == []


def test_every_policy_has_an_aim_for_every_emotion() -> None:
    for policy in Policy:
        assert set(AIMS[policy]) == set(EMOTIONS)


def test_on_the_bundled_samples_uplift_and_match_pull_in_opposite_directions(scorer: AffectScorer) -> None:
    pool = StoryPool.build(load_samples(scorer, NOW), samples=True)

    def top_valences(policy: Policy) -> list[float]:
        items = rank(
            pool,
            Mood.of("sad"),
            policy,
            limit=5,
            now_s=NOW.timestamp(),
            half_life_s=HALF_LIFE_S,
            max_per_source=3,
        )
        return [item.affect.valence for item in items]

    assert all(v > 0 for v in top_valences(Policy.UPLIFT))
    assert all(v < 0 for v in top_valences(Policy.MATCH)[:3])
