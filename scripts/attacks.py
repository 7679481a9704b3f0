"""Hostile clients for `scripts/soak.py --attack`: each one a way to stall, exhaust or misuse the server.

    .venv/bin/python scripts/attacks.py --url http://127.0.0.1:8000 --seconds 60

Loopback only. All of them come from one loopback address of their own (127.0.0.2), as one attacker would,
and stop by themselves after --seconds; what each attack met (status codes, closes, errors) is printed as
one JSON object. The soak runs this in a process of its own, so the attackers' work does not slow the
measuring clients' event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import websockets
from PIL import Image

from service.localserver import loopback_base_url, page_origin, stream_url

ATTACKER = "127.0.0.2"


def scan_bomb_jpeg() -> bytes:
    """A 1080p progressive JPEG whose last scan is repeated 2,000 times: 32 KB, seconds to decode."""
    buffer = io.BytesIO()
    Image.new("L", (1920, 1080), 128).save(buffer, "JPEG", progressive=True)
    body = buffer.getvalue()
    last_scan = body[body.rindex(b"\xff\xda") : -2]
    return body[:-2] + last_scan * 2000 + b"\xff\xd9"


def noisy_png(side: int = 110) -> bytes:
    """A small PNG that is costly to scan for faces relative to its bytes (about 37 KiB)."""
    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).resize((side * 6, side * 6)).save(buffer, "PNG")
    return buffer.getvalue()


async def slow_headers(host: str, port: int, stop_at: float, seen: Counter[str], sockets: int) -> None:
    """Slowloris: many connections that send a header line every few seconds and never finish."""

    async def one() -> None:
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(host, port, local_addr=(ATTACKER, 0))
            except OSError as error:
                seen[f"slowloris connect {type(error).__name__}"] += 1
                await asyncio.sleep(1)
                continue
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while time.monotonic() < stop_at and not reader.at_eof():
                    writer.write(b"X-Drip: 1\r\n")
                    await writer.drain()
                    with contextlib.suppress(TimeoutError):
                        answer = await asyncio.wait_for(reader.read(64), timeout=5)
                        if answer:
                            seen[f"slowloris answered {answer[:12].decode(errors='replace')}"] += 1
                            break
            except OSError:
                seen["slowloris reset"] += 1
                await asyncio.sleep(0.5)  # an attacker's retry, not a busy loop on the shared cores
            finally:
                writer.close()

    await asyncio.gather(*(one() for _ in range(sockets)))


async def oversized_frames(ws_url: str, stop_at: float, seen: Counter[str]) -> None:
    """WebSocket messages of 15 MiB, far past the frame limit, again and again."""
    payload = b"\xff" * (15 * 1024 * 1024)
    while time.monotonic() < stop_at:
        try:
            async with websockets.connect(
                ws_url, origin=page_origin(ws_url), max_size=2**22, open_timeout=10, local_addr=(ATTACKER, 0)
            ) as socket_:
                await socket_.send(payload)
                await socket_.recv()
        except websockets.ConnectionClosed as closed:
            seen[f"oversized frame closed {closed.rcvd.code if closed.rcvd else 'abruptly'}"] += 1
        except websockets.InvalidStatus as refused:
            seen[f"oversized frame refused HTTP {refused.response.status_code}"] += 1
        except (OSError, TimeoutError) as error:
            seen[f"oversized frame {type(error).__name__}"] += 1
        await asyncio.sleep(0.2)


async def posts(
    base_url: str, body: bytes, media_type: str, per_s: float, stop_at: float, seen: Counter[str], name: str
) -> None:
    """POST `body` to /predict `per_s` times a second, answers counted by status."""
    transport = httpx.AsyncHTTPTransport(local_address=ATTACKER)
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:

        async def one() -> None:
            try:
                response = await client.post(
                    f"{base_url}/predict", content=body, headers={"Content-Type": media_type}
                )
                seen[f"{name} HTTP {response.status_code}"] += 1
            except httpx.HTTPError as error:
                seen[f"{name} {type(error).__name__}"] += 1

        pending: set[asyncio.Task[None]] = set()
        while time.monotonic() < stop_at:
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(1 / per_s)
        await asyncio.gather(*pending)


async def held_uploads(host: str, port: int, stop_at: float, seen: Counter[str], uploads: int) -> None:
    """Uploads that send all but the last bytes of a nearly 8 MiB body, then hold the connection."""
    size = 8 * 1024 * 1024 - 4096
    head = (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()

    async def one() -> None:
        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.open_connection(host, port, local_addr=(ATTACKER, 0))
                writer.write(head + b"\xff\xd8" + b"\x00" * (size - 16))
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(64), timeout=max(stop_at - time.monotonic(), 0.1))
                seen[f"held upload answered {answer[:12].decode(errors='replace') or 'closed'}"] += 1
                writer.close()
            except (OSError, TimeoutError) as error:
                seen[f"held upload {type(error).__name__}"] += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one() for _ in range(uploads)))


def all_attacks(base_url: str, stop_at: float, seen: Counter[str]) -> list[Coroutine[Any, Any, None]]:
    """Every attack, to run beside the normal clients until `stop_at`."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    ws_url = stream_url(base_url)
    return [
        slow_headers(host, port, stop_at, seen, sockets=200),
        oversized_frames(ws_url, stop_at, seen),
        posts(base_url, scan_bomb_jpeg(), "image/jpeg", 2.0, stop_at, seen, "scan bomb"),
        posts(base_url, noisy_png(), "image/png", 5.0, stop_at, seen, "png flood"),
        held_uploads(host, port, stop_at, seen, uploads=40),
    ]


async def attack(base_url: str, seconds: float) -> Counter[str]:
    seen: Counter[str] = Counter()
    await asyncio.gather(*all_attacks(base_url, time.monotonic() + seconds, seen))
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="a moodfeed server on this machine (127.0.0.1)")
    parser.add_argument("--seconds", type=float, required=True, help="how long to attack")
    arguments = parser.parse_args(argv)
    base_url = loopback_base_url(arguments.url, "attacks")  # the attackers connect from ATTACKER
    print(json.dumps(dict(sorted(asyncio.run(attack(base_url, arguments.seconds)).items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
