"""The ASGI layers every request passes through: metrics and access log, browser security, load limits."""

from __future__ import annotations

import ipaddress
import logging
import time
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.limits import PROBE_PATHS, RateLimit, StreamSlots, refuse_websocket, send_json_error
from service.api.routes.docs import DOCS_PATHS
from service.config import Settings
from service.observability import REQUEST_DURATION

access_log = logging.getLogger("service.access")

# The docs pages (Swagger UI, ReDoc) start with an inline script and style themselves inline, and ReDoc runs
# a worker from a blob: they get this policy, which still lets nothing load from elsewhere (ReDoc's logo
# from its CDN is blocked before any request is made).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


def client_address(scope: Scope) -> str | None:
    """The client's IP address as the server sees it (a trusted proxy's X-Forwarded-For, else the peer),
    or None; anything that is not an IP address, which only a proxy header could carry, is not repeated."""
    client = scope.get("client")
    if not client:
        return None
    try:
        return str(ipaddress.ip_address(client[0]))
    except ValueError:
        return "invalid"


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/feed`, `/static`), so that metrics have few label values."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestMetrics:
    """Time each HTTP request into the latency histogram and write one access-log line for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server error handler outside us answers if the app raises

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            duration_s = time.perf_counter() - started
            route = route_template(scope)
            REQUEST_DURATION.labels(scope["method"], route, str(status)).observe(duration_s)
            access_log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                duration_s * 1000,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration_s * 1000, 2),
                    "client": client_address(scope),
                },
            )


class SecurityHeaders:
    """Add the CSP and the other browser-hardening headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, csp: str, docs_paths: frozenset[str]) -> None:
        self.app = app
        self.docs_paths = docs_paths
        self.headers = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"] in self.docs_paths

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if is_docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)


def split_host(host_header: str) -> tuple[str, int | None] | None:
    """A Host header's name (lower case, IPv6 without brackets) and port; None if it is malformed."""
    try:
        parts = urlsplit(f"//{host_header}")
        name, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, an unclosed IPv6 bracket
        return None
    if not name or parts.username is not None or parts.path or parts.query:
        return None
    return name, port


class AllowedHosts:
    """Answer only requests whose Host header names this server (DNS rebinding defence).

    A page on evil.example whose name is made to resolve to 127.0.0.1 reaches this server from the
    victim's browser as a same-origin page; its requests then carry `Host: evil.example`, which is refused.
    Probes pass whatever their Host, since clusters send pod addresses, and say nothing but up or not;
    `/metrics` says how the server is used, so a scraper's Host must be allowed like any other.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed_hosts = frozenset(host.strip("[]").lower() for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any_host or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        host = split_host(Headers(scope=scope).get("host", ""))
        if host is not None and host[0] in self.allowed_hosts:
            await self.app(scope, receive, send)
            return
        reason = "this server does not answer to that Host name (see MOODFEED_ALLOWED_HOSTS)"
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WS_1008_POLICY_VIOLATION, "reason": reason})
            return
        await send_json_error(send, 400, reason)


ORIGIN_REFUSED = "origin not allowed: send the page's own origin, or one in MOODFEED_CORS_ALLOWED_ORIGINS"


class WebSocketOrigin:
    """Refuse a WebSocket handshake unless it comes from this server's own page or an allowed origin.

    Browsers apply no CORS to WebSockets, so without this any page on the web could stream frames to
    this server from its visitors' browsers. The page's origin has the scheme (http for ws, https for
    wss), host and port of the request itself; a missing or malformed Origin is refused, so programs send
    the page's origin too (`websockets.connect(url, origin="http://127.0.0.1:8000")`).
    """

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self.allowed(scope):
            await refuse_websocket(receive, send, WS_1008_POLICY_VIOLATION, ORIGIN_REFUSED)
            return
        await self.app(scope, receive, send)

    def allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            return False
        if origin in self.allowed_origins:
            return True
        page_scheme = "https" if scope.get("scheme") == "wss" else "http"
        default_port = 443 if page_scheme == "https" else 80
        host = split_host(headers.get("host", ""))
        try:
            parts = urlsplit(origin)
            origin_port = parts.port or default_port
        except ValueError:
            return False
        if host is None or parts.scheme != page_scheme or parts.path not in ("", "/"):
            return False
        return (parts.hostname, origin_port) == (host[0], host[1] or default_port)


class HeadAsGet:
    """Answer HEAD like GET without the body, on every route (uptime monitors and link checkers use HEAD)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Wrap the app in its layers, outermost first: metrics, HEAD, security headers, hosts, CORS, limits."""
    # add_middleware puts each new layer outside the previous ones, so add them innermost first.
    app.add_middleware(
        StreamSlots, max_streams=settings.max_streams, max_per_client=settings.max_streams_per_client
    )
    app.add_middleware(WebSocketOrigin, allowed_origins=settings.cors_allowed_origins)
    if settings.rate_limit_per_s > 0:
        app.add_middleware(RateLimit, rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
    app.add_middleware(AllowedHosts, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders, csp=settings.content_security_policy, docs_paths=DOCS_PATHS)
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestMetrics)
