"""Fixtures for the news tests: a loopback feed server and an affect scorer loaded once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.news.affect import AffectScorer
from tests.news.feed_server import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def scorer() -> AffectScorer:
    return AffectScorer()
