"""The news feed ranked for a mood, and the state of each feed behind it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query

from service.api.deps import NewsDep
from service.api.feed_schemas import FeedOut, FeedsStatusOut, FeedStatusOut
from service.news.mood import EMOTIONS, Mood, MoodError
from service.news.ranking import DEFAULT_POLICY, Policy, PolicyError

router = APIRouter(tags=["feed"])


@router.get("/feed", response_model=FeedOut)
def get_feed(
    news: NewsDep,
    emotion: str | None = Query(None, description=f"one of {', '.join(EMOTIONS)}"),
    scores: str | None = Query(
        None, description="instead of emotion: label:probability pairs, e.g. sad:0.7,neutral:0.3"
    ),
    policy: str = Query(DEFAULT_POLICY.value, description="uplift (help the mood) or match (mirror it)"),
    limit: int = Query(20, ge=1, le=100),
) -> FeedOut:
    """Stories ranked for the viewer's mood; with neither emotion nor scores, for a neutral mood."""
    try:
        if emotion is not None and scores is not None:
            raise MoodError("give emotion or scores, not both")
        mood = Mood.parse(scores) if scores is not None else Mood.of(emotion or "neutral")
        # An empty policy is one not given, as an empty emotion is.
        chosen_policy = Policy.parse(policy) if policy.strip() else DEFAULT_POLICY
    except (MoodError, PolicyError) as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return FeedOut.of(news.page(mood, chosen_policy, limit))


@router.get("/feeds/status", response_model=FeedsStatusOut)
def feeds_status(news: NewsDep) -> FeedsStatusOut:
    """Each configured feed: when it last succeeded, its last error, and how many stories it has stored."""
    return FeedsStatusOut(
        samples=news.pool.samples,
        feeds=[
            FeedStatusOut(
                url=source.url,
                name=source.name,
                title=state.title,
                story_count=state.story_count,
                last_attempt=_time(state.last_attempt_at),
                last_success=_time(state.last_success_at),
                last_outcome=state.last_outcome,
                last_error=state.last_error,
                consecutive_failures=state.consecutive_failures,
                next_attempt=_time(state.next_attempt_at or None),
            )
            for source, state in news.status()
        ],
    )


def _time(unix_s: float | None) -> datetime | None:
    return None if unix_s is None else datetime.fromtimestamp(unix_s, UTC)
