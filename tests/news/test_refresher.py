"""Background refresh from a real loopback server: bad feeds fail alone, good ones land, 304s, backoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.news.fetched import FetchOutcome
from service.news.fetcher import Fetcher
from service.news.refresher import MAX_RETRY_S, Refresher, retry_delay_s
from service.news.sources import FeedSource
from service.news.store import FeedState, Store
from tests.news.feed_server import CENTURY_S, CLOSED_PORT_URL, FeedServer, Reply

TIMEOUT_S = 2.0  # roomy, so that only the deliberately slow feed runs out of time on a busy machine


@dataclass
class Harness:
    """A refresher over a real store and fetcher, recording what it reports."""

    store: Store
    refresher: Refresher
    outcomes: list[tuple[str, FetchOutcome]] = field(default_factory=list)
    reloads: int = 0

    def refresh(self) -> None:
        async def run() -> None:
            try:
                await self.refresher.refresh_due()
            finally:
                await self.refresher.fetcher.aclose()

        asyncio.run(run())

    def state(self, url: str) -> FeedState:
        return self.store.feed_states([url])[url]


@pytest.fixture
def harness_for(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    stores: list[Store] = []

    def build(urls: list[str], *, interval_s: float = 900.0, retention_s: float = CENTURY_S) -> Harness:
        store = Store(tmp_path / "feeds.db")
        stores.append(store)
        harness = Harness(store, None)  # type: ignore[arg-type]

        async def reloaded() -> None:
            harness.reloads += 1

        harness.refresher = Refresher(
            [FeedSource(url) for url in urls],
            store,
            Fetcher(timeout_s=TIMEOUT_S, max_bytes=20_000, allow_private=True),
            interval_s=interval_s,
            jitter=0.0,
            retention_s=retention_s,
            on_new_stories=reloaded,
            listeners=[lambda url, outcome: harness.outcomes.append((url, outcome))],
        )
        return harness

    yield build
    for store in stores:
        store.close()


def test_one_pass_stores_the_good_feeds_and_records_each_bad_one_without_blocking_the_rest(
    feed_server: FeedServer, harness_for: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    good = {
        "rss": feed_server.serve("/good.rss", Reply.fixture("good.rss.xml")),
        "atom": feed_server.serve("/good.atom", Reply.fixture("good.atom.xml")),
        "bozo": feed_server.serve("/bozo", Reply.fixture("bozo.rss.xml")),
    }
    bad = {
        feed_server.serve("/malformed", Reply.fixture("malformed.xml")): "not a readable feed",
        feed_server.serve("/error", Reply(b"oops", status=500)): "HTTP 500",
        feed_server.serve("/slow", Reply.fixture("good.rss.xml", delay_s=10.0)): "timed out after 2 s",
        feed_server.serve("/huge", Reply(b"<rss>" + b" " * 30_000)): "body larger than 20000 bytes",
        f"{CLOSED_PORT_URL}/closed": "ConnectError",
    }
    harness = harness_for([*good.values(), *bad])
    harness.refresh()

    assert {name: harness.state(url).story_count for name, url in good.items()} == {
        "rss": 4,
        "atom": 2,
        "bozo": 2,
    }
    for url in good.values():
        assert harness.state(url).last_outcome == "ok"
    for url, message in bad.items():
        state = harness.state(url)
        assert state.last_outcome == "error"
        assert state.last_error is not None and state.last_error.startswith(message)
        assert state.last_success_at is None
    assert sorted(outcome for _, outcome in harness.outcomes) == sorted(
        [FetchOutcome.OK] * 3 + [FetchOutcome.ERROR] * 5
    )
    assert harness.reloads == 3  # once per feed with new stories, as each lands
    (summary,) = [record for record in caplog.records if "could not be fetched" in record.getMessage()]
    assert summary.getMessage().startswith("5 of 8 feeds could not be fetched")
    assert summary.failed_feeds == sorted(bad)  # type: ignore[attr-defined]
    for url in bad:  # each feed beside its own reason, in full
        assert f"{url}: {harness.state(url).last_error}" in summary.getMessage()
        assert harness.state(url).last_error in summary.reasons  # type: ignore[attr-defined]


def test_a_second_pass_is_a_conditional_get_answered_304_that_keeps_the_stories(
    feed_server: FeedServer, harness_for: Callable[..., Harness]
) -> None:
    reply = Reply.fixture("good.rss.xml", etag='"v1"')
    url = feed_server.serve("/feed", reply)
    first = harness_for([url], interval_s=0.0)
    first.refresh()
    second = harness_for([url], interval_s=0.0)
    second.refresh()

    assert reply.headers_seen[1]["If-None-Match"] == '"v1"'
    assert second.outcomes == [(url, FetchOutcome.NOT_MODIFIED)]
    assert second.state(url).story_count == 4
    assert second.state(url).last_outcome == "not_modified"
    assert second.reloads == 0  # nothing new, so the pool is not rebuilt


def test_a_failing_feed_backs_off_and_is_not_fetched_again_until_it_is_due(
    feed_server: FeedServer, harness_for: Callable[..., Harness]
) -> None:
    reply = Reply(b"oops", status=503)
    url = feed_server.serve("/down", reply)
    before = time.time()
    harness = harness_for([url], interval_s=0.0)
    harness.refresh()
    state = harness.state(url)
    assert state.consecutive_failures == 1
    assert state.last_attempt_at is not None
    assert state.next_attempt_at - state.last_attempt_at == pytest.approx(retry_delay_s(1))
    assert state.last_attempt_at >= before

    harness_for([url], interval_s=0.0).refresh()
    assert len(reply.headers_seen) == 1  # still backing off: not asked again


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    assert [retry_delay_s(n) for n in range(1, 5)] == [60.0, 120.0, 240.0, 480.0]
    assert retry_delay_s(30) == MAX_RETRY_S == 6 * 3600.0


def test_stories_older_than_retention_are_not_stored(
    feed_server: FeedServer, harness_for: Callable[..., Harness]
) -> None:
    url = feed_server.serve("/feed", Reply.fixture("good.rss.xml"))
    harness = harness_for([url], retention_s=86400.0)
    harness.refresh()
    # Only the two undated / future-dated entries count as published now; the 2024 ones are past retention.
    assert harness.state(url).story_count == 2


def test_the_background_loop_survives_a_pass_that_fails_and_says_so(
    feed_server: FeedServer, harness_for: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    harness = harness_for([feed_server.serve("/feed", Reply.fixture("good.rss.xml"))])
    harness.store.close()  # every pass now fails inside SQLite, as it would on a broken disk

    async def run() -> bool:
        task = asyncio.create_task(harness.refresher.run_forever())
        for _ in range(200):  # wait for the first pass to fail, then check the loop is still going
            await asyncio.sleep(0.05)
            if "feed refresh failed" in caplog.messages:
                break
        alive = not task.done()
        task.cancel()
        await harness.refresher.fetcher.aclose()
        return alive

    assert asyncio.run(run())
    assert "feed refresh failed" in caplog.messages
