"""The SQLite store: stories and fetch state survive a reopen, duplicates are kept out, old stories pruned."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.news.fetched import FetchOutcome, FetchRecord, Validators
from service.news.store import FeedStoreError, Store
from service.news.stories import Story, link_key, story_id

FEED = "https://feed.example/rss"
NOW = datetime(2024, 6, 5, 12, 0, tzinfo=UTC)


def story(title: str, link: str, *, feed_url: str = FEED, guid: str | None = None, age_h: float = 1) -> Story:
    return Story(
        id=story_id(feed_url, guid, link),
        feed_url=feed_url,
        source="Feed",
        title=title,
        link=link,
        published=NOW - timedelta(hours=age_h),
        summary=f"About {title}.",
        categories=("World", "Local"),
        image="https://img.example/a.jpg",
    )


def ok(url: str = FEED, etag: str | None = '"v1"') -> FetchRecord:
    return FetchRecord(url, FetchOutcome.OK, Validators(etag, "Wed, 05 Jun 2024"))


def test_stories_and_validators_survive_closing_and_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "feeds.db"
    store = Store(path)
    first = story("Harbour reopens", "https://news.example/harbour")
    added = store.record_fetch(
        ok(),
        attempted_at=NOW.timestamp(),
        next_attempt_at=NOW.timestamp() + 900,
        title="Feed title",
        stories=[first],
    )
    store.close()

    reopened = Store(path)
    assert added == 1
    assert reopened.load([FEED], limit=10) == [first]
    state = reopened.feed_states([FEED])[FEED]
    assert state.validators == Validators('"v1"', "Wed, 05 Jun 2024")
    assert state.last_success_at == NOW.timestamp()
    assert state.title == "Feed title"
    assert state.story_count == 1


def test_the_same_story_by_guid_or_link_is_stored_once_per_feed_and_no_feed_claims_anothers(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "feeds.db")
    original = story("Harbour reopens", "https://news.example/harbour?utm_source=a", guid="g1")
    same_guid_new_link = story("Harbour reopens (updated)", "https://news.example/harbour-2", guid="g1")
    same_link_same_feed = story("Harbour reopens", "https://news.example/harbour/")
    same_link_other_feed = story(
        "Harbour reopens", "https://news.example/harbour/", feed_url="https://other/rss"
    )
    at = NOW.timestamp()

    def record(feed: str, item: Story) -> int:
        return store.record_fetch(ok(feed), attempted_at=at, next_attempt_at=at, stories=[item])

    assert record(FEED, original) == 1
    assert record(FEED, same_guid_new_link) == 0
    assert record(FEED, same_link_same_feed) == 0
    # Had the other feed claimed the link first, this feed's own story would have been refused.
    assert record("https://other/rss", same_link_other_feed) == 1
    assert sorted(s.feed_url for s in store.load([FEED, "https://other/rss"], limit=10)) == sorted(
        [FEED, "https://other/rss"]
    )


def test_a_failure_keeps_the_validators_and_last_success_and_counts_consecutive_failures(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "feeds.db")
    store.record_fetch(ok(), attempted_at=1000.0, next_attempt_at=1900.0)
    for attempt in (2000.0, 3000.0):
        store.record_fetch(
            FetchRecord(FEED, FetchOutcome.ERROR, error="HTTP 500"),
            attempted_at=attempt,
            next_attempt_at=attempt + 60,
        )
    state = store.feed_states([FEED])[FEED]
    assert (state.last_outcome, state.last_error, state.consecutive_failures) == ("error", "HTTP 500", 2)
    assert state.last_success_at == 1000.0
    assert state.last_attempt_at == 3000.0
    assert state.validators.etag == '"v1"'

    store.record_fetch(
        FetchRecord(FEED, FetchOutcome.NOT_MODIFIED, Validators('"v1"')),
        attempted_at=4000.0,
        next_attempt_at=4900.0,
    )
    state = store.feed_states([FEED])[FEED]
    assert (state.last_outcome, state.last_error, state.consecutive_failures) == ("not_modified", None, 0)
    assert state.last_success_at == 4000.0


def test_a_body_that_would_not_parse_is_recorded_as_an_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "feeds.db")
    unreadable = FetchRecord(FEED, FetchOutcome.ERROR, Validators('"bad"'), "not a readable feed")
    store.record_fetch(unreadable, attempted_at=1.0, next_attempt_at=61.0)
    state = store.feed_states([FEED])[FEED]
    assert (state.last_outcome, state.last_error, state.last_success_at) == (
        "error",
        "not a readable feed",
        None,
    )
    assert state.validators.etag is None  # so the next fetch asks for the whole body again


def test_a_feed_never_fetched_is_due_now_and_load_is_newest_first_within_the_limit(tmp_path: Path) -> None:
    store = Store(tmp_path / "feeds.db")
    assert store.feed_states(["https://new/rss"])["https://new/rss"].next_attempt_at == 0.0
    stories = [story(f"Story {age}", f"https://news.example/{age}", age_h=age) for age in (5, 1, 3)]
    store.record_fetch(ok(), attempted_at=1.0, next_attempt_at=2.0, stories=stories)
    assert [s.title for s in store.load([FEED], limit=2)] == ["Story 1", "Story 3"]
    assert store.load(["https://unrelated/rss"], limit=10) == []


def test_prune_deletes_only_stories_published_before_the_cutoff(tmp_path: Path) -> None:
    store = Store(tmp_path / "feeds.db")
    stories = [story(f"Story {age}", f"https://news.example/{age}", age_h=age) for age in (1, 30, 200)]
    store.record_fetch(ok(), attempted_at=1.0, next_attempt_at=2.0, stories=stories)
    assert store.prune((NOW - timedelta(hours=24)).timestamp()) == 2
    assert [s.title for s in store.load([FEED], limit=10)] == ["Story 1"]


def test_a_file_that_is_not_sqlite_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    path.write_bytes(b"this is not a database, just some text that happens to be long enough" * 20)
    with pytest.raises(FeedStoreError, match=f"cannot open the feed store {path}"):
        Store(path)


def test_a_store_from_an_earlier_version_keeps_its_stories_and_takes_new_ones(tmp_path: Path) -> None:
    """Earlier versions kept per-story affect columns (NOT NULL); opening such a file drops them, so new
    stories can be written and the old ones load, to be scored afresh by the current scorer."""
    path = tmp_path / "feeds.db"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE stories (
            id TEXT PRIMARY KEY, link_key TEXT NOT NULL UNIQUE, feed_url TEXT NOT NULL, source TEXT NOT NULL,
            title TEXT NOT NULL, link TEXT NOT NULL, published_at REAL NOT NULL, summary TEXT NOT NULL,
            categories TEXT NOT NULL, image TEXT,
            valence REAL NOT NULL, arousal REAL NOT NULL, novelty REAL NOT NULL);"""
    )
    kept = story("Harbour reopens", "https://news.example/harbour", age_h=2)
    old.execute(
        "INSERT INTO stories VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (kept.id, link_key(FEED, kept.link), FEED, kept.source, kept.title, kept.link,
         kept.published.timestamp(), kept.summary, json.dumps(kept.categories), kept.image, 0.5, 0.3, 0.0),
    )  # fmt: skip
    old.commit()
    old.close()

    store = Store(path)
    added = store.record_fetch(
        ok(),
        attempted_at=NOW.timestamp(),
        next_attempt_at=NOW.timestamp(),
        stories=[story("Fair opens", "https://news.example/fair")],
    )
    assert added == 1
    assert [s.title for s in store.load([FEED], limit=10)] == ["Fair opens", "Harbour reopens"]
