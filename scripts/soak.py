"""Soak test: hold N webcam-like WebSocket streams and a steady stream of /predict calls for a fixed time.

Loopback only. Without --url it starts `moodfeed serve` on a free 127.0.0.1 port and stops it afterwards;
with --url it drives a server already running on this machine. It stops by itself after --minutes (or
--seconds) and reports frames per second, p50/p95/p99 latency, errors, dropped frames, and the server's
resident memory over time (read from the server's own /metrics, so it works the same either way).

    .venv/bin/python scripts/soak.py --streams 8 --minutes 10 --json soak.json
    .venv/bin/python scripts/soak.py --seconds 20 --url http://127.0.0.1:8000
    .venv/bin/python scripts/soak.py --streams 8 --minutes 5 --attack    # beside scripts/attacks.py

Each normal stream comes from a loopback address of its own (127.0.0.10 and up), as separate viewers
would, the /predict calls from 127.0.0.3 and the attackers from 127.0.0.2.

Each stream sends a 640x480 JPEG of skimage's astronaut at --fps without waiting for answers, so a
server slower than the sender must drop stale frames: those drops are deliberate and reported apart
from errors. A frame counts as answered when a message with its `seq` comes back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import numpy as np
import websockets
from prometheus_client.parser import text_string_to_metric_families
from skimage import data

from model.timing import percentile
from service.localserver import (
    ServerDidNotStart,
    loopback_base_url,
    page_origin,
    served,
    stream_url,
    wait_until_ready,
)

PREDICT_CLIENT = "127.0.0.3"  # the normal /predict caller's own address
FRAME_SIZE = (640, 480)


@dataclass
class Tally:
    """What one kind of traffic (stream frames or /predict calls) saw over the run."""

    sent: int = 0
    answered: int = 0
    dropped: int = 0  # by the server, on purpose: a newer frame had arrived
    errors: dict[str, int] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self, elapsed_s: float) -> dict[str, object]:
        def percentile_ms(q: int) -> float | None:
            if not self.latencies_s:
                return None
            return round(percentile(self.latencies_s, q / 100) * 1000, 1)

        return {
            "sent": self.sent,
            "answered": self.answered,
            "per_s": round(self.answered / elapsed_s, 2),
            "dropped": self.dropped,
            "errors": dict(self.errors),
            "latency_ms": {"p50": percentile_ms(50), "p95": percentile_ms(95), "p99": percentile_ms(99)},
        }


def webcam_jpeg() -> bytes:
    """The astronaut (public domain) letterboxed into a 640x480 frame, as a webcam page would send it."""
    rgb = data.astronaut()
    width, height = FRAME_SIZE
    face = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (height, height), interpolation=cv2.INTER_AREA)
    frame = np.zeros((height, width, 3), np.uint8)
    left = (width - height) // 2
    frame[:, left : left + height] = face
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return encoded.tobytes()


def viewer_address(index: int) -> str:
    """A loopback address of its own for each normal stream, so per-address limits see separate viewers."""
    return f"127.0.{1 + index // 200}.{10 + index % 200}"


async def one_stream(
    ws_url: str, jpeg: bytes, fps: float, stop_at: float, tally: Tally, address: str
) -> None:
    """Send frames at `fps` until `stop_at`, reading answers as they come; then wait briefly for the last."""
    sent_at: dict[int, float] = {}
    dropped = 0
    try:
        async with websockets.connect(
            ws_url, origin=page_origin(ws_url), max_size=2**22, open_timeout=10, local_addr=(address, 0)
        ) as socket_:

            async def receive() -> None:
                nonlocal dropped
                async for message in socket_:
                    answer = json.loads(message)
                    sent = sent_at.pop(answer["seq"], None)
                    dropped = answer["dropped"]  # this stream's frames skipped so far
                    if "error" in answer:
                        tally.error(f"frame refused: {answer['error']}"[:100])
                    elif sent is not None:
                        tally.answered += 1
                        tally.latencies_s.append(time.perf_counter() - sent)

            receiver = asyncio.create_task(receive())
            seq = 0
            next_send = time.monotonic()
            while time.monotonic() < stop_at and not receiver.done():
                seq += 1
                sent_at[seq] = time.perf_counter()
                await socket_.send(jpeg)
                tally.sent += 1
                # A camera that fell behind skips the frames it missed; it does not send them in a burst.
                next_send = max(next_send + 1 / fps, time.monotonic())
                await asyncio.sleep(next_send - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(receiver), timeout=1.0)
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await receiver
    except websockets.ConnectionClosed as closed:
        tally.error(f"stream closed: {closed.rcvd.code if closed.rcvd else 'no close frame'}")
    except OSError as failure:
        tally.error(f"stream connect: {type(failure).__name__}")
    tally.dropped += dropped


async def predict_calls(base_url: str, jpeg: bytes, per_s: float, stop_at: float, tally: Tally) -> None:
    """POST the frame to /predict `per_s` times a second, one at a time, until `stop_at`."""
    transport = httpx.AsyncHTTPTransport(local_address=PREDICT_CLIENT)
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        next_call = time.monotonic()
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            tally.sent += 1
            try:
                response = await client.post(
                    f"{base_url}/predict", content=jpeg, headers={"Content-Type": "image/jpeg"}
                )
            except httpx.HTTPError as failure:
                tally.error(f"predict: {type(failure).__name__}")
            else:
                if response.status_code == 200:
                    tally.answered += 1
                    tally.latencies_s.append(time.perf_counter() - started)
                else:
                    tally.error(f"predict: HTTP {response.status_code}")
            next_call = max(next_call + 1 / per_s, time.monotonic())
            await asyncio.sleep(next_call - time.monotonic())


async def server_metrics(base_url: str) -> dict[str, float]:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base_url}/metrics", timeout=5)).text
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                values[sample.name] = sample.value
            elif sample.name == "moodfeed_http_request_duration_seconds_count":
                key = f"status {sample.labels['status']}"  # requests answered, by status, all routes
                values[key] = values.get(key, 0.0) + sample.value
    return values


def server_statuses(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    """HTTP answers the server gave during the run, by status code."""
    return {
        name.removeprefix("status "): int(value - before.get(name, 0.0))
        for name, value in after.items()
        if name.startswith("status ") and value > before.get(name, 0.0)
    }


async def sample_memory(
    base_url: str, every_s: float, stop_at: float, samples: list[dict[str, float]]
) -> None:
    started = time.monotonic()
    while True:
        with contextlib.suppress(httpx.HTTPError):
            rss = (await server_metrics(base_url))["process_resident_memory_bytes"]
            samples.append({"t_s": round(time.monotonic() - started, 1), "rss_mib": round(rss / 2**20, 1)})
        if time.monotonic() + every_s > stop_at:
            return
        await asyncio.sleep(every_s)


def memory_summary(samples: list[dict[str, float]]) -> dict[str, object]:
    """First, last and peak RSS, and the growth rate after the first fifth of the run (warm-up)."""
    if not samples:
        return {}
    settled = [sample for sample in samples if sample["t_s"] >= samples[-1]["t_s"] / 5]
    slope = None  # too few samples to tell a trend
    if len(settled) >= 3:
        times = [sample["t_s"] for sample in settled]
        fit = statistics.linear_regression(times, [sample["rss_mib"] for sample in settled])
        slope = round(fit.slope * 60, 2)
    return {
        "start_mib": samples[0]["rss_mib"],
        "end_mib": samples[-1]["rss_mib"],
        "peak_mib": max(sample["rss_mib"] for sample in samples),
        "growth_after_warmup_mib_per_min": slope,
    }


def start_attackers(base_url: str, seconds: float) -> subprocess.Popen[str]:
    """scripts/attacks.py in a process of its own, attacking for `seconds`."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("attacks.py")),
        "--url",
        base_url,
        "--seconds",
        str(seconds),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def finish_attackers(attackers: subprocess.Popen[str] | None) -> dict[str, int]:
    """What the attacks met, once their process has finished."""
    if attackers is None:
        return {}
    output, _ = attackers.communicate(timeout=60)
    return dict(json.loads(output.strip().splitlines()[-1])) if output.strip() else {"attackers failed": 1}


async def soak(arguments: argparse.Namespace, base_url: str) -> dict[str, object]:
    jpeg = webcam_jpeg()
    ws_url = stream_url(base_url)
    frames, predictions = Tally(), Tally()
    memory: list[dict[str, float]] = []
    before = await server_metrics(base_url)
    started = time.monotonic()
    stop_at = started + arguments.duration_s
    tasks = [
        one_stream(ws_url, jpeg, arguments.fps, stop_at, frames, viewer_address(index))
        for index in range(arguments.streams)
    ]
    if arguments.predict_per_s > 0:
        tasks.append(predict_calls(base_url, jpeg, arguments.predict_per_s, stop_at, predictions))
    tasks.append(sample_memory(base_url, arguments.sample_every_s, stop_at, memory))
    attackers = start_attackers(base_url, arguments.duration_s) if arguments.attack else None
    # Bounded whatever the server does: nothing may outlive the run by more than the grace period.
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=arguments.duration_s + 30)
    elapsed_s = time.monotonic() - started
    after = await server_metrics(base_url)
    return {
        "server": base_url,
        "streams": arguments.streams,
        "fps_sent_per_stream": arguments.fps,
        "duration_s": round(elapsed_s, 1),
        "frame_bytes": len(jpeg),
        "stream_frames": frames.summary(elapsed_s)
        | {"per_s_per_stream": round(frames.answered / elapsed_s / max(arguments.streams, 1), 2)},
        "predict": predictions.summary(elapsed_s),
        "server_counters": {
            name.removeprefix("moodfeed_"): after.get(name, 0) - before.get(name, 0)
            for name in (
                "moodfeed_stream_frames_dropped_total",
                "moodfeed_streams_refused_total",
                "moodfeed_rate_limited_total",
            )
        },
        "attacks": finish_attackers(attackers),
        "server_5xx": {
            name: count for name, count in server_statuses(after, before).items() if name.startswith("5")
        },
        "server_rss": memory_summary(memory),
        "server_rss_samples": memory,
    }


def print_report(report: dict[str, object]) -> None:
    frames, predict, rss = report["stream_frames"], report["predict"], report["server_rss"]
    assert isinstance(frames, dict) and isinstance(predict, dict) and isinstance(rss, dict)
    print(
        f"soak: {report['streams']} streams sending {report['fps_sent_per_stream']} fps each, "
        f"{report['duration_s']} s"
    )
    print(
        f"  stream frames: {frames['answered']}/{frames['sent']} answered, {frames['per_s']}/s in all, "
        f"{frames['per_s_per_stream']}/s per stream; dropped (stale, by design) {frames['dropped']}; "
        f"latency ms {frames['latency_ms']}; errors {frames['errors'] or 'none'}"
    )
    print(
        f"  /predict: {predict['answered']}/{predict['sent']} answered, {predict['per_s']}/s; "
        f"latency ms {predict['latency_ms']}; errors {predict['errors'] or 'none'}"
    )
    samples = report["server_rss_samples"]
    assert isinstance(samples, list)
    print(f"  server counters over the run: {report['server_counters']}; 5xx answers: {report['server_5xx']}")
    if report["attacks"]:
        print(f"  what the attacks met: {report['attacks']}")
    print(f"  server RSS MiB: {rss}")
    print("  over time: " + ", ".join(f"{sample['t_s']:.0f}s {sample['rss_mib']}" for sample in samples))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    parser.add_argument("--streams", type=int, default=8, help="WebSocket streams held open (default 8)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long to run (default 10)")
    length.add_argument("--seconds", type=float, help="how long to run, for a quick check")
    parser.add_argument(
        "--fps", type=float, default=15.0, help="frames each stream sends a second (default 15)"
    )
    parser.add_argument("--predict-per-s", type=float, default=2.0, help="/predict calls a second (0: none)")
    parser.add_argument(
        "--sample-every-s", type=float, default=10.0, help="how often to read the server's RSS"
    )
    parser.add_argument("--json", type=Path, help="also write the full report, samples included, here")
    parser.add_argument(
        "--attack",
        action="store_true",
        help="also run the hostile clients of scripts/attacks.py, from 127.0.0.2",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    arguments.duration_s = (
        arguments.seconds if arguments.seconds is not None else 60 * (arguments.minutes or 10)
    )
    if (
        arguments.duration_s <= 0
        or arguments.streams < 0
        or arguments.fps <= 0
        or arguments.predict_per_s < 0
    ):
        raise SystemExit("soak: duration and fps must be positive, streams and predict rate not negative")
    with tempfile.TemporaryDirectory(prefix="moodfeed-soak-") as scratch, contextlib.ExitStack() as stack:
        log_path = Path(scratch) / "server.log"
        try:
            if arguments.url:
                base_url = loopback_base_url(arguments.url, "soak")
                wait_until_ready(base_url, None)
            else:
                log = stack.enter_context(log_path.open("wb"))
                # Every stream counts against the cap: room for all of them, and the default's 16 at least.
                environment = {"MOODFEED_MAX_STREAMS": str(max(16, arguments.streams))}
                base_url = stack.enter_context(served(Path(scratch), environment, log))
            report = asyncio.run(soak(arguments, base_url))
        except BaseException as failure:
            if log_path.exists():
                log_tail = log_path.read_text(errors="replace").splitlines()[-20:]
                print("soak: the server's last log lines:", *log_tail, sep="\n  ", file=sys.stderr)
            if isinstance(failure, ServerDidNotStart):
                raise SystemExit(f"soak: {failure}") from None
            raise
    print_report(report)
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=2))
    frames, predict = report["stream_frames"], report["predict"]
    assert isinstance(frames, dict) and isinstance(predict, dict)
    return 1 if frames["errors"] or predict["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
