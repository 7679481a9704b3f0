"""Stories and per-feed fetch state in SQLite, so a restart serves at once and fetches stay conditional.

One connection guarded by a lock: the refresher writes from worker threads while the status route
reads. Times are stored as Unix seconds (UTC).
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from service.news.fetched import FetchOutcome, FetchRecord, Validators
from service.news.stories import Story, link_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    last_attempt_at REAL,
    last_success_at REAL,
    last_outcome TEXT,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY,
    link_key TEXT NOT NULL UNIQUE,
    feed_url TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    published_at REAL NOT NULL,
    summary TEXT NOT NULL,
    categories TEXT NOT NULL,
    image TEXT
);
CREATE INDEX IF NOT EXISTS stories_by_feed_and_time ON stories (feed_url, published_at);
CREATE INDEX IF NOT EXISTS stories_by_time ON stories (published_at);
"""
_STORY_COLUMNS = "id, feed_url, source, title, link, published_at, summary, categories, image"
# Affect scores that earlier versions kept per story; scores are now computed as stories load, so a
# retrained scorer applies to stored stories too.
_LEGACY_COLUMNS = ("valence", "arousal", "novelty")
_PLACEHOLDERS = ",".join("?" * (1 + len(_STORY_COLUMNS.split(","))))  # link_key, then the story columns
# A fetch's outcome: a failed fetch keeps the validators of the last good one and counts one more failure.
_UPSERT_FEED = """INSERT INTO feeds (url, title, etag, last_modified, last_attempt_at, last_success_at,
       last_outcome, last_error, consecutive_failures, next_attempt_at)
   VALUES (:url, :title, :etag, :last_modified, :at, :success_at, :outcome, :error,
           :failures, :next_at)
   ON CONFLICT (url) DO UPDATE SET
       title = coalesce(:title, title),
       etag = CASE WHEN :failed THEN etag ELSE :etag END,
       last_modified = CASE WHEN :failed THEN last_modified ELSE :last_modified END,
       last_attempt_at = :at,
       last_success_at = coalesce(:success_at, last_success_at),
       last_outcome = :outcome,
       last_error = :error,
       consecutive_failures = CASE WHEN :failed THEN consecutive_failures + 1 ELSE 0 END,
       next_attempt_at = :next_at"""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What we know of one feed: its validators, how its last fetches went, and when to try it next."""

    url: str
    title: str | None = None
    validators: Validators = Validators()
    last_attempt_at: float | None = None
    last_success_at: float | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_attempt_at: float = 0.0
    story_count: int = 0


class FeedStoreError(RuntimeError):
    """The store's file cannot be created or opened (a read-only folder, a file that is not SQLite)."""


class RefreshLock:
    """An exclusive lock on a file beside the store: the process holding it is the one that fetches.

    The operating system releases it when its holder exits, however it exits, so another process can
    take over; `flock` works between processes and between two opens in one process alike.
    """

    def __init__(self, path: Path):
        self.path = path
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free; whether this process holds it now."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the lock
            self._handle = None


class Store:
    """The SQLite file behind the feed: open it once, share it, close it on shutdown."""

    def __init__(self, path: Path):
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row  # columns by name, not by position
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            self._drop_legacy_columns()
        except (OSError, sqlite3.Error) as error:
            raise FeedStoreError(
                f"cannot open the feed store {path} (MOODFEED_FEED_DB_PATH): {error}"
            ) from error

    def _drop_legacy_columns(self) -> None:
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(stories)")}
        for column in _LEGACY_COLUMNS:
            if column in columns:
                self._db.execute(f"ALTER TABLE stories DROP COLUMN {column}")

    def data_version(self) -> int:
        """A number that changes whenever another connection (another process) commits to the file."""
        with self._lock:
            (version,) = self._db.execute("PRAGMA data_version").fetchone()
        return int(version)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def feed_states(self, urls: Iterable[str]) -> dict[str, FeedState]:
        """Each URL's state; a feed never fetched gets a fresh state, due now."""
        urls = list(urls)
        with self._lock:
            counts = dict(
                self._db.execute("SELECT feed_url, count(*) FROM stories GROUP BY feed_url").fetchall()
            )
            rows: dict[str, sqlite3.Row] = {
                row["url"]: row for row in self._db.execute("SELECT * FROM feeds")
            }
        states = {}
        for url in urls:
            row = rows.get(url)
            if row is None:
                states[url] = FeedState(url, story_count=counts.get(url, 0))
                continue
            states[url] = FeedState(
                url,
                title=row["title"],
                validators=Validators(row["etag"], row["last_modified"]),
                last_attempt_at=row["last_attempt_at"],
                last_success_at=row["last_success_at"],
                last_outcome=row["last_outcome"],
                last_error=row["last_error"],
                consecutive_failures=row["consecutive_failures"],
                next_attempt_at=row["next_attempt_at"],
                story_count=counts.get(url, 0),
            )
        return states

    def record_fetch(
        self,
        fetch: FetchRecord,
        *,
        attempted_at: float,
        next_attempt_at: float,
        title: str | None = None,
        stories: Sequence[Story] = (),
    ) -> int:
        """Save a fetch's outcome and its new stories in one transaction; returns how many stories were new.

        A story this feed already stored under the same id or link is kept as it was.
        """
        failed = fetch.outcome is FetchOutcome.ERROR
        with self._lock, self._db:
            self._db.execute("BEGIN")
            before = self._db.total_changes
            self._db.executemany(
                f"INSERT OR IGNORE INTO stories (link_key, {_STORY_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                [(link_key(story.feed_url, story.link), *_story_row(story)) for story in stories],
            )
            added = self._db.total_changes - before
            self._db.execute(
                _UPSERT_FEED,
                {
                    "url": fetch.url,
                    "title": title,
                    "etag": None if failed else fetch.validators.etag,
                    "last_modified": None if failed else fetch.validators.last_modified,
                    "at": attempted_at,
                    "success_at": None if failed else attempted_at,
                    "outcome": fetch.outcome.value,
                    "error": fetch.error,
                    "failures": int(failed),
                    "next_at": next_attempt_at,
                    "failed": failed,
                },
            )
        return added

    def load(self, feed_urls: Iterable[str], limit: int) -> list[Story]:
        """The newest `limit` stories of these feeds, newest first."""
        urls = list(feed_urls)
        placeholders = ",".join("?" * len(urls))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_STORY_COLUMNS} FROM stories WHERE feed_url IN ({placeholders})"
                " ORDER BY published_at DESC LIMIT ?",
                [*urls, limit],
            ).fetchall()
        return [_from_row(row) for row in rows]

    def prune(self, older_than_s: float) -> int:
        """Delete stories published before the cutoff; returns how many went."""
        with self._lock, self._db:
            return self._db.execute("DELETE FROM stories WHERE published_at < ?", (older_than_s,)).rowcount


def _story_row(story: Story) -> tuple[object, ...]:
    return (
        story.id,
        story.feed_url,
        story.source,
        story.title,
        story.link,
        story.published.timestamp(),
        story.summary,
        json.dumps(story.categories),
        story.image,
    )


def _from_row(row: sqlite3.Row) -> Story:
    return Story(
        id=row["id"],
        feed_url=row["feed_url"],
        source=row["source"],
        title=row["title"],
        link=row["link"],
        published=datetime.fromtimestamp(row["published_at"], UTC),
        summary=row["summary"],
        categories=tuple(json.loads(row["categories"])),
        image=row["image"],
    )
