"""Plain text out of hostile markup, and only http(s) links."""

from __future__ import annotations

import pytest

from service.news.sanitise import plain_text, safe_http_url


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("<script>alert(1)</script>Safe", "Safe"),
        ("<style>body{display:none}</style>Visible", "Visible"),
        ('<img src=x onerror="alert(1)">Caption', "Caption"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;Escaped once", "Escaped once"),
        ("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Escaped twice", "Escaped twice"),
        ("Fish &amp; chips, 3 &lt; 4", "Fish & chips, 3 < 4"),
        ("  spread\n\tover   lines ", "spread over lines"),
        (None, ""),
    ],
)
def test_plain_text_keeps_the_words_and_drops_every_tag(markup: str | None, text: str) -> None:
    assert plain_text(markup) == text


def test_plain_text_shortens_at_a_word_boundary_with_an_ellipsis() -> None:
    assert plain_text("one two three four five", max_chars=12) == "one two…"


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a?b=c", "http://example.org", "HTTPS://EXAMPLE.ORG/x", " https://example.org/ "],
)
def test_safe_http_url_keeps_absolute_http_links(url: str) -> None:
    assert safe_http_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "/relative/path",
        "//example.org/protocol-relative",
        "http://",
        "http://example.org:99999/",
        "http://[::1/",
        'https://example.org/"onmouseover="alert(1)',
        "",
        None,
    ],
)
def test_safe_http_url_refuses_everything_else(url: str | None) -> None:
    assert safe_http_url(url) is None


def test_plain_text_drops_bidirectional_overrides_and_control_characters() -> None:
    spoofed = "Breaking\u202e moc.elpmaxe\u202c news\x07 from\u2066 here\u2069"
    assert plain_text(spoofed) == "Breaking moc.elpmaxe news from here"
