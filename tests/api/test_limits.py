"""Load limits: a token bucket per client IP (429 with Retry-After, probes exempt), a cap on open streams."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from service.api.limits import TokenBuckets
from service.config import Settings
from service.main import create_app
from tests.support import PAGE_ORIGIN


def client_for(settings: Settings, address: str = "203.0.113.7") -> TestClient:
    return TestClient(create_app(settings), client=(address, 50_000))


def test_a_client_past_its_burst_gets_429_with_retry_after_and_a_json_detail() -> None:
    # So slow a refill that no token comes back while the test runs, however slow the machine.
    client = client_for(Settings(rate_limit_per_s=0.01, rate_limit_burst=3))
    assert [client.get("/openapi.json").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/openapi.json")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "rate limit exceeded" in refused.json()["detail"]


def test_each_client_address_has_its_own_bucket() -> None:
    app = create_app(Settings(rate_limit_per_s=0.01, rate_limit_burst=1))
    first = TestClient(app, client=("203.0.113.7", 50_000))
    second = TestClient(app, client=("198.51.100.9", 50_000))
    assert first.get("/openapi.json").status_code == 200
    assert first.get("/openapi.json").status_code == 429
    assert second.get("/openapi.json").status_code == 200


def test_probes_and_metrics_are_never_rate_limited() -> None:
    client = client_for(Settings(rate_limit_per_s=0.01, rate_limit_burst=1))
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_a_rate_of_zero_turns_limiting_off() -> None:
    client = client_for(Settings(rate_limit_per_s=0, rate_limit_burst=1))
    assert {client.get("/openapi.json").status_code for _ in range(5)} == {200}


class ManualClock:
    def __init__(self) -> None:
        self.now_s = 1_000.0

    def __call__(self) -> float:
        return self.now_s


def test_bucket_refills_at_its_rate_and_says_how_long_to_wait() -> None:
    clock = ManualClock()
    buckets = TokenBuckets(rate_per_s=2.0, burst=2, clock=clock)
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == 0.5  # one token at 2 per second
    clock.now_s += 0.5
    assert buckets.take("a") == 0.0
    clock.now_s += 60
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.5]  # refills up to the burst, no further


def test_least_recently_seen_clients_are_forgotten_past_the_cap() -> None:
    buckets = TokenBuckets(rate_per_s=1.0, burst=1, max_clients=2, clock=ManualClock())
    buckets.take("a")
    buckets.take("b")
    buckets.take("c")  # evicts "a", which comes back with a full bucket
    assert buckets.take("a") == 0.0
    assert buckets.take("c") > 0.0


def test_a_stream_past_the_cap_is_closed_with_1013_and_a_reason_and_the_slot_frees(
    offline_settings: Settings, astronaut_jpeg: bytes
) -> None:
    settings = offline_settings.model_copy(update={"max_streams": 1})
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as first:
            refused = client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN)
            with refused as second, pytest.raises(WebSocketDisconnect) as closed:
                second.receive_json()
            assert closed.value.code == 1013
            assert "all 1 stream slots are in use" in closed.value.reason
            first.send_bytes(astronaut_jpeg)
            assert first.receive_json()["seq"] == 1
        with client.websocket_connect("/ws/stream", headers=PAGE_ORIGIN) as after:
            after.send_bytes(astronaut_jpeg)
            assert after.receive_json()["seq"] == 1
