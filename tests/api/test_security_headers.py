"""Browser security: the CSP and hardening headers on every response, CORS closed unless configured."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

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


def test_api_docs_get_a_policy_that_lets_swagger_ui_load() -> None:
    response = TestClient(create_app(Settings())).get("/docs")
    assert response.status_code == 200
    assert "https://cdn.jsdelivr.net" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


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
        for origin in ("http://testserver", "https://app.example", None):  # same site, allowed, a program
            headers = {"Origin": origin} if origin else {}
            with client.websocket_connect("/ws/stream", headers=headers) as stream:
                stream.send_bytes(b"not an image")
                assert "error" in stream.receive_json()
        cross_site = client.websocket_connect("/ws/stream", headers={"Origin": "https://elsewhere.example"})
        with pytest.raises(WebSocketDisconnect) as refused, cross_site:
            pass
        assert (refused.value.code, refused.value.reason) == (1008, "origin not allowed")
