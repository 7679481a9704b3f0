"""Read a feed's bytes (RSS or Atom) into clean `Story` values with feedparser.

Every text field comes out as plain text and every URL as absolute http(s) (see `sanitise`); an entry
without a title or a usable link is skipped and counted. Feeds that feedparser flags as `bozo`
(malformed XML, a wrong encoding) are still used when it recovered entries from them.
"""

from __future__ import annotations

import calendar
import html
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from service.news.sanitise import plain_text, safe_http_url
from service.news.sources import FeedSource
from service.news.stories import Story, story_id

# Story text is capped where it enters: the affect scorer's time grows with the square of a text's length
# (an 84 KB title once held a core for 45 s), and no reader wants a title longer than this.
TITLE_MAX_CHARS = 300
SUMMARY_MAX_CHARS = 400
_MAX_CATEGORIES = 8
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.I)


class FeedParseError(ValueError):
    """The bytes are not a feed we could read any story from."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's stories, its own title, how many entries were unusable, and feedparser's complaint if any."""

    title: str | None
    stories: list[Story]
    skipped: int
    warning: str | None


def parse_feed(
    body: bytes,
    source: FeedSource,
    *,
    fetched_at: datetime,
    base_url: str | None = None,
    content_type: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes; `base_url` resolves relative links, `fetched_at` dates undated or future entries."""
    headers = {"content-location": base_url or source.url}
    if content_type:
        headers["content-type"] = content_type
    # Bytes, never a str: feedparser would treat a str as a URL or a file name and go and fetch it.
    parsed = feedparser.parse(bytes(body), response_headers=headers)
    warning = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}" if parsed.bozo else None
    if not parsed.entries:
        if parsed.bozo:
            raise FeedParseError(f"not a readable feed ({warning})")
        if not parsed.version:
            raise FeedParseError("not an RSS or Atom feed")
    feed_title = plain_text(parsed.feed.get("title")) or None
    source_name = source.name or feed_title or urlsplit(source.url).hostname or source.url
    stories = [
        story
        for entry in parsed.entries
        if (story := _story(entry, source.url, source_name, fetched_at)) is not None
    ]
    return ParsedFeed(feed_title, stories, len(parsed.entries) - len(stories), warning)


def _story(entry: Any, feed_url: str, source_name: str, fetched_at: datetime) -> Story | None:
    title = plain_text(entry.get("title"), TITLE_MAX_CHARS)
    link = safe_http_url(entry.get("link"))
    if not title or link is None:
        return None
    body_html = entry.get("summary") or _first_content(entry)
    return Story(
        id=story_id(feed_url, entry.get("id"), link),
        feed_url=feed_url,
        source=source_name,
        title=title,
        link=link,
        published=_published(entry, fetched_at),
        summary=plain_text(body_html, SUMMARY_MAX_CHARS),
        categories=_categories(entry),
        image=_image(entry, body_html),
    )


def _first_content(entry: Any) -> str:
    contents = entry.get("content") or []
    return str(contents[0].get("value", "")) if contents else ""


def _published(entry: Any, fetched_at: datetime) -> datetime:
    """The entry's time in UTC; an undated entry counts as fetched now, a future date is pulled to now."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed_time: time.struct_time | None = entry.get(key)
        if parsed_time:
            # feedparser normalises dates to UTC struct_time; timegm reads them as such.
            return min(datetime.fromtimestamp(calendar.timegm(parsed_time), UTC), fetched_at)
    return fetched_at


def _categories(entry: Any) -> tuple[str, ...]:
    terms = (plain_text(tag.get("term") or tag.get("label")) for tag in entry.get("tags") or [])
    return tuple(dict.fromkeys(term for term in terms if term))[:_MAX_CATEGORIES]


def _image(entry: Any, body_html: str) -> str | None:
    """The first image the entry offers: media thumbnail or content, an image enclosure, or an <img>."""
    candidates: list[str | None] = [thumb.get("url") for thumb in entry.get("media_thumbnail") or []]
    candidates += [
        media.get("url")
        for media in entry.get("media_content") or []
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
    ]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/")
    ]
    candidates += [html.unescape(src) for src in _IMG_SRC.findall(body_html or "")]
    return next((url for url in map(safe_http_url, candidates) if url), None)
