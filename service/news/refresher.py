"""Keep the store fresh in the background: fetch the feeds that are due, a few at a time, never on a request.

Each feed is scheduled on its own: after a success it is due again one interval later (with jitter, so
many feeds and many replicas do not fetch in step); after a failure it backs off exponentially.
Whoever wants to count fetch results (metrics, logs) registers a listener.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from service.news.fetched import FetchOutcome
from service.news.fetcher import Fetcher, FetchResult
from service.news.parse import FeedParseError, parse_feed
from service.news.sources import FeedSource
from service.news.store import FeedState, Store
from service.news.stories import Story

log = logging.getLogger(__name__)

FIRST_RETRY_S = 60.0
MAX_RETRY_S = 6 * 3600.0
MIN_SLEEP_S = 1.0
MAX_CONCURRENT_FETCHES = 8  # feeds fetched at once in a pass; the rest wait their turn

FetchListener = Callable[[str, FetchOutcome], None]


def retry_delay_s(consecutive_failures: int) -> float:
    """Exponential backoff after failures: 1 min, 2 min, 4 min, ... at most 6 h."""
    return min(FIRST_RETRY_S * 2 ** max(consecutive_failures - 1, 0), MAX_RETRY_S)


class Refresher:
    """Fetches due feeds, parses their stories, stores them, and tells the feed to reload."""

    def __init__(
        self,
        sources: Sequence[FeedSource],
        store: Store,
        fetcher: Fetcher,
        *,
        interval_s: float,
        jitter: float,
        retention_s: float,
        on_new_stories: Callable[[], Awaitable[None]],
        listeners: list[FetchListener] | None = None,
    ):
        self.sources = list(sources)
        self.store = store
        self.fetcher = fetcher
        self.interval_s = interval_s
        self.jitter = jitter
        self.retention_s = retention_s
        self.on_new_stories = on_new_stories
        self.listeners = listeners if listeners is not None else []
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_FETCHES)
        self.unreachable = False  # after a pass: no feed has ever been fetched and every one just failed
        self._pass_lock = asyncio.Lock()

    async def run_forever(self) -> None:
        """Refresh due feeds, sleep until the next one is due, repeat; cancel the task to stop."""
        while True:
            try:
                await self.refresh_due()
                delay_s = await self._seconds_until_next_due()
            except Exception:  # e.g. a full disk: keep serving what we have and try again later
                log.exception("feed refresh failed")
                delay_s = self.interval_s
            await asyncio.sleep(delay_s)

    async def refresh_due(self) -> None:
        """One pass: fetch every feed that is due, concurrently, then prune stories past retention."""
        async with self._pass_lock:
            now = time.time()
            states = await asyncio.to_thread(self.store.feed_states, (s.url for s in self.sources))
            due = [source for source in self.sources if states[source.url].next_attempt_at <= now]
            errors = await asyncio.gather(*(self._refresh(source, states[source.url]) for source in due))
            if await asyncio.to_thread(self.store.prune, time.time() - self.retention_s):
                await self.on_new_stories()
            failed = {source.url: error for source, error in zip(due, errors, strict=True) if error}
            if failed:
                await self._report_failures(failed)
            states = await asyncio.to_thread(self.store.feed_states, (s.url for s in self.sources))
            self.unreachable = all(
                state.last_success_at is None and state.last_outcome == FetchOutcome.ERROR.value
                for state in states.values()
            )

    async def _report_failures(self, failed: dict[str, str]) -> None:
        """One line for a pass's failures: each feed with its reason, and when they are tried again."""
        next_due_s = time.time() + await self._seconds_until_next_due()
        reasons = sorted(set(failed.values()))
        each = "; ".join(f"{url}: {error}" for url, error in sorted(failed.items()))
        log.warning(
            "%d of %d feeds could not be fetched (%s); next try at %s",
            len(failed),
            len(self.sources),
            each,
            datetime.fromtimestamp(next_due_s, UTC).strftime("%H:%M:%S UTC"),
            extra={"failed_feeds": sorted(failed), "reasons": reasons},
        )

    async def _refresh(self, source: FeedSource, state: FeedState) -> str | None:
        """Fetch, read and store one feed; its error, or None if it went well."""
        async with self._limit:
            result = await self.fetcher.fetch(source.url, state.validators)
        attempted_at = time.time()
        title: str | None = None
        stories: list[Story] = []
        unreadable: str | None = None  # why a fetched body would not parse
        if result.outcome is FetchOutcome.OK:
            title, stories, unreadable = await self._read_safely(source, result, attempted_at)
        outcome = FetchOutcome.ERROR if unreadable else result.outcome
        error = unreadable or result.error
        failures = state.consecutive_failures + 1 if outcome is FetchOutcome.ERROR else 0
        delay_s = retry_delay_s(failures) if failures else self.interval_s
        added = await asyncio.to_thread(
            self.store.record_fetch,
            result.record(unreadable),
            attempted_at=attempted_at,
            next_attempt_at=attempted_at + delay_s * random.uniform(1 - self.jitter, 1 + self.jitter),
            title=title,
            stories=stories,
        )
        _log_fetch(source, outcome, error, result.elapsed_s, added)
        for listener in self.listeners:
            listener(source.url, outcome)
        if added:  # each feed's stories reach the page as they land, not after the slowest feed
            await self.on_new_stories()
        return (error or "error") if outcome is FetchOutcome.ERROR else None

    async def _read_safely(
        self, source: FeedSource, result: FetchResult, fetched_at_s: float
    ) -> tuple[str | None, list[Story], str | None]:
        """The fetched feed's title and stories, or the reason it could not be read."""
        try:
            title, stories = await asyncio.to_thread(self._read, source, result, fetched_at_s)
        except FeedParseError as parse_error:
            return None, [], str(parse_error)
        except Exception as unexpected:  # a parser bug on one feed must not stop the others
            log.exception("feed could not be read", extra={"feed": source.url})
            return None, [], f"could not read the feed: {type(unexpected).__name__}"
        return title, stories, None

    def _read(
        self, source: FeedSource, result: FetchResult, fetched_at_s: float
    ) -> tuple[str | None, list[Story]]:
        """Parse a fetched body (CPU work, run in a worker thread); drops stories past retention."""
        parsed = parse_feed(
            result.body,
            source,
            fetched_at=datetime.fromtimestamp(fetched_at_s, UTC),
            base_url=result.final_url,
            content_type=result.content_type,
        )
        if parsed.skipped or parsed.warning:  # read all the same: say what was not quite right
            log.info(
                "feed %s: %d entries without a title or a usable link skipped%s",
                source.url,
                parsed.skipped,
                f"; the feed is malformed ({parsed.warning})" if parsed.warning else "",
                extra={"feed": source.url, "skipped_entries": parsed.skipped, "warning": parsed.warning},
            )
        cutoff_s = fetched_at_s - self.retention_s
        return parsed.title, [story for story in parsed.stories if story.published.timestamp() >= cutoff_s]

    async def _seconds_until_next_due(self) -> float:
        states = await asyncio.to_thread(self.store.feed_states, (s.url for s in self.sources))
        next_due = min(
            (state.next_attempt_at for state in states.values()), default=time.time() + self.interval_s
        )
        return min(max(next_due - time.time(), MIN_SLEEP_S), self.interval_s)


def _log_fetch(
    source: FeedSource, outcome: FetchOutcome, error: str | None, elapsed_s: float, added: int
) -> None:
    """One line per fetch: at info when it went well; failures at debug, since each pass sums them up in
    one warning."""
    failed = outcome is FetchOutcome.ERROR
    log.log(
        logging.DEBUG if failed else logging.INFO,
        "feed %s: %s",
        source.url,
        f"error: {error}" if failed else f"{added} new stories",
        extra={
            "feed": source.url,
            "outcome": outcome.value,
            "error": error,
            "elapsed_s": round(elapsed_s, 3),
            "new_stories": added,
        },
    )
