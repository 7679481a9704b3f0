"""Structured logs: one JSON object per line, an access line per request, never image data."""

from __future__ import annotations

import base64
import json
import logging
import sys

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.observability import JsonFormatter
from tests.support import PAGE_ORIGIN


def test_each_request_writes_one_json_access_line_with_route_status_and_latency(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(create_app(Settings()), client=("203.0.113.7", 50_000))
    with caplog.at_level(logging.INFO, logger="service.access"):
        client.get("/healthz")
    (record,) = [record for record in caplog.records if record.name == "service.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "info"
    assert line["message"].startswith("GET /healthz 200 ")
    assert (line["route"], line["status"], line["client"]) == ("/healthz", 200, "203.0.113.7")
    assert line["duration_ms"] >= 0


def test_bytes_in_a_log_record_are_replaced_by_their_length() -> None:
    jpeg_start = b"\xff\xd8\xff\xe0\x00\x10JFIF"
    record = logging.LogRecord("service", logging.WARNING, __file__, 1, "bad frame", None, None)
    record.frame = jpeg_start
    line = JsonFormatter().format(record)
    assert json.loads(line)["frame"] == "<10 bytes>"
    assert "JFIF" not in line


def test_an_exception_is_logged_as_text_inside_the_json_line() -> None:
    try:
        raise ValueError("no faces")
    except ValueError:
        record = logging.LogRecord("service", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: no faces" in line["exception"]


def test_uploads_frames_and_bad_images_leave_no_image_data_in_the_logs(
    offline_settings: Settings, astronaut_jpeg: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    jpeg, truncated = astronaut_jpeg, astronaut_jpeg[: len(astronaut_jpeg) // 3]
    as_jpeg = {"Content-Type": "image/jpeg"}
    with caplog.at_level(logging.DEBUG), TestClient(create_app(offline_settings)) as client:
        assert client.post("/predict", content=jpeg, headers=as_jpeg).status_code == 200
        assert client.post("/predict", content=truncated, headers=as_jpeg).status_code == 400
        with client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as stream:
            stream.send_bytes(jpeg)
            stream.receive_json()
            stream.send_bytes(truncated)
            stream.receive_json()
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "/predict" in logged  # the access lines were captured...
    for image_trace in (base64.b64encode(jpeg[:48]).decode(), "\\xff\\xd8", "\\u00ff\\u00d8", "JFIF"):
        assert image_trace not in logged  # ...and nothing of the image itself
