"""Which feeds to read: the bundled default list, or the user's own (URLs, an OPML export, or TOML).

`MOODFEED_FEEDS` takes comma-separated http(s) URLs, or a path to an `.opml`/`.xml` file (what feed
readers export) or a `.toml` file with `[[feed]]` tables of `url` and optional `name`.
"""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from service.news.sanitise import safe_http_url

DEFAULT_SOURCES = "sources.toml"


class FeedListError(ValueError):
    """The feed list cannot be used: a missing or malformed file, a non-http(s) URL, or no feeds at all."""


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed to fetch; `name` is shown as each story's source (the feed's own title when None)."""

    url: str
    name: str | None = None


def load_sources(spec: str = "") -> list[FeedSource]:
    """The feeds `spec` names: empty for the defaults, a file path, or comma-separated URLs."""
    spec = spec.strip()
    if not spec:
        text = resources.files("service.news").joinpath(DEFAULT_SOURCES).read_text("utf-8")
        return _unique(_from_toml(text, DEFAULT_SOURCES))
    if "://" in spec:
        return _unique([FeedSource(_checked_url(url)) for url in spec.split(",") if url.strip()])
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FeedListError(
            f"feed list file not found: {path} (give URLs, or a path to an OPML or TOML file)"
        )
    text = path.read_text("utf-8")
    if path.suffix.lower() == ".toml":
        return _unique(_from_toml(text, str(path)))
    if path.suffix.lower() in (".opml", ".xml"):
        return _unique(_from_opml(text, str(path)))
    raise FeedListError(f"feed list {path} must end in .opml, .xml or .toml")


def _from_toml(text: str, origin: str) -> list[FeedSource]:
    try:
        feeds: Any = tomllib.loads(text).get("feed", [])
    except tomllib.TOMLDecodeError as error:
        raise FeedListError(f"{origin} is not valid TOML: {error}") from error
    if not isinstance(feeds, list) or not all(isinstance(feed, dict) for feed in feeds):
        raise FeedListError(f"{origin}: expected [[feed]] tables with a url and an optional name")
    return [FeedSource(_checked_url(feed.get("url"), origin), _name(feed.get("name"))) for feed in feeds]


def _from_opml(text: str, origin: str) -> list[FeedSource]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise FeedListError(f"{origin} is not valid OPML: {error}") from error
    # Feed readers nest feeds in folder outlines; every outline with an xmlUrl is a feed.
    return [
        FeedSource(
            _checked_url(outline.get("xmlUrl"), origin), _name(outline.get("title") or outline.get("text"))
        )
        for outline in root.iter("outline")
        if outline.get("xmlUrl")
    ]


def _checked_url(url: object, origin: str | None = None) -> str:
    checked = safe_http_url(url) if isinstance(url, str) else None
    if checked is None:
        raise FeedListError(f"not an http(s) feed URL: {url!r}" + (f" in {origin}" if origin else ""))
    return checked


def _name(name: object) -> str | None:
    return name.strip() or None if isinstance(name, str) else None


def _unique(sources: list[FeedSource]) -> list[FeedSource]:
    if not sources:
        raise FeedListError("the feed list names no feeds")
    first_by_url: dict[str, FeedSource] = {}
    for source in sources:
        first_by_url.setdefault(source.url, source)
    return list(first_by_url.values())
