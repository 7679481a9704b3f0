"""GET /healthz (alive) and GET /readyz (model loaded, feed store open)."""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.news.store import FeedStoreError
from tests.support import write_overflowing_int8_model


def test_healthz_answers_as_soon_as_the_process_is_up(offline_settings: Settings) -> None:
    response = TestClient(create_app(offline_settings)).get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_503_and_names_the_failed_check_before_startup(offline_settings: Settings) -> None:
    # Without entering the client, the app's startup (model, feed store) has not run.
    response = TestClient(create_app(offline_settings)).get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"] == {"model": False, "feed_store": False}


def test_readyz_is_200_once_startup_has_opened_everything(offline_settings: Settings) -> None:
    with TestClient(create_app(offline_settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert all(response.json()["checks"].values())


def test_readyz_stays_503_with_the_reason_when_the_model_cannot_load(
    offline_settings: Settings, tmp_path: Path
) -> None:
    settings = offline_settings.model_copy(update={"model_path": tmp_path / "missing.onnx"})
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"model": False, "feed_store": True}
    assert "missing.onnx" in ready.json()["detail"]
    assert alive.status_code == 200


def test_readyz_and_metrics_say_the_optimised_session_serves_a_model_whose_kernels_agree(
    offline_settings: Settings,
) -> None:
    with TestClient(create_app(offline_settings)) as client:
        inference = client.get("/readyz").json()["inference"]
        metrics = client.get("/metrics").text
    assert inference["path"] == "optimised" and inference["cpu"].startswith(platform.machine())
    assert inference["argmax_agreement"] >= 0.95
    assert 'moodfeed_inference_path{path="optimised"} 1.0' in metrics
    assert 'moodfeed_inference_path{path="reference"} 0.0' in metrics


def test_readyz_and_metrics_say_the_reference_serves_a_model_whose_fused_kernels_are_wrong(
    offline_settings: Settings, tmp_path: Path
) -> None:
    model_path = write_overflowing_int8_model(tmp_path)
    settings = offline_settings.model_copy(
        update={"model_path": model_path, "model_card_path": model_path.with_name("emotion.json")}
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        metrics = client.get("/metrics").text
    assert ready.status_code == 200
    assert ready.json()["inference"]["path"] == "reference"
    assert ready.json()["inference"]["max_probability_difference"] > 0.02
    assert 0 <= ready.json()["inference"]["argmax_agreement"] <= 1
    assert 'moodfeed_inference_path{path="reference"} 1.0' in metrics


def test_a_feed_store_that_cannot_be_opened_stops_startup_saying_why_in_one_line(
    offline_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    settings = offline_settings.model_copy(update={"feed_db_path": not_a_folder / "feeds.db"})
    with (
        caplog.at_level(logging.ERROR, logger="service.main"),
        pytest.raises(FeedStoreError),
        TestClient(create_app(settings)),
    ):
        pass
    (line,) = [record.getMessage() for record in caplog.records if record.name == "service.main"]
    assert line.startswith("the news feed cannot start") and "MOODFEED_FEED_DB_PATH" in line
