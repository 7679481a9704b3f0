"""Ranking stories for a mood: which stories each policy admits for each emotion, their order, and variety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from model.labels import STORY_EMOTIONS
from service.news.affect import Affect, AffectScorer
from service.news.mood import EMOTIONS, Mood
from service.news.ranking import AIMS, NEGATIVE_EMOTIONS, Policy, RankedStory, StoryPool, rank
from service.news.samples import load_samples
from service.news.stories import Story

NOW = datetime(2024, 6, 5, 12, 0, tzinfo=UTC)
HALF_LIFE_S = 6 * 3600.0


def scored(
    title: str,
    *,
    valence: float,
    carries: tuple[str, ...] = (),
    age_h: float = 1.0,
    source: str = "Daily",
) -> tuple[Story, Affect]:
    """A story with the affect a scorer would give it: each carried emotion at 0.6, the others at 0.1."""
    story = Story(
        id=title,
        feed_url=f"https://{source.lower()}.example/rss",
        source=source,
        title=title,
        link=f"https://{source.lower()}.example/{abs(hash(title))}",
        published=NOW - timedelta(hours=age_h),
        summary="",
    )
    emotions = tuple(0.6 if name in carries else 0.1 for name in STORY_EMOTIONS)
    return story, Affect(valence, emotions, carries)


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


def titles(items: list[RankedStory]) -> list[str]:
    return [item.story.title for item in items]


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
FLOOD = scored("Flood leaves families homeless", valence=-0.8, carries=("fear", "sadness"), source="A")
MILL = scored("Grief as the old mill closes for good", valence=-0.6, carries=("sadness",), source="B")
BUDGET = scored("Budget vote delayed to next week", valence=0.0, source="C")
PLAYGROUND = scored("Volunteers rebuild a playground in a day", valence=0.7, carries=("joy",), source="D")
OWL = scored("Rescued owl returns to the wild", valence=0.6, source="E")
CLASHES = scored("Violent clashes as protest turns ugly", valence=-0.7, carries=("anger",), source="F")
STORM = scored("Storm warning as the typhoon nears", valence=-0.5, carries=("fear",), source="G")
FISH = scored("Divers find a glowing fish", valence=0.3, carries=("surprise",), source="H")
MIXED = [FLOOD, MILL, BUDGET, PLAYGROUND, OWL, CLASHES, STORM, FISH]


def test_a_fearful_viewers_match_page_carries_fear_and_no_anger() -> None:
    page = ranked(MIXED, Mood.of("fear"), Policy.MATCH)
    assert titles(page) and all("fear" in item.affect.carries for item in page)
    assert CLASHES[0].title not in titles(page)


def test_an_angry_viewers_uplift_page_carries_no_anger_nor_any_other_negative_emotion() -> None:
    page = ranked(MIXED, Mood.of("angry"), Policy.UPLIFT)
    assert titles(page)
    assert all(not set(item.affect.carries) & set(NEGATIVE_EMOTIONS) for item in page)
    assert all(item.affect.valence > 0 for item in page)


def test_a_sad_viewer_is_lifted_with_hopeful_stories_first_and_never_shown_grim_ones() -> None:
    page = ranked(MIXED, Mood.of("sad"), Policy.UPLIFT, limit=20)
    assert titles(page)[0] == PLAYGROUND[0].title
    assert len(page) < 20  # the page is short rather than padded with stories that contradict the policy
    assert not {FLOOD[0].title, MILL[0].title, CLASHES[0].title, STORM[0].title} & set(titles(page))


def test_a_sad_viewers_match_page_is_sad_stories_only() -> None:
    assert set(titles(ranked(MIXED, Mood.of("sad"), Policy.MATCH))) == {FLOOD[0].title, MILL[0].title}


def test_an_angry_viewers_match_page_takes_stories_of_wrongs_not_fear() -> None:
    page = titles(ranked(MIXED, Mood.of("angry"), Policy.MATCH))
    assert page[0] == CLASHES[0].title
    assert STORM[0].title not in page and PLAYGROUND[0].title not in page


def test_a_surprised_viewer_gets_surprising_stories_first() -> None:
    assert titles(ranked(MIXED, Mood.of("surprise")))[0] == FISH[0].title
    assert titles(ranked(MIXED, Mood.of("surprise"), Policy.MATCH)) == [FISH[0].title]


def test_neutral_viewer_gets_the_most_recent_stories_whatever_their_tone() -> None:
    pool = [
        scored(f"The {TOPICS[age]} story", valence=(-1) ** age * 0.8, age_h=age, source=TOPICS[age])
        for age in range(1, 7)
    ]
    for policy in Policy:
        assert titles(ranked(pool, Mood.of("neutral"), policy)) == [
            f"The {TOPICS[age]} story" for age in range(1, 7)
        ]


def test_a_mostly_neutral_mood_shows_everything_and_a_mostly_sad_one_only_what_lifts_it() -> None:
    mostly_neutral = ranked(MIXED, Mood.parse("sad:0.4,neutral:0.6"))
    mostly_sad = ranked(MIXED, Mood.parse("sad:0.6,neutral:0.4"))
    assert len(mostly_neutral) == len(MIXED)
    assert set(titles(mostly_sad)) == set(titles(ranked(MIXED, Mood.of("sad"))))


# A story each aim admits, so that two of them differ only in age.
FITTING = {
    (Policy.MATCH, "angry"): (-0.6, ("anger",)),
    (Policy.MATCH, "disgust"): (-0.6, ("disgust",)),
    (Policy.MATCH, "fear"): (-0.5, ("fear",)),
    (Policy.MATCH, "sad"): (-0.6, ("sadness",)),
    (Policy.MATCH, "surprise"): (0.1, ("surprise",)),
}


@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_newer_beats_older_at_equal_fit(emotion: str, policy: Policy) -> None:
    valence, carries = FITTING.get((policy, emotion), (0.6, ("joy",)))
    pool = [
        scored("Older story about the harbour", valence=valence, carries=carries, age_h=10, source="A"),
        scored("Newer story about the museum", valence=valence, carries=carries, age_h=1, source="B"),
    ]
    assert titles(ranked(pool, Mood.of(emotion), policy)) == [
        "Newer story about the museum",
        "Older story about the harbour",
    ]


def test_one_source_cannot_fill_the_top_even_with_the_best_fitting_stories() -> None:
    prolific = [
        scored(f"Wonderful {topic} news", valence=0.9, carries=("joy",), source="Wire") for topic in TOPICS
    ]
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
        scored("Storm hits the coast, thousands without power", valence=-0.5, carries=("fear",), source="A"),
        scored(
            "Storm hits coast: thousands without power overnight", valence=-0.5, carries=("fear",), source="B"
        ),
        scored("Town fair raises money for the school", valence=0.5, source="C"),
    ]
    titles = [item.story.title for item in ranked(pool, Mood.of("neutral"))]
    assert len(titles) == 2
    assert "Town fair raises money for the school" in titles


def test_the_feed_moves_smoothly_as_the_mood_shifts_from_sad_to_happy() -> None:
    pool = [
        scored(f"The {topic} story", valence=v, carries=("sadness",) if v < 0 else ("joy",), source=topic)
        for topic, v in zip(TOPICS, [-0.9, -0.6, -0.3, 0.3, 0.6, 0.9], strict=False)
    ]
    mean_valences = []
    for happy in (0.0, 0.25, 0.5, 0.75, 1.0):
        top = ranked(pool, Mood.parse(f"sad:{1 - happy},happy:{happy}"), Policy.MATCH, limit=3)
        mean_valences.append(sum(item.affect.valence for item in top) / len(top))
    assert mean_valences == sorted(mean_valences)
    assert mean_valences[0] < 0 < mean_valences[-1]


@pytest.mark.parametrize(
    ("story", "mood", "policy", "reason"),
    [
        (OWL, "sad", Policy.UPLIFT, "calm, to lift a sad mood"),
        (PLAYGROUND, "sad", Policy.UPLIFT, "hopeful and calm, to lift a sad mood"),
        (PLAYGROUND, "angry", Policy.UPLIFT, "hopeful and calm, to cool an angry mood"),
        (STORM, "fear", Policy.MATCH, "tense, like your mood"),
        (FLOOD, "sad", Policy.MATCH, "tense and sad, like your mood"),
        (BUDGET, "neutral", Policy.UPLIFT, "neutral in tone, among the latest"),
        (FLOOD, "neutral", Policy.UPLIFT, "tense and sad, among the latest"),
    ],
)
def test_each_story_says_why_it_is_there(
    story: tuple[Story, Affect], mood: str, policy: Policy, reason: str
) -> None:
    assert ranked([story], Mood.of(mood), policy)[0].reason == reason


# A neutral viewer's uplift page is the latest news whatever its tone, so its reasons may well name a
# negative one (see FLOOD's reason above); the uplifting aims are every other emotion's.
@pytest.mark.parametrize("emotion", [emotion for emotion in EMOTIONS if emotion != "neutral"])
def test_an_uplift_reason_never_calls_a_story_negative(emotion: str) -> None:
    """The reason opens with the story's tone ("hopeful and calm, to lift a sad mood")."""
    page = ranked(MIXED, Mood.of(emotion), Policy.UPLIFT)
    assert page
    for item in page:
        tone = item.reason.partition(", ")[0]
        assert not set(tone.split()) & {"angry", "tense", "sad", "distasteful", "downbeat"}, item.reason


def test_scores_lie_between_zero_and_one_and_an_empty_pool_ranks_to_nothing() -> None:
    assert all(0 <= item.score <= 1 for item in ranked(MIXED, Mood.parse("fear:0.3,happy:0.7")))
    assert ranked([], Mood.of("sad")) == []


def test_every_policy_has_an_aim_for_every_emotion() -> None:
    for policy in Policy:
        assert set(AIMS[policy]) == set(EMOTIONS)


@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_the_bundled_samples_give_every_mood_a_full_page(
    scorer: AffectScorer, emotion: str, policy: Policy
) -> None:
    pool = StoryPool.build(load_samples(scorer, NOW), samples=True)
    page = rank(
        pool,
        Mood.of(emotion),
        policy,
        limit=8,
        now_s=NOW.timestamp(),
        half_life_s=HALF_LIFE_S,
        max_per_source=3,
    )
    assert len(page) == 8
    if policy is Policy.UPLIFT and emotion != "neutral":
        assert all(item.affect.valence > 0 for item in page)
    if policy is Policy.MATCH and emotion in ("fear", "sad"):
        carried = {"fear": "fear", "sad": "sadness"}[emotion]
        assert all(carried in item.affect.carries for item in page)


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
    assert all(v < 0 for v in top_valences(Policy.MATCH))
