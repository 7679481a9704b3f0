"""A real `moodfeed serve` on this machine's loopback, for the benchmark, the soak and the tests.

One place for the free port, the server process and "ready": `/readyz` answering 200 (model loaded,
feed store open), the probe operators use too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

START_TIMEOUT_S = 60.0
# A server "on this machine" for the load scripts: IPv4 only, since their clients connect from loopback
# addresses of their own (127.0.0.2 and up), as separate viewers would.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Offline (the bundled sample stories) and quiet: what a measurement on one machine wants.
MEASURING_ENVIRONMENT = {"MOODFEED_FEED_REFRESH": "false", "MOODFEED_LOG_LEVEL": "warning"}


class ServerDidNotStart(RuntimeError):
    """The server exited, or `/readyz` did not answer 200 in time."""


def loopback_base_url(url: str, program: str) -> str:
    """`url` without its trailing slash, if it names a server on this machine; SystemExit naming `program`
    otherwise (the load scripts drive nothing else)."""
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"{program}: refusing {url}: it only drives a server on this machine (127.0.0.1)")
    return url.rstrip("/")


def stream_url(base_url: str) -> str:
    """The WebSocket stream's URL on the server at `base_url` (http -> ws, https -> wss)."""
    return "ws" + base_url.rstrip("/").removeprefix("http") + "/ws/stream"


def page_origin(ws_url: str) -> str:
    """The Origin a page served by the server at this stream URL sends (ws -> http, wss -> https)."""
    return "http" + ws_url.removeprefix("ws").removesuffix("/ws/stream")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    url: str, server: subprocess.Popen[bytes] | None, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Return once `url`/readyz answers 200; `ServerDidNotStart` if `server` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise ServerDidNotStart(f"the server exited with code {server.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ServerDidNotStart(f"{url}/readyz did not answer 200 within {timeout_s:.0f} s")


@contextmanager
def served(data_dir: Path, environment: Mapping[str, str], log: IO[bytes] | None = None) -> Iterator[str]:
    """`moodfeed serve` on a free loopback port with `environment` added, its feed store in `data_dir`;
    the base URL once ready. The server is stopped on leaving."""
    port = free_port()
    env = {
        **os.environ,
        **MEASURING_ENVIRONMENT,
        "MOODFEED_FEED_DB_PATH": str(data_dir / "feeds.db"),
        **environment,
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else None,
        cwd=Path(__file__).resolve().parents[1],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
