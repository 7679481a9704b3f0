"""Fixtures for the API tests: offline settings for a fully started app, and a real photo as JPEG."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from skimage import data

from service.config import Settings
from tests.news.feed_server import CLOSED_PORT_URL


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    """Settings for an app that starts fully (model, feed store) without touching the network."""
    return Settings(feeds=f"{CLOSED_PORT_URL}/rss", feed_db_path=tmp_path / "feeds.db", feed_refresh=False)


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    """skimage's astronaut (public domain, one face) as the JPEG bytes a browser would send."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()
