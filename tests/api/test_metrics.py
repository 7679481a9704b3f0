"""GET /metrics: Prometheus text with moodfeed's own series and the process's memory."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from service.config import Settings
from service.main import create_app
from tests.news.feed_server import FeedServer, Reply
from tests.support import refreshed


def request_count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("moodfeed_http_request_duration_seconds_count", labels) or 0.0


def test_metrics_is_prometheus_text_with_moodfeed_series_and_process_memory() -> None:
    response = TestClient(create_app(Settings())).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "moodfeed_http_request_duration_seconds",
        "moodfeed_inference_duration_seconds",
        "moodfeed_detection_duration_seconds",
        "moodfeed_faces_per_frame",
        "moodfeed_stream_frames_dropped",
        "moodfeed_streams_open",
        "moodfeed_feed_fetches",
        "process_resident_memory_bytes",
    } <= names


def test_request_latency_is_counted_by_route_template_not_raw_path() -> None:
    client = TestClient(create_app(Settings()))
    before = request_count("/healthz", "200"), request_count("unmatched", "404")
    client.get("/healthz")
    client.get("/no-such-page-4711")
    assert request_count("/healthz", "200") == before[0] + 1
    assert request_count("unmatched", "404") == before[1] + 1
    assert "no-such-page-4711" not in client.get("/metrics").text


def fetches(result: str) -> float:
    return REGISTRY.get_sample_value("moodfeed_feed_fetches_total", {"result": result}) or 0.0


def test_feed_fetches_are_counted_by_result(tmp_path: Path, feed_server: FeedServer) -> None:
    good = feed_server.serve("/rss", Reply.fixture("good.rss.xml"))
    broken = feed_server.serve("/broken", Reply(b"oops", status=500))
    settings = Settings(feeds=f"{good},{broken}", feed_db_path=tmp_path / "feeds.db", feed_refresh=False)
    before = fetches("ok"), fetches("error")
    with TestClient(create_app(settings)) as client:
        refreshed(client)
    assert (fetches("ok"), fetches("error")) == (before[0] + 1, before[1] + 1)
