"""What moodfeed tells its operator: Prometheus metrics and one-JSON-object-per-line logs.

The metrics live in prometheus-client's default registry, which also carries the process collector
(`process_resident_memory_bytes`, CPU seconds, open files) that `/metrics` exposes with them.
Logs never carry image data: frames and uploads are not logged, and any bytes that reach a log record
are replaced by their length.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The `_created` timestamp series double what is scraped and tell nothing a restart does not.
disable_created_metrics()

# Latencies from a millisecond (a cached feed) to seconds (a thorough scan of a large photo).
_LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_DURATION = Histogram(
    "moodfeed_http_request_duration_seconds",
    "HTTP request latency, by route template (not raw path) and status code.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS_S,
)
INFERENCE_DURATION = Histogram(
    "moodfeed_inference_duration_seconds",
    "Reading the emotions of a frame's faces: cropping, one batched model run (and, in streams, tracking).",
    buckets=_LATENCY_BUCKETS_S,
)
DETECTION_DURATION = Histogram(
    "moodfeed_detection_duration_seconds",
    "Face detection on one frame or image.",
    buckets=_LATENCY_BUCKETS_S,
)
FACES_PER_FRAME = Histogram(
    "moodfeed_faces_per_frame",
    "Faces found in each analysed frame or image.",
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16),
)
FRAMES_DROPPED = Counter(
    "moodfeed_stream_frames_dropped_total",
    "Stream frames skipped because a newer frame arrived before they were analysed.",
)
STREAMS_OPEN = Gauge("moodfeed_streams_open", "WebSocket streams open now.")
STREAMS_REFUSED = Counter(
    "moodfeed_streams_refused_total",
    "WebSocket streams closed at once (code 1013): all stream slots, or all of the address's, were taken.",
)
RATE_LIMITED = Counter(
    "moodfeed_rate_limited_total", "HTTP requests answered 429 because their client ran out of tokens."
)
FEED_FETCHES = Counter(
    "moodfeed_feed_fetches_total",
    "Feed fetch attempts by result: ok (new content), not_modified (304) or error.",
    ["result"],
)

CONNECTIONS_REFUSED = Counter(
    "moodfeed_connections_refused_total",
    "HTTP connections answered and closed before reaching the app, by status: 408 (request too slow), "
    "431 (headers too large or too many), 503 (too many connections from one address).",
    ["status"],
)
UPLOADS_ABORTED = Counter(
    "moodfeed_uploads_aborted_total", "Uploads whose client went away before sending the whole body."
)
INFERENCE_PATH = Gauge(
    "moodfeed_inference_path",
    "1 for the session serving the emotion model: optimised (fused int8 kernels, checked at load against "
    "the exact reference) or reference (the fused kernels disagreed on this CPU).",
    ["path"],
)
INFERENCE_PATH_DIFFERENCE = Gauge(
    "moodfeed_inference_path_max_probability_difference",
    "Largest probability difference between the optimised and the reference session on the load-time probe.",
)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
# uvicorn adds `color_message`, the message again with terminal colours.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
_MAX_MESSAGE_CHARS = 2_000
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _loggable(value: Any) -> Any:
    """A JSON-safe stand-in for a log field: bytes become their length, never their content."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)[:_MAX_MESSAGE_CHARS]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage()[:_MAX_MESSAGE_CHARS],
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = _loggable(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(log_format: str, log_level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process (uvicorn's loggers included) on stdout."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"moodfeed": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "moodfeed",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": log_level.upper()},
        # uvicorn configures these with handlers of their own; route them through the root handler instead.
        "loggers": {name: {"handlers": [], "propagate": True} for name in _UVICORN_LOGGERS},
    }


def count_feed_fetch(feed_url: str, outcome: str) -> None:
    """A news-feed fetch listener: count the fetch under its outcome (ok, not_modified, error)."""
    FEED_FETCHES.labels(str(outcome)).inc()
