"""GET /healthz (alive) and GET /readyz (model loaded, feed store open)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

UNREACHABLE_FEED = "http://127.0.0.1:9/rss"  # refused at once, like being offline


def offline_settings(tmp_path: Path) -> Settings:
    return Settings(feeds=UNREACHABLE_FEED, feed_db_path=tmp_path / "feeds.db", feed_refresh=False)


def test_healthz_answers_as_soon_as_the_process_is_up(tmp_path: Path) -> None:
    response = TestClient(create_app(offline_settings(tmp_path))).get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_503_and_names_the_failed_check_before_startup(tmp_path: Path) -> None:
    # Without entering the client, the app's startup (model, feed store) has not run.
    response = TestClient(create_app(offline_settings(tmp_path))).get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["feed_store"] is False


def test_readyz_is_200_once_startup_has_opened_everything(tmp_path: Path) -> None:
    with TestClient(create_app(offline_settings(tmp_path))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert all(response.json()["checks"].values())
