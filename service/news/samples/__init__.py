"""Bundled sample feeds: invented stories of varied tone, shown until a configured feed has been fetched.

They make a first run on a machine with no internet show a working feed. Their sources are named
"Sample: ...", their links point at example.com, and the API marks a page of them with `samples: true`.
The stories' dates are moved so that the newest is a few minutes old, keeping their spacing, so that
recency behaves as it would on live news.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

from service.news.affect import Affect, AffectScorer
from service.news.parse import parse_feed
from service.news.sources import FeedSource
from service.news.stories import Story

_NEWEST_AGE = timedelta(minutes=5)
_DATED_ANYWAY = datetime(2100, 1, 1, tzinfo=UTC)  # every sample story has a date; this one is never used


def load_samples(scorer: AffectScorer, now: datetime | None = None) -> list[tuple[Story, Affect]]:
    """Every bundled sample story, scored, newest first."""
    now = now or datetime.now(UTC)
    stories = _parsed_samples()
    shift = timedelta(seconds=(now - _NEWEST_AGE - stories[0].published) // timedelta(seconds=1))
    return [
        (moved, scorer.score(moved.title, moved.summary))
        for moved in (replace(story, published=story.published + shift) for story in stories)
    ]


@cache
def _parsed_samples() -> tuple[Story, ...]:
    """The sample files parsed once per process (every app start and many tests use them), newest first."""
    stories: list[Story] = []
    for sample in sorted(resources.files(__name__).iterdir(), key=lambda path: path.name):
        if sample.name.endswith(".xml"):
            url = f"https://example.com/moodfeed-sample/{sample.name}"
            stories += parse_feed(sample.read_bytes(), FeedSource(url), fetched_at=_DATED_ANYWAY).stories
    return tuple(sorted(stories, key=lambda story: story.published, reverse=True))
