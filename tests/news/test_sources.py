"""Which feeds to read: the defaults, comma-separated URLs, OPML exports and TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.news.sources import FeedListError, FeedSource, load_sources


def test_the_default_list_mixes_general_news_with_constructive_sources_all_over_https() -> None:
    sources = load_sources()
    names = {source.name for source in sources}
    assert len(sources) >= 6
    assert all(source.url.startswith("https://") and source.name for source in sources)
    assert {"Positive News", "Good News Network"} <= names
    assert "BBC News – World" in names


def test_comma_separated_urls_are_read_in_order_without_repeats() -> None:
    assert load_sources(" https://a.example/rss , http://b.example/atom.xml,https://a.example/rss,") == [
        FeedSource("https://a.example/rss"),
        FeedSource("http://b.example/atom.xml"),
    ]


def test_an_opml_export_with_folders_gives_every_feed_outline(tmp_path: Path) -> None:
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        """<?xml version="1.0"?>
        <opml version="2.0"><head><title>My feeds</title></head><body>
          <outline text="News" title="News">
            <outline type="rss" text="Daily" title="The Daily" xmlUrl="https://daily.example/rss" />
            <outline type="rss" text="Only text" xmlUrl="https://text.example/feed" />
          </outline>
          <outline type="rss" xmlUrl="https://bare.example/atom" />
          <outline text="A folder without feeds" />
        </body></opml>""",
        encoding="utf-8",
    )
    assert load_sources(str(opml)) == [
        FeedSource("https://daily.example/rss", "The Daily"),
        FeedSource("https://text.example/feed", "Only text"),
        FeedSource("https://bare.example/atom"),
    ]


def test_a_toml_file_lists_feeds_with_optional_names(tmp_path: Path) -> None:
    toml = tmp_path / "feeds.toml"
    toml.write_text(
        '[[feed]]\nurl = "https://a.example/rss"\nname = "A"\n\n[[feed]]\nurl = "https://b.example/rss"\n'
    )
    assert load_sources(str(toml)) == [
        FeedSource("https://a.example/rss", "A"),
        FeedSource("https://b.example/rss"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("https://ok.example/rss,javascript:alert(1)//x", r"not an http\(s\) feed URL"),
        ("ftp://files.example/feed.xml", r"not an http\(s\) feed URL"),
        ("/no/such/feeds.opml", "feed list file not found"),
    ],
)
def test_an_unusable_feed_list_is_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(FeedListError, match=message):
        load_sources(spec)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.toml", "[[feed]\nurl =", "is not valid TOML"),
        ("empty.toml", "# nothing here\n", "names no feeds"),
        ("wrong.toml", 'feed = "https://a.example/rss"', r"expected \[\[feed\]\] tables"),
        ("broken.opml", "<opml><body><outline xmlUrl=", "is not valid OPML"),
        ("feeds.txt", "https://a.example/rss", "must end in .opml, .xml or .toml"),
    ],
)
def test_a_malformed_feed_list_file_is_refused_with_a_clear_message(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FeedListError, match=message):
        load_sources(str(path))


def test_moodfeed_serve_refuses_an_unusable_feed_list_with_its_message_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODFEED_FEEDS", "ftp://files.example/feed.xml")
    assert main(["serve", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "moodfeed: MOODFEED_FEEDS: not an http(s) feed URL: 'ftp://files.example/feed.xml'\n"
    )


def test_a_bad_url_in_a_file_names_the_file(tmp_path: Path) -> None:
    toml = tmp_path / "feeds.toml"
    toml.write_text('[[feed]]\nurl = "javascript:alert(1)"\n')
    with pytest.raises(FeedListError, match=rf"not an http\(s\) feed URL: 'javascript:alert\(1\)' in {toml}"):
        load_sources(str(toml))
