"""The ASGI layers every request passes through: metrics and access log, browser security, load limits."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.limits import RateLimit, StreamSlots
from service.config import Settings
from service.observability import REQUEST_DURATION

access_log = logging.getLogger("service.access")

# FastAPI's Swagger UI and ReDoc pages load their code from a CDN and start it with an inline script;
# they get this looser policy so that /docs works, the page and the API keep the strict one.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


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
                    "client": scope["client"][0] if scope.get("client") else None,
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


class WebSocketOrigin:
    """Refuse a browser's WebSocket handshake from another site unless that origin is allowed.

    Browsers apply no CORS to WebSockets, so without this any page on the web could stream frames to
    this server from its visitors' browsers. Clients that send no Origin (programs, not browsers) pass.
    """

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self.allowed(Headers(scope=scope)):
            await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
            return
        await self.app(scope, receive, send)

    def allowed(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None or origin in self.allowed_origins:
            return True
        return urlsplit(origin).netloc == headers.get("host")


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Wrap the app in its layers, outermost first: metrics, security headers, CORS, limits."""
    # add_middleware puts each new layer outside the previous ones, so add them innermost first.
    app.add_middleware(StreamSlots, max_streams=settings.max_streams)
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
    docs_paths = frozenset(path for path in (app.docs_url, app.redoc_url) if path)
    app.add_middleware(SecurityHeaders, csp=settings.content_security_policy, docs_paths=docs_paths)
    app.add_middleware(RequestMetrics)
