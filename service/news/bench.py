"""Measure the feed: `python -m service.news.bench [--stories N] [--headlines DIR]`.

Speed: stories made from the bundled samples' vocabulary (random headlines, 40 sources, ages over three
days), scored with the real affect scorer, so ranking sees realistic spreads of affect. Prints stories
scored per second, the cost of building the in-memory pool, and of ranking one page for a mood, which is
what every GET /feed pays.
Agreement with people: where SemEval-2007's trial set is (`../shared/data/headlines`), Pearson's r of
our valence and six emotions with its annotators' scores, beside VADER's valence. The lexicon was
trained on those 250 headlines too, so these figures are in-sample; the card's cross-validated ones
(`model/story_affect.json`) are the honest estimate, printed beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from model.headlines import DEFAULT_HEADLINES, agreement, load_trial
from model.timing import CallTimes, time_repeated
from service.config import Settings
from service.news.affect import LEXICON_PATH, Affect, AffectScorer
from service.news.mood import Mood
from service.news.ranking import Policy, StoryPool, rank
from service.news.samples import load_samples
from service.news.stories import Story, title_words

MOODS = {
    "sad, uplift": (Mood.of("sad"), Policy.UPLIFT),
    "angry, match": (Mood.of("angry"), Policy.MATCH),
    "mixed vector, uplift": (Mood.parse("angry:0.1,fear:0.1,happy:0.3,sad:0.4,neutral:0.1"), Policy.UPLIFT),
}


def synthetic_stories(count: int, seed: int = 7) -> list[Story]:
    """Headlines of 6 to 12 words drawn from the sample stories' vocabulary, from 40 sources."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    vocabulary = sorted({w for story, _ in load_samples(AffectScorer()) for w in title_words(story.summary)})
    stories = []
    for n in range(count):
        title = " ".join(rng.sample(vocabulary, rng.randint(6, 12))).capitalize()
        source = f"Source {n % 40}"
        stories.append(
            Story(
                id=f"bench-{n}",
                feed_url=f"https://bench.example/{n % 40}",
                source=source,
                title=title,
                link=f"https://bench.example/story/{n}",
                summary=title,
                published=now - timedelta(seconds=rng.uniform(0, 3 * 86400)),
            )
        )
    return stories


def described(times: CallTimes) -> str:
    """Wall median and 95th percentile, and the CPU median (which a busy machine does not inflate)."""
    return (
        f"median {times.median_ms:.2f} ms, p95 {times.percentile_ms(0.95):.2f} ms, "
        f"CPU median {times.cpu_median_ms:.2f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=20, help="stories per page")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument(
        "--headlines", type=Path, default=DEFAULT_HEADLINES, help="SemEval-2007 trial set's folder"
    )
    arguments = parser.parse_args(argv)

    scorer = AffectScorer()
    stories = synthetic_stories(arguments.stories)
    started = time.perf_counter()
    scored: list[tuple[Story, Affect]] = [(s, scorer.score(s.title, s.summary)) for s in stories]
    scoring_ms = (time.perf_counter() - started) * 1000
    pool_timing = described(time_repeated(lambda: StoryPool.build(scored), 5, warmup=0))
    pool = StoryPool.build(scored)
    print(
        f"{len(pool)} stories: affect scoring {scoring_ms / len(pool):.3f} ms per story, "
        f"{len(pool) / scoring_ms * 1000:,.0f} stories per second (title and summary, one thread)"
    )
    print(f"pool build: {pool_timing} (after each refresh that brings new stories)")
    now_s, settings = time.time(), Settings()
    for name, (mood, policy) in MOODS.items():

        def rank_page(mood: Mood = mood, policy: Policy = policy) -> object:
            return rank(
                pool,
                mood,
                policy,
                limit=arguments.limit,
                now_s=now_s,
                half_life_s=settings.feed_half_life_s,
                max_per_source=settings.feed_max_per_source,
            )

        print(
            f"rank {arguments.limit} for {name}: {described(time_repeated(rank_page, arguments.repeats, 0))}"
        )

    print_agreement(scorer, arguments.headlines)


def print_agreement(scorer: AffectScorer, folder: Path) -> None:
    """Our scores and VADER's against the trial set's annotators, with the card's cross-validated ones."""
    if not (folder / "affectivetext_trial.xml").is_file():
        print(f"agreement with people: skipped, no SemEval-2007 trial set in {folder}")
        return
    trial = load_trial(folder)
    ours = np.array([[a.valence, *a.emotions] for a in (scorer.score(text) for text in trial.texts)])
    vader = SentimentIntensityAnalyzer()
    vader_valence = np.array([vader.polarity_scores(text)["compound"] for text in trial.texts])
    in_sample = agreement(ours, trial.targets)
    card = json.loads(LEXICON_PATH.with_suffix(".json").read_text())["trial_cross_validated"]
    print(f"SemEval-2007 trial set, {len(trial.texts)} headlines: Pearson r (in-sample | cross-validated)")
    for name, value in in_sample.items():
        print(f"  {name:22s} {value:6.3f} | {card[name]:6.3f}")
    print(
        f"  VADER valence r {np.corrcoef(vader_valence, trial.targets[:, 0])[0, 1]:.3f}, "
        f"exactly neutral {np.mean(vader_valence == 0):.0%}"
    )


if __name__ == "__main__":
    main()
