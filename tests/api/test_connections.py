"""Hostile clients against the real server on loopback: slow or idle sockets, huge headers, aborted
uploads, spoofed proxy headers, oversized WebSocket messages, one address hogging connections or streams."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from service.config import Settings
from service.main import create_app
from tests.support import PAGE_ORIGIN, PATIENCE_S, vision_settings, wait_until
from tests.web.live_server import LiveServer

REQUEST_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = vision_settings(
        tiny_model,
        tmp_path_factory.mktemp("connections"),
        request_timeout_s=REQUEST_TIMEOUT_S,
        max_header_bytes=4096,
        max_header_count=20,
        max_connections_per_client=6,
        stream_max_frame_bytes=64 * 1024,
    )
    with LiveServer(settings) as live:
        yield live


def raw_socket(server: LiveServer) -> socket.socket:
    """A plain TCP connection to `server` whose reads give up (raising TimeoutError) after PATIENCE_S."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE_S)
    return connection


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection; TimeoutError if the server keeps it open
    without a word for the socket's timeout (PATIENCE_S for `raw_socket`'s)."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def counted(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_a_socket_that_never_sends_a_request_is_answered_408_and_closed(server: LiveServer) -> None:
    with raw_socket(server) as connection:
        answer = read_all(connection)  # returns only once the server has closed the connection
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert f"did not arrive within {REQUEST_TIMEOUT_S:g} s".encode() in answer  # closed by the deadline


def test_headers_that_drip_in_are_cut_off_at_the_deadline(server: LiveServer) -> None:
    with raw_socket(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(3):
            time.sleep(REQUEST_TIMEOUT_S / 2)
            try:
                connection.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_an_upload_abandoned_midway_ends_quietly_counted_as_aborted_not_500(server: LiveServer) -> None:
    aborted_before = counted("moodfeed_uploads_aborted_total")
    errors = {"method": "POST", "route": "/predict", "status": "500"}
    errors_before = counted("moodfeed_http_request_duration_seconds_count", errors)
    with raw_socket(server) as connection:
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: 100\r\n\r\nabc"
        )
        time.sleep(0.1)
    wait_until(lambda: counted("moodfeed_uploads_aborted_total") != aborted_before)
    assert counted("moodfeed_uploads_aborted_total") == aborted_before + 1
    assert counted("moodfeed_http_request_duration_seconds_count", errors) == errors_before


def test_a_body_that_stops_arriving_is_cut_off_and_counted_as_aborted(server: LiveServer) -> None:
    aborted_before = counted("moodfeed_uploads_aborted_total")
    with raw_socket(server) as connection:
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: 100\r\n\r\nabc"
        )
        assert read_all(connection).startswith(b"HTTP/1.1 408 ")  # told why, and closed at the deadline
    wait_until(lambda: counted("moodfeed_uploads_aborted_total") != aborted_before)
    assert counted("moodfeed_uploads_aborted_total") == aborted_before + 1


@pytest.mark.parametrize(
    "headers",
    [b"X-Big: " + b"a" * 10_000 + b"\r\n", b"".join(b"X-%d: 1\r\n" % n for n in range(40))],
    ids=["too large", "too many"],
)
def test_oversized_headers_are_refused_with_431(server: LiveServer, headers: bytes) -> None:
    with raw_socket(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 431 ")


def healthz_status(server: LiveServer) -> int | None:
    """The status /healthz answers on a new connection; None if the connection is closed before it."""
    try:
        return httpx.get(f"{server.url}/healthz", timeout=PATIENCE_S).status_code
    except httpx.TransportError:  # refused at once: the server may close before the request is read
        return None


@contextmanager
def held_connections(live: LiveServer, count: int) -> Iterator[None]:
    """`count` connections held open, each answered once first, so the server has counted it however
    slowly it runs; each is kept alive (no request deadline runs between requests) longer than a test."""
    held = [http.client.HTTPConnection("127.0.0.1", live.port, timeout=PATIENCE_S) for _ in range(count)]
    try:
        for connection in held:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        yield
    finally:
        for connection in held:
            connection.close()


def capped_settings(tiny_model: Path, tmp_path: Path, **overrides: Any) -> Settings:
    return vision_settings(
        tiny_model,
        tmp_path,
        request_timeout_s=REQUEST_TIMEOUT_S,
        max_connections_per_client=6,
        keep_alive_timeout_s=int(PATIENCE_S),
        **overrides,
    )


def test_one_address_cannot_hold_more_than_its_connections(tiny_model: Path, tmp_path: Path) -> None:
    with LiveServer(capped_settings(tiny_model, tmp_path)) as live:
        with held_connections(live, 6), raw_socket(live) as extra:
            answer = read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
        # The slots free when the sockets close, as soon as the server has seen them go.
        assert wait_until(lambda: healthz_status(live) == 200)


def test_connections_from_a_trusted_proxy_are_not_held_to_the_per_address_cap(
    tiny_model: Path, tmp_path: Path
) -> None:
    # A proxy's connections carry many viewers; the app's own caps see each one's forwarded address.
    settings = capped_settings(tiny_model, tmp_path, trusted_proxies=["127.0.0.1"])
    with LiveServer(settings) as live, held_connections(live, 8):
        assert healthz_status(live) == 200


def test_x_forwarded_for_is_not_believed_without_configured_proxies(tiny_model: Path, tmp_path: Path) -> None:
    settings = vision_settings(tiny_model, tmp_path, rate_limit_per_s=0.01, rate_limit_burst=3)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        statuses = [
            client.get("/openapi.json", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(6)
        ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_a_websocket_message_over_the_frame_limit_is_refused_by_the_server(server: LiveServer) -> None:
    origin = Origin(f"http://127.0.0.1:{server.port}")
    # The server may close while the message is still being sent: the send then raises.
    with (
        connect(f"ws://127.0.0.1:{server.port}/ws/stream", origin=origin) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.send(b"\xff" * (1024 * 1024))
        ws.recv(timeout=PATIENCE_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


def test_head_is_answered_like_get_without_a_body(vision_client: TestClient) -> None:
    for path in ("/", "/healthz", "/feed"):
        head, get = vision_client.head(path), vision_client.get(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]


def test_one_address_may_open_only_its_share_of_the_streams(offline_settings: Settings) -> None:
    settings = offline_settings.model_copy(update={"max_streams": 10, "max_streams_per_client": 2})
    app = create_app(settings)
    with (
        TestClient(app) as first,
        TestClient(app, client=("203.0.113.9", 5000)) as other,
        first.websocket_connect("/ws/stream", headers=PAGE_ORIGIN),
        first.websocket_connect("/ws/stream", headers=PAGE_ORIGIN),
    ):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            first.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as third,
        ):
            third.receive_json()
        with other.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as elsewhere:
            elsewhere.send_bytes(b"not an image")
            assert "error" in elsewhere.receive_json()
    assert refused.value.code == 1013 and "2 streams" in refused.value.reason


def test_a_stream_that_sends_nothing_is_closed_to_free_its_slot(offline_settings: Settings) -> None:
    settings = offline_settings.model_copy(update={"stream_idle_timeout_s": 0.2})
    with (
        TestClient(create_app(settings)) as client,
        client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as stream,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        stream.receive_json()
    assert closed.value.code == 1000 and "no frame" in closed.value.reason


def test_a_large_upload_sent_in_one_go_with_its_headers_is_not_mistaken_for_large_headers(
    server: LiveServer,
) -> None:
    body = b"\xff\xd8" + b"\x00" * 20_000  # headers and body arrive in the same segments
    with raw_socket(server) as connection:
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
        )
        answer = read_all(connection)
    assert answer.startswith(b"HTTP/1.1 400 ")  # read whole, then refused as not an image
