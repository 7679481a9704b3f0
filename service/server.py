"""Run the app under uvicorn with limits on every connection, before a request reaches the app.

uvicorn closes idle keep-alive connections, but nothing else: a socket that never sends a request, headers
that arrive a byte a minute, a body that drips, a megabyte of headers and one address holding thousands of
sockets are all kept until the process runs out of file descriptors. `GuardedHttpTools` is uvicorn's
httptools protocol with those limits added, and `uvicorn_config` sets uvicorn up with it and with the app's
own size limits (WebSocket messages, proxy trust) so that the server refuses early what the app would
refuse late.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.api.client_counts import ClientCounts
from service.config import Settings
from service.observability import CONNECTIONS_REFUSED, logging_config

# A WebSocket message carries one frame; a little more than the frame limit leaves room for framing.
WS_MESSAGE_ALLOWANCE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one HTTP connection may do before the app sees its request."""

    request_timeout_s: float  # from connection (or the request's first byte) to the body's last byte
    max_header_bytes: int
    max_header_count: int
    max_connections_per_client: int
    # Connections from these (MOODFEED_TRUSTED_PROXIES) carry many clients; the app's own caps and rate
    # limits see each one's forwarded address, so the per-address cap here does not count them.
    trusted_proxies: frozenset[str] = frozenset()

    def counts(self, address: str) -> bool:
        """Whether connections from `address` are held to the per-address cap."""
        return "*" not in self.trusted_proxies and address not in self.trusted_proxies


class _Refused(Exception):
    """Stops the HTTP parser once the connection has been answered and closed."""


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request deadline, header limits and a per-address cap."""

    limits: ClassVar[ConnectionLimits]
    connections_by_client: ClassVar[ClientCounts]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._counted_client: str | None = None
        self._reading_headers = True
        self._header_bytes = 0  # bytes received while the headers are incomplete (a bound on memory)
        self._header_size = 0  # the parsed header fields' size
        self._header_count = 0
        self._refused = False

    @classmethod
    def configured(cls, limits: ConnectionLimits) -> type[GuardedHttpTools]:
        """A protocol class of its own for one server: its limits and its own connection counts."""
        return type(cls.__name__, (cls,), {"limits": limits, "connections_by_client": ClientCounts()})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else "unknown"
        if self.limits.counts(address):
            if self.connections_by_client[address] >= self.limits.max_connections_per_client:
                limit = self.limits.max_connections_per_client
                self._refuse(503, f"too many connections from one address (at most {limit})")
                return
            self.connections_by_client.add(address)
            self._counted_client = address
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        # Still in the headers after this chunk (so none of it was body): too many bytes is too large.
        header_allowance = self.limits.max_header_bytes + 1024  # and the request line's
        if self._reading_headers and self._header_bytes > header_allowance and not self._refused:
            self._refuse(431, f"request headers larger than {self.limits.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers, self._header_bytes, self._header_size, self._header_count = True, 0, 0, 0
        self._arm_deadline()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_size += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self.limits.max_header_count:
            self._refuse(431, f"more than {self.limits.max_header_count} request header fields")
            raise _Refused
        if self._header_size > self.limits.max_header_bytes:
            self._refuse(431, f"request headers larger than {self.limits.max_header_bytes} bytes")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm_deadline()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the connection over; streams have limits of their own.
        self._release()
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refusal has already answered and closed
            super().send_400_response(msg)

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._deadline = self.loop.call_later(self.limits.request_timeout_s, self._deadline_passed)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete:
            self.transport.close()  # the app has begun its answer: nothing else can be said on it
            return
        # A body that does not come: the client is told why; the app reading it sees a disconnect and ends
        # quietly (what it would send after is dropped).
        self._refuse(408, f"the request did not arrive within {self.limits.request_timeout_s:g} s")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer with `status` and a plain-text reason, close the connection, count it."""
        self._refused = True
        self._disarm_deadline()
        CONNECTIONS_REFUSED.labels(str(status)).inc()
        body = reason.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, HTTPStatus(status).phrase.encode(), len(body), body)
        )
        self.transport.close()

    def _release(self) -> None:
        self._disarm_deadline()
        if self._counted_client is not None:
            self.connections_by_client.remove(self._counted_client)
            self._counted_client = None


def uvicorn_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for `app`: guarded connections and the app's own limits."""
    limits = ConnectionLimits(
        settings.request_timeout_s,
        settings.max_header_bytes,
        settings.max_header_count,
        settings.max_connections_per_client,
        frozenset(settings.trusted_proxies),
    )
    trusted = ",".join(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=GuardedHttpTools.configured(limits),
        log_level=settings.log_level,
        log_config=logging_config(settings.log_format, settings.log_level),
        access_log=False,  # the app writes its own access line, with route and latency
        # Browsers offer per-message deflate; JPEG frames do not compress, and (de)compressing them on the
        # event loop cut 8 streams from 27 to 10 frames per second each in `moodfeed bench`.
        ws_per_message_deflate=False,
        ws_max_size=settings.stream_max_frame_bytes + WS_MESSAGE_ALLOWANCE_BYTES,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
        # uvicorn trusts X-Forwarded-For from loopback unless told otherwise: trust only configured proxies.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
