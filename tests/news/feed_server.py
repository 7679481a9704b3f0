"""A real HTTP server on 127.0.0.1 that serves feed fixtures the way real servers misbehave."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
CENTURY_S = 100 * 365 * 86400.0  # a story retention that keeps every fixture's stories (they are dated 2024)
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens there: refused at once, like being offline


@dataclass
class Reply:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None  # when set, a matching If-None-Match gets a 304
    delay_s: float = 0.0  # wait this long before answering
    location: str | None = None  # for redirects
    send_length: bool = True  # False: no Content-Length, the body simply runs until the connection closes
    drip_s: float = 0.0  # send the body in ten pieces with this pause before each (a trickling server)
    headers_seen: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def fixture(cls, name: str, **options: object) -> Reply:
        content_type = "application/atom+xml" if name.endswith(".atom.xml") else "application/rss+xml"
        return cls(body=(FIXTURES / name).read_bytes(), content_type=content_type, **options)  # type: ignore[arg-type]


class FeedServer:
    """Serve `replies[path]` on an ephemeral loopback port; `url(path)` is its address."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.replies))
        # A slow reply must not hold up the end of a test: handler threads are neither joined nor waited for.
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def serve(self, path: str, reply: Reply) -> str:
        self.replies[path] = reply
        return self.url(path)


def _handler_for(replies: dict[str, Reply]) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            reply = replies.get(self.path)
            if reply is None:
                self.send_error(404)
                return
            reply.headers_seen.append(dict(self.headers.items()))
            time.sleep(reply.delay_s)
            if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                self.send_response(304)
                self.send_header("ETag", reply.etag)
                self.end_headers()
                return
            self.send_response(reply.status)
            if reply.location:
                self.send_header("Location", reply.location)
            if reply.etag:
                self.send_header("ETag", reply.etag)
            self.send_header("Content-Type", reply.content_type)
            if reply.send_length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            # The client may give up (a timeout or a size cap): that is what those tests want.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._write(reply)

        def _write(self, reply: Reply) -> None:
            if not reply.drip_s:
                self.wfile.write(reply.body)
                return
            piece = max(1, len(reply.body) // 10)
            for start in range(0, len(reply.body), piece):
                time.sleep(reply.drip_s)
                self.wfile.write(reply.body[start : start + piece])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
