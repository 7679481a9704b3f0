"""The JSON shapes of the news feed's API (`GET /feed`, `GET /feeds/status`); the page reads these field
names, so keep them stable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.api.schemas import DECIMALS, EmotionOut
from service.news.affect import Affect
from service.news.feed import FeedPage


def rounded_affect(affect: Affect) -> dict[str, Any]:
    """A story's affect as the API and `moodfeed affect` give it: valence and each emotion, rounded."""
    return {
        "valence": round(affect.valence, DECIMALS),
        "emotions": {name: round(value, DECIMALS) for name, value in affect.as_dict().items()},
    }


class MoodOut(EmotionOut):
    policy: str


class StoryOut(BaseModel):
    id: str
    title: str
    link: str
    source: str
    published: datetime
    summary: str
    categories: list[str]
    image: str | None
    valence: float  # -1 (sad) to 1 (glad)
    emotions: dict[str, float]  # anger, disgust, fear, joy, sadness, surprise: each 0 (absent) to 1 (strong)
    score: float
    reason: str


class FeedOut(BaseModel):
    mood: MoodOut
    samples: bool  # true while the stories are the bundled samples, not live news
    feeds_unreachable: bool  # every configured feed failed and none was ever fetched (offline, most likely)
    items: list[StoryOut]

    @classmethod
    def of(cls, page: FeedPage) -> FeedOut:
        return cls(
            mood=MoodOut.of(page.mood, policy=page.policy.value),
            samples=page.samples,
            feeds_unreachable=page.unreachable,
            items=[
                StoryOut(
                    id=item.story.id,
                    title=item.story.title,
                    link=item.story.link,
                    source=item.story.source,
                    published=item.story.published,
                    summary=item.story.summary,
                    categories=list(item.story.categories),
                    image=item.story.image,
                    **rounded_affect(item.affect),
                    score=round(item.score, DECIMALS),
                    reason=item.reason,
                )
                for item in page.items
            ],
        )


class FeedStatusOut(BaseModel):
    url: str
    name: str | None
    title: str | None
    story_count: int
    last_attempt: datetime | None
    last_success: datetime | None
    last_outcome: str | None  # ok, not_modified or error
    last_error: str | None
    consecutive_failures: int
    next_attempt: datetime | None


class FeedsStatusOut(BaseModel):
    samples: bool
    feeds: list[FeedStatusOut]
