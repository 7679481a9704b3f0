"""Browser security: the CSP and hardening headers on every response, CORS closed unless configured."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from service.api.middleware import ORIGIN_REFUSED
from service.config import PAGE_CSP, Settings
from service.main import create_app


def test_every_response_carries_the_csp_and_hardening_headers() -> None:
    client = TestClient(create_app(Settings(rate_limit_per_s=0.01, rate_limit_burst=2)))
    responses = [client.get("/healthz"), client.get("/no-such-page"), client.get("/openapi.json")]
    responses.append(client.get("/openapi.json"))  # refused by the rate limit: headers all the same
    assert [response.status_code for response in responses] == [200, 404, 200, 429]
    for response in responses:
        assert response.headers["content-security-policy"] == PAGE_CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_only_from_this_server(path: str) -> None:
    client = TestClient(create_app(Settings()))
    page = client.get(path)
    policy = page.headers["content-security-policy"]
    assert page.status_code == 200
    assert "http" not in policy and "frame-ancestors 'none'" in policy  # no other host may be reached
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    links = re.findall(r'<link [^>]*href="([^"]+)"', page.text)
    assert scripts and all(url.startswith("/docs-assets/") for url in scripts + links)
    assert all(client.get(url).status_code == 200 for url in scripts + links)
    assert "fonts.googleapis" not in page.text


def test_cors_is_closed_by_default() -> None:
    client = TestClient(create_app(Settings()))
    response = client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/predict",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_to_configured_origins_only() -> None:
    client = TestClient(create_app(Settings(cors_allowed_origins=["https://app.example"])))
    allowed = client.get("/healthz", headers={"Origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_allowed_origins_are_read_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODFEED_CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    assert Settings().cors_allowed_origins == ["https://a.example", "https://b.example"]


def test_a_websocket_from_another_site_is_refused_unless_its_origin_is_allowed(
    offline_settings: Settings,
) -> None:
    settings = offline_settings.model_copy(update={"cors_allowed_origins": ["https://app.example"]})
    with TestClient(create_app(settings)) as client:
        for origin in ("http://testserver", "http://testserver:80", "https://app.example"):  # page, allowed
            with client.websocket_connect("/ws/stream", headers={"Origin": origin}) as stream:
                stream.send_bytes(b"not an image")
                assert "error" in stream.receive_json()
        refused_origins: tuple[str | None, ...] = (
            "https://elsewhere.example",
            "https://testserver",  # another scheme
            "ftp://testserver",
            "http://testserver:8080",  # another port
            "http://",
            "http://testserver:notaport",
            "null",
            None,  # no Origin at all
        )
        for refused_origin in refused_origins:
            headers: dict[str, str] = {"Origin": refused_origin} if refused_origin else {}
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect("/ws/stream", headers=headers) as socket,
            ):
                socket.receive_text()  # closed before any answer, saying why
            assert (refused.value.code, refused.value.reason) == (1008, ORIGIN_REFUSED), refused_origin


def test_dns_rebinding_a_host_name_the_server_does_not_answer_to_is_refused(
    offline_settings: Settings,
) -> None:
    with TestClient(create_app(offline_settings), base_url="http://evil.example:8000") as client:
        page = client.get("/")
        probe = client.get("/healthz")
        metrics = client.get("/metrics")
        origin = {"Origin": "http://evil.example:8000"}
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws/stream", headers=origin) as socket,
        ):
            socket.receive_text()
    assert page.status_code == 400 and "MOODFEED_ALLOWED_HOSTS" in page.json()["detail"]
    assert probe.status_code == 200  # probes come with pod addresses
    assert metrics.status_code == 400  # how the server is used is not for a rebinding page to read
    assert refused.value.code == 1008
