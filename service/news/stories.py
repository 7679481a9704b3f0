"""What a news story is once it has been read from a feed, and how stories are told apart."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only say where a click came from; the same story carries different ones per feed.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|cmpid|ocid|at_medium|at_campaign)$", re.I
)
_WORD = re.compile(r"[^\W_]+")
# fmt: off
_TITLE_STOPWORDS = frozenset((
    "a", "after", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "its", "new", "of", "on", "or", "over", "say", "says", "that", "the", "this", "to", "was", "were",
    "will", "with",
))
# fmt: on


@dataclass(frozen=True, slots=True)
class Story:
    """One item of a feed: plain text fields, an http(s) link, and a timezone-aware UTC publication time."""

    id: str
    feed_url: str
    source: str
    title: str
    link: str
    published: datetime
    summary: str
    categories: tuple[str, ...] = ()
    image: str | None = None


def normalised_link(link: str) -> str:
    """The link as a key: lower-case scheme and host, no fragment, no tracking parameters, no trailing /."""
    parts = urlsplit(link)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)])
    return urlunsplit(
        (parts.scheme.lower(), (parts.hostname or "") + _port(parts.port), parts.path.rstrip("/"), query, "")
    )


def _port(port: int | None) -> str:
    return f":{port}" if port else ""


def link_key(feed_url: str, link: str) -> str:
    """What makes a story one feed's own: its feed and normalised link. Another feed carrying the same
    link has its own copy (ranking removes the repeat), so no feed can claim another's stories first."""
    return f"{feed_url}\n{normalised_link(link)}"


def story_id(feed_url: str, guid: str | None, link: str) -> str:
    """A stable id: from the feed's GUID when it has one (links may change), else from the link key."""
    key = f"guid\n{feed_url}\n{guid}" if guid else f"link\n{link_key(feed_url, link)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def title_words(title: str) -> frozenset[str]:
    """The meaningful words of a title, for spotting the same story told by two sources."""
    return frozenset(w for w in _WORD.findall(title.lower()) if w not in _TITLE_STOPWORDS)


def near_duplicate(words_a: frozenset[str], words_b: frozenset[str], threshold: float = 0.6) -> bool:
    """Whether two titles share most of their words (Jaccard similarity at or above the threshold)."""
    if len(words_a) < 3 or len(words_b) < 3:
        return words_a == words_b and bool(words_a)
    shared = len(words_a & words_b)
    return shared / (len(words_a) + len(words_b) - shared) >= threshold
