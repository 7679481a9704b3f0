"""Shared fixtures: a tiny emotion model honouring the shipped model's contract, an app running on it, and a
loopback feed server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import MODEL_DIR
from service.main import create_app
from tests.news.feed_server import FeedServer
from tests.support import vision_settings, write_tiny_model

# Starlette's TestClient sends `Host: testserver`; the live servers are on 127.0.0.1. Set before any app
# is built, session fixtures included.
TEST_HOSTS = ("testserver", "127.0.0.1", "localhost")
os.environ["MOODFEED_ALLOWED_HOSTS"] = ",".join(TEST_HOSTS)
# The tests' feeds are served on loopback; tests/news/test_fetcher.py checks the refusal without this.
os.environ["MOODFEED_FEED_ALLOW_PRIVATE"] = "true"


@pytest.fixture(autouse=True)
def offline_feed_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every app a test builds off the network and out of the user's data folder.

    Tests that want feeds pass explicit settings (a loopback feed server); these are only the defaults.
    """
    monkeypatch.setenv("MOODFEED_FEED_REFRESH", "false")
    monkeypatch.setenv("MOODFEED_FEED_DB_PATH", str(tmp_path / "feeds.db"))


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A loopback HTTP server for the feeds a test serves with `feed_server.serve(path, reply)`."""
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the tiny model (its card `emotion.json` lies beside it)."""
    return write_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """Path of the shipped model, model/emotion.onnx (its card `emotion.json` lies beside it): what the
    service loads by default. It is tracked in git, so a checkout without it fails these tests."""
    path = MODEL_DIR / "emotion.onnx"
    assert path.is_file(), f"{path} is missing: it is tracked in git, so this checkout is incomplete"
    return path


@pytest.fixture(scope="session")
def vision_client(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app (lifespan run) whose vision engine uses the tiny model."""
    with TestClient(create_app(vision_settings(tiny_model, tmp_path_factory.mktemp("app")))) as client:
        yield client
