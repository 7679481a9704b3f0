"""Reading feed bytes into clean stories: RSS and Atom, sloppy feeds, and hostile content."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.news.parse import TITLE_MAX_CHARS, FeedParseError, ParsedFeed, parse_feed
from service.news.sources import FeedSource
from tests.news.feed_server import FIXTURES

# When the feeds were fetched: the parser's "now", given to undated and future-dated stories.
FETCHED_AT = datetime(2024, 6, 5, 12, 0, tzinfo=UTC)


def parse(name: str, source: FeedSource | None = None) -> ParsedFeed:
    source = source or FeedSource(f"https://feeds.example.org/{name}")
    return parse_feed(
        (FIXTURES / name).read_bytes(),
        source,
        fetched_at=FETCHED_AT,
        base_url="https://news.example.org/feed.xml",
        content_type="application/rss+xml",
    )


def test_rss_items_become_stories_with_plain_text_absolute_links_utc_times_and_images() -> None:
    feed = parse("good.rss.xml")
    trees, bridge, museum, future = feed.stories
    assert feed.title == "Loopback Daily"
    assert trees.title == "Volunteers plant ten thousand trees in a joyful weekend of community work"
    assert trees.summary == "Families, schools and local businesses joined in."
    assert trees.source == "Loopback Daily"
    assert trees.categories == ("Environment", "Community")
    assert trees.image == "https://img.example.org/trees.jpg"
    assert trees.published == datetime(2024, 6, 4, 8, 0, tzinfo=UTC)
    assert bridge.link == "https://news.example.org/bridge-closed"  # resolved against the feed's address
    assert bridge.published == datetime(2024, 6, 4, 4, 30, tzinfo=UTC)  # +0200 converted to UTC
    assert bridge.image == "https://img.example.org/bridge.jpg"  # from an image enclosure
    assert museum.published == FETCHED_AT  # undated: counts as fetched now
    assert future.published == FETCHED_AT  # a date in the future would otherwise sit on top for ever
    assert feed.skipped == 1  # the entry without a title


def test_atom_entries_become_stories_with_html_titles_flattened_and_images_from_content() -> None:
    seeds, library = parse("good.atom.xml").stories
    assert seeds.title == "Scientists celebrate record harvest of rare seeds"
    assert seeds.summary == "The seed bank doubled its stock."
    assert seeds.image == "https://img.example.org/seeds.png?w=1&h=2"
    assert library.published == datetime(2024, 6, 3, 15, 0, tzinfo=UTC)  # published, not updated
    assert library.categories == ("Culture",)


def test_the_configured_name_is_the_source_shown_instead_of_the_feeds_own_title() -> None:
    feed = parse("good.atom.xml", FeedSource("https://feeds.example.org/a", "My Atom"))
    assert {story.source for story in feed.stories} == {"My Atom"}


def test_a_bozo_feed_that_still_has_entries_is_read_with_a_warning() -> None:
    feed = parse("bozo.rss.xml")
    assert [story.title for story in feed.stories] == [
        "Tom & Jerry reunion delights fans",
        "Second story survives the broken markup",
    ]
    assert feed.warning is not None


def test_bytes_that_are_not_a_feed_raise_a_parse_error() -> None:
    with pytest.raises(FeedParseError, match="not a readable feed"):
        parse("malformed.xml")


def test_an_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError):
        parse_feed(
            b"<!doctype html><html><body><p>Hello</p></body></html>",
            FeedSource("https://a.example"),
            fetched_at=FETCHED_AT,
        )


def test_hostile_markup_is_stripped_to_text_and_unsafe_links_are_dropped() -> None:
    feed = parse("xss.rss.xml")
    one, two = feed.stories
    assert feed.title == "Hostile Feed"
    assert one.title == "Breaking: markup in a title"
    assert one.summary == "Read this"
    assert two.title == "Framed title"
    assert two.summary == "An SVG payload."
    assert feed.skipped == 2  # the javascript: and data: links
    for story in feed.stories:
        text = " ".join([story.title, story.summary, story.source, *story.categories]).lower()
        assert "<" not in text and "alert" not in text and "javascript" not in text
        assert story.link.startswith("https://")
        assert story.image is None or story.image.startswith("https://")


def test_an_84_kb_title_is_capped_with_an_ellipsis_before_it_is_scored_or_stored() -> None:
    huge_title = " ".join(["tragedy"] * 10_500)  # 84,000 characters, as a hostile feed sent
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f"<title>{huge_title}</title><link>https://news.example/a</link>"
        "</item></channel></rss>"
    ).encode()

    (story,) = parse_feed(body, FeedSource("https://feed.example/rss"), fetched_at=FETCHED_AT).stories

    assert len(story.title) <= TITLE_MAX_CHARS + 1 and story.title.endswith("…")
