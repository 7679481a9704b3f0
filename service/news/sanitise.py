"""Turn hostile feed markup into plain text and keep only links a browser can follow safely.

Feed content is untrusted: feedparser passes `<script>` in RSS titles and `javascript:` links through as
they came. Everything we store is therefore plain text (no markup at all) and every URL is absolute
http(s); the page still escapes what it shows.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

_WHITESPACE = re.compile(r"\s+")
# Control characters and the bidirectional overrides and isolates: U+202E in a title would make the page
# show the rest of the line reversed ("moc.elpmaxe" for a spoofed source), and nothing readable needs them.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Markup escaped twice (`&amp;lt;script&amp;gt;`) needs a second pass to become visible tags to strip.
_MAX_UNESCAPE_PASSES = 3


def plain_text(markup: str | None, max_chars: int | None = None) -> str:
    """The readable text of an HTML fragment: tags, scripts and styles removed, entities decoded."""
    text = markup or ""
    for _ in range(_MAX_UNESCAPE_PASSES):
        stripped = html.unescape(nh3.clean(text, tags=set()))
        if stripped == text:
            break
        text = stripped
    text = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text)).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0].rstrip(" ,;:.-") + "…"
    return text


def safe_http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) address with a host, else None (javascript:, data:, relative)."""
    if not url:
        return None
    candidate = url.strip()
    if any(ord(char) < 0x20 or char in ' "<>\\`' for char in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        _ = parts.port  # reading it checks it: a port past 65535 raises ValueError
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate
