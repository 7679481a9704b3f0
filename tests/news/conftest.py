"""Fixtures for the news tests: an affect scorer loaded once (the feed server is tests/conftest.py's)."""

from __future__ import annotations

import pytest

from service.news.affect import AffectScorer


@pytest.fixture(scope="session")
def scorer() -> AffectScorer:
    return AffectScorer()
