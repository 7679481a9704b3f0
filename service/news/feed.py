"""The news feed as the app sees it: open the store, keep a ranked-ready pool, refresh in the background.

Requests only ever read the in-memory `StoryPool` snapshot, which the refresher replaces after new
stories land; no request waits on the network or on SQLite. Until any configured feed has stories in
the store, the pool holds the bundled samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from service.config import Settings
from service.news.affect import AffectScorer
from service.news.fetcher import Fetcher
from service.news.mood import Mood
from service.news.ranking import Policy, RankedStory, StoryPool, rank
from service.news.refresher import FetchListener, Refresher
from service.news.samples import load_samples
from service.news.sources import FeedSource, load_sources
from service.news.store import FeedState, Store


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A ranked page of stories for one mood; `samples` says they are the bundled samples, not live news."""

    mood: Mood
    policy: Policy
    items: list[RankedStory]
    samples: bool


class NewsFeed:
    """Owns the store, the pool and the refresher; `start` and `stop` bracket the app's life."""

    def __init__(self, sources: list[FeedSource], settings: Settings):
        self.sources = sources
        self.settings = settings
        self._store: Store | None = None
        self._refresher: Refresher | None = None
        self._task: asyncio.Task[None] | None = None
        self._samples = StoryPool.build([], samples=True)
        self._pool = self._samples
        self._fetch_listeners: list[FetchListener] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> NewsFeed:
        """Read the feed list now, so a bad `MOODFEED_FEEDS` fails at startup with its message."""
        return cls(load_sources(settings.feeds), settings)

    @property
    def started(self) -> bool:
        """Whether the store is open: from `start` until `stop`."""
        return self._store is not None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the news feed is not started")
        return self._store

    @property
    def pool(self) -> StoryPool:
        return self._pool

    def on_fetch(self, listener: FetchListener) -> None:
        """Call `listener(feed_url, outcome)` after every fetch; e.g. to count results for metrics."""
        self._fetch_listeners.append(listener)

    async def start(self) -> None:
        """Open the store and serve what it holds (or the samples) at once; refresh in the background."""
        settings = self.settings
        self._store = await asyncio.to_thread(Store, settings.feed_db_path)
        scorer = await asyncio.to_thread(AffectScorer)
        self._samples = StoryPool.build(await asyncio.to_thread(load_samples, scorer), samples=True)
        await self.reload()
        self._refresher = Refresher(
            self.sources,
            self._store,
            Fetcher(timeout_s=settings.feed_timeout_s, max_bytes=settings.feed_max_bytes),
            scorer,
            interval_s=settings.feed_refresh_interval_s,
            jitter=settings.feed_refresh_jitter,
            retention_s=settings.feed_retention_s,
            on_new_stories=self.reload,
            listeners=self._fetch_listeners,
        )
        if settings.feed_refresh:
            self._task = asyncio.create_task(self._refresher.run_forever(), name="news-refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._refresher is not None:
            await self._refresher.fetcher.aclose()
        if self._store is not None:
            self._store.close()
            self._store = None

    async def refresh(self) -> None:
        """Fetch the feeds that are due now (what the background task does on its schedule)."""
        if self._refresher is None:
            raise RuntimeError("the news feed is not started")
        await self._refresher.refresh_due()

    async def reload(self) -> None:
        """Rebuild the pool from the store (off the event loop) and swap it in."""
        stored = await asyncio.to_thread(
            self.store.load, (source.url for source in self.sources), self.settings.feed_pool_size
        )
        self._pool = await asyncio.to_thread(StoryPool.build, stored) if stored else self._samples

    def page(self, mood: Mood, policy: Policy, limit: int) -> FeedPage:
        """The stories ranked for a mood, from the current pool."""
        pool = self._pool
        items = rank(
            pool,
            mood,
            policy,
            limit=limit,
            now_s=time.time(),
            half_life_s=self.settings.feed_half_life_s,
            max_per_source=self.settings.feed_max_per_source,
        )
        return FeedPage(mood, policy, items, pool.samples)

    def status(self) -> list[tuple[FeedSource, FeedState]]:
        """Each configured feed with its fetch state and story count, in the configured order."""
        states = self.store.feed_states(source.url for source in self.sources)
        return [(source, states[source.url]) for source in self.sources]
