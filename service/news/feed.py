"""The news feed as the app sees it: open the store, keep a ranked-ready pool, refresh in the background.

`/feed` only ever reads the in-memory `StoryPool` snapshot, which the refresher replaces after new
stories land, so it never waits on the network or on SQLite (`/feeds/status` reads the store). Until any
configured feed has stories in the store, the pool holds the bundled samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from service.config import Settings
from service.news.affect import Affect, AffectScorer
from service.news.fetcher import Fetcher
from service.news.mood import Mood
from service.news.ranking import Policy, RankedStory, StoryPool, rank
from service.news.refresher import FetchListener, Refresher
from service.news.samples import load_samples
from service.news.sources import FeedSource, load_sources
from service.news.store import FeedState, RefreshLock, Store
from service.news.stories import Story

log = logging.getLogger(__name__)

STORE_POLL_S = 2.0  # how soon another process's fetch reaches this one's page
LEADER_RETRY_S = 30.0  # how soon a waiting process takes over fetching when the fetching one exits


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A ranked page of stories for one mood; `samples` says they are the bundled samples, not live news."""

    mood: Mood
    policy: Policy
    items: list[RankedStory]
    samples: bool
    unreachable: bool = False  # every feed failed and none was ever fetched: offline, most likely


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How the feed keeps its store, fetches and ranks (the `feed_*` settings)."""

    db_path: Path
    refresh: bool  # fetch in the background; False serves only what the store holds
    refresh_interval_s: float
    refresh_jitter: float
    timeout_s: float
    max_bytes: int
    allow_private: bool
    retention_s: float
    pool_size: int
    half_life_s: float
    max_per_source: int

    @classmethod
    def of(cls, settings: Settings) -> FeedOptions:
        return cls(
            db_path=settings.feed_db_path,
            refresh=settings.feed_refresh,
            refresh_interval_s=settings.feed_refresh_interval_s,
            refresh_jitter=settings.feed_refresh_jitter,
            timeout_s=settings.feed_timeout_s,
            max_bytes=settings.feed_max_bytes,
            allow_private=settings.feed_allow_private,
            retention_s=settings.feed_retention_s,
            pool_size=settings.feed_pool_size,
            half_life_s=settings.feed_half_life_s,
            max_per_source=settings.feed_max_per_source,
        )


class NewsFeed:
    """Owns the store, the pool and the refresher; `start` and `stop` bracket the app's life."""

    def __init__(self, sources: list[FeedSource], options: FeedOptions):
        self.sources = sources
        self.options = options
        self._store: Store | None = None
        self._refresher: Refresher | None = None
        self._scorer: AffectScorer | None = None
        self._affects: dict[str, Affect] = {}  # the current pool's scores by story id, reused on reload
        self._tasks: list[asyncio.Task[None]] = []
        self._refresh_lock = RefreshLock(options.db_path.with_name(options.db_path.name + ".lock"))
        self._samples = StoryPool.build([], samples=True)
        self._pool = self._samples
        # Feeds land, and reload, side by side: one at a time, so a slower rebuild that began earlier
        # cannot swap an older pool in over a newer one, and no story is scored twice.
        self._reload_lock = asyncio.Lock()
        self._fetch_listeners: list[FetchListener] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> NewsFeed:
        """Read the feed list now, so a bad `MOODFEED_FEEDS` fails at startup with its message."""
        return cls(load_sources(settings.feeds), FeedOptions.of(settings))

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
        """Open the store and serve what it holds (or the samples) at once; refresh in the background.

        Several processes may share one store (`uvicorn --workers`, replicas on one volume): one of them at
        a time fetches (whoever holds the store's refresh lock), and every one reloads when the file
        changes, so they all serve the same stories.
        """
        options = self.options
        self._store = await asyncio.to_thread(Store, options.db_path)
        self._scorer = scorer = await asyncio.to_thread(AffectScorer)
        self._samples = StoryPool.build(await asyncio.to_thread(load_samples, scorer), samples=True)
        # Read before loading, so a write landing between the two is seen as a change.
        store_version = await asyncio.to_thread(self._store.data_version)
        await self.reload()
        self._refresher = Refresher(
            self.sources,
            self._store,
            Fetcher(
                timeout_s=options.timeout_s,
                max_bytes=options.max_bytes,
                allow_private=options.allow_private,
            ),
            interval_s=options.refresh_interval_s,
            jitter=options.refresh_jitter,
            retention_s=options.retention_s,
            on_new_stories=self.reload,
            listeners=self._fetch_listeners,
        )
        self._tasks = [asyncio.create_task(self._follow_store(store_version), name="news-store-watch")]
        if options.refresh:
            self._tasks.append(asyncio.create_task(self._refresh_when_leader(), name="news-refresher"))

    async def _refresh_when_leader(self) -> None:
        """Run the refresher while this process holds the store's refresh lock; wait for it otherwise."""
        while True:
            try:
                if await asyncio.to_thread(self._refresh_lock.acquire):
                    break
            except OSError:  # the lock file cannot be opened (a full or read-only disk): try again later
                log.exception("could not take the feed refresh lock")
            await asyncio.sleep(LEADER_RETRY_S)
        await self.refresher.run_forever()

    async def _follow_store(self, seen: int) -> None:
        """Reload when another process has written to the store since version `seen`."""
        while True:
            await asyncio.sleep(STORE_POLL_S)
            try:
                version = await asyncio.to_thread(self.store.data_version)
                if version != seen:
                    seen = version
                    await self.reload()
            except Exception:  # e.g. a locked or damaged store: keep serving what we have, look again later
                log.exception("could not reload the feed store")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._refresh_lock.release()
        if self._refresher is not None:
            await self._refresher.fetcher.aclose()
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def refresher(self) -> Refresher:
        if self._refresher is None:
            raise RuntimeError("the news feed is not started")
        return self._refresher

    async def reload(self) -> None:
        """Rebuild the pool from the store (off the event loop) and swap it in."""
        async with self._reload_lock:
            stored = await asyncio.to_thread(
                self.store.load, (source.url for source in self.sources), self.options.pool_size
            )
            self._pool = await asyncio.to_thread(self._scored_pool, stored) if stored else self._samples

    def _scored_pool(self, stories: list[Story]) -> StoryPool:
        """The stories with their affect, scoring only those the last pool did not hold (CPU work)."""
        if self._scorer is None:
            raise RuntimeError("the news feed is not started")
        scorer, known = self._scorer, self._affects
        self._affects = {
            story.id: known.get(story.id) or scorer.score(story.title, story.summary) for story in stories
        }
        return StoryPool.build([(story, self._affects[story.id]) for story in stories])

    def page(self, mood: Mood, policy: Policy, limit: int) -> FeedPage:
        """The stories ranked for a mood, from the current pool."""
        pool = self._pool
        items = rank(
            pool,
            mood,
            policy,
            limit=limit,
            now_s=time.time(),
            half_life_s=self.options.half_life_s,
            max_per_source=self.options.max_per_source,
        )
        unreachable = self._refresher is not None and self._refresher.unreachable
        return FeedPage(mood, policy, items, pool.samples, unreachable)

    def status(self) -> list[tuple[FeedSource, FeedState]]:
        """Each configured feed with its fetch state and story count, in the configured order."""
        states = self.store.feed_states(source.url for source in self.sources)
        return [(source, states[source.url]) for source in self.sources]
