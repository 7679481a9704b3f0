"""Load limits at the ASGI edge: a token bucket per client for HTTP, and caps on open WebSocket streams.

Both are plain ASGI middleware rather than route dependencies, so a refused request costs no routing,
body parsing or decoding, and the routes stay unaware of them.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from starlette.status import WS_1013_TRY_AGAIN_LATER
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.client_counts import ClientCounts
from service.observability import RATE_LIMITED, STREAMS_OPEN, STREAMS_REFUSED

# Probes and scrapes come from the cluster, often from one address; they must never be limited.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
UNLIMITED_PATHS = PROBE_PATHS | {"/metrics"}


def client_key(scope: Scope) -> str:
    """The client's address as the server sees it: the key of its rate limit, caps and fair shares."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def send_json_error(
    send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A whole JSON error response `{"detail": ...}` straight from ASGI middleware."""
    body = json.dumps({"detail": detail}).encode()
    all_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*all_headers, *headers]})
    await send({"type": "http.response.body", "body": body})


async def refuse_websocket(receive: Receive, send: Send, code: int, reason: str) -> None:
    """Turn a WebSocket away from ASGI middleware, saying why: accepted only to be closed at once, since a
    close before accepting reaches the client as a bare HTTP 403, without the code or the reason."""
    await receive()  # the client's websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code, "reason": reason})


class TokenBuckets:
    """Per-client token buckets: `burst` requests at once, then `rate_per_s` sustained.

    At most `max_clients` buckets are kept, least recently used evicted first; an evicted client comes
    back with a full bucket, which is what an idle client would have anyway.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """Take a token for `client`: 0.0 if it had one, else the seconds until it will."""
        now = self._clock()
        tokens, updated = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate_per_s)
        wait_s = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait_s = (1.0 - tokens) / self.rate_per_s
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait_s


class RateLimit:
    """Answer 429 with Retry-After to an HTTP client that has spent its tokens."""

    def __init__(self, app: ASGIApp, rate_per_s: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait_s = self.buckets.take(client_key(scope))
        if wait_s == 0.0:
            await self.app(scope, receive, send)
            return
        RATE_LIMITED.inc()
        retry_after_s = max(1, math.ceil(wait_s))
        detail = (
            f"rate limit exceeded: {self.buckets.rate_per_s:g} requests/s per client "
            f"(bursts of {self.buckets.burst}); retry after {retry_after_s} s"
        )
        await send_json_error(send, 429, detail, [(b"retry-after", str(retry_after_s).encode())])


class StreamSlots:
    """Hold at most `max_streams` WebSocket connections, `max_per_client` of them from one address; close
    the next one with 1013 and a reason.

    The refused socket is accepted first, because a close before accept reaches the client as a bare
    HTTP 403 with no code or reason.
    """

    def __init__(self, app: ASGIApp, max_streams: int, max_per_client: int) -> None:
        self.app = app
        self.max_streams = max_streams
        self.max_per_client = max_per_client
        self.open_streams = 0
        self.streams_by_client = ClientCounts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        reason = None
        if self.open_streams >= self.max_streams:
            reason = f"server busy: all {self.max_streams} stream slots are in use, try again later"
        elif self.streams_by_client[client] >= self.max_per_client:
            reason = f"this address already has {self.max_per_client} streams open, the most it may"
        if reason is not None:
            STREAMS_REFUSED.inc()
            await refuse_websocket(receive, send, WS_1013_TRY_AGAIN_LATER, reason)
            return
        self.open_streams += 1
        self.streams_by_client.add(client)
        STREAMS_OPEN.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.open_streams -= 1
            self.streams_by_client.remove(client)
            STREAMS_OPEN.dec()
