"""Several processes on one feed store: one fetches at a time, and every one serves what was fetched."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from service.config import Settings
from service.news import feed as feed_module
from service.news.feed import NewsFeed
from service.news.mood import Mood
from service.news.ranking import Policy
from service.news.store import RefreshLock
from tests.news.feed_server import CENTURY_S, FeedServer, Reply

WAIT_S = 60.0  # how long to wait for what should take well under a second: long, for a machine that stalls


def test_only_one_holder_of_the_refresh_lock_at_a_time_and_it_frees_on_release(tmp_path: Path) -> None:
    first, second = RefreshLock(tmp_path / "feeds.db.lock"), RefreshLock(tmp_path / "feeds.db.lock")

    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_a_second_process_serves_the_stories_the_first_one_fetched_without_fetching_itself(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "STORE_POLL_S", 0.1)
    reply = Reply.fixture("good.rss.xml")
    settings = Settings(
        feeds=feed_server.serve("/feed", reply),
        feed_db_path=tmp_path / "feeds.db",
        feed_refresh=True,
        feed_retention_s=CENTURY_S,
    )

    async def run() -> tuple[bool, bool]:
        fetching, serving = NewsFeed.from_settings(settings), NewsFeed.from_settings(settings)
        await fetching.start()
        await serving.start()  # its refresher waits: the first holds the lock
        try:
            deadline = time.monotonic() + WAIT_S  # the loop ends as soon as the stories are there
            while serving.page(Mood.of("sad"), Policy.UPLIFT, 10).samples:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            return fetching.page(Mood.of("sad"), Policy.UPLIFT, 10).samples, serving.page(
                Mood.of("sad"), Policy.UPLIFT, 10
            ).samples
        finally:
            await serving.stop()
            await fetching.stop()

    fetching_samples, serving_samples = asyncio.run(run())
    assert not fetching_samples and not serving_samples
    assert len(reply.headers_seen) == 1  # fetched once, by the lock's holder


def test_a_store_that_fails_to_answer_once_is_followed_again_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(feed_module, "STORE_POLL_S", 0.02)
    feed = NewsFeed.from_settings(Settings(feed_db_path=tmp_path / "feeds.db", feed_refresh=False))
    polls: list[str] = []

    async def run() -> None:
        await feed.start()
        real_version = feed.store.data_version

        def flaky_version() -> int:  # a locked or damaged database answers with an error, once
            polls.append("poll")
            if len(polls) == 1:
                raise OSError("database is locked")
            return real_version()

        monkeypatch.setattr(feed.store, "data_version", flaky_version)
        try:
            deadline = time.monotonic() + WAIT_S
            while len(polls) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        finally:
            await feed.stop()

    asyncio.run(run())
    assert len(polls) >= 3  # the watch lived on past the error, still polling
    assert "could not reload the feed store" in caplog.text
