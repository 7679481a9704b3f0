"""All of moodfeed's settings in one place: each is read from a MOODFEED_* environment variable."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MODEL_DIR = Path(str(resources.files("model")))
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
# The user's data directory (XDG), so the feed store survives restarts and is never inside a checkout.
FEED_DB_PATH = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "moodfeed" / "feeds.db"

# The cores this process may run on (a container's cpuset, not the host's count) where the system says.
USABLE_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
ENV_PREFIX = "MOODFEED_"  # each setting is read from this and its name in capitals
MAX_THREADS = 1024  # a thread setting beyond this is a typo, not a machine
MAX_PORT = 65_535  # TCP's; 0 asks the system for a free port
# What the page needs and nothing more: its own scripts, styles and socket; story images from any https host.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


class Settings(BaseSettings):
    """Defaults work offline on the shipped model, a local SQLite file and the bundled sample feeds."""

    # A limit or a period of inf (or nan) is a typo more often than a wish, and would disable what it bounds.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=None, allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=MAX_PORT)
    log_level: str = "info"

    # Vision
    model_path: Path = MODEL_DIR / "emotion.onnx"
    model_card_path: Path = MODEL_DIR / "emotion.json"
    # per model run: requests already run in parallel (and no CPU has more than MAX_THREADS cores)
    onnx_intra_op_threads: int = Field(default=1, ge=1, le=MAX_THREADS)
    onnx_inter_op_threads: int = Field(default=1, ge=1, le=MAX_THREADS)
    opencv_threads: int = Field(default=1, ge=1, le=MAX_THREADS)  # threads per face scan, for the same reason
    vision_workers: int = Field(default=USABLE_CORES, ge=1)  # images analysed at once; more wait
    vision_workers_per_client: int = Field(default=0, ge=0)  # one address's share; 0 = half, at least 1
    max_upload_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)  # a larger /predict upload gets 413
    max_image_pixels: int = Field(default=40_000_000, ge=1)  # width x height; a larger photo gets 413 unread
    predict_min_face_px: int = Field(default=24, ge=24)  # /predict's default smallest face, px...
    predict_min_face_fraction: float = Field(default=0.02, ge=0, le=1)  # ...or this share of its shorter side
    stream_max_frame_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # larger: an error answer
    stream_max_frame_pixels: int = Field(default=1920 * 1080, ge=1)
    stream_min_face_fraction: float = Field(default=0.15, ge=0, le=1)  # of the shorter side: 72 px at 480
    stream_full_scan_every_s: float = Field(
        default=0.5, gt=0
    )  # of stream time; in between, only near tracked faces
    # A track outlives its face's absence by more than this many frames and this much stream time: a
    # 30 fps video holds it through half a second of a turned head, a sampled one through three samples.
    stream_max_missed_frames: int = Field(default=3, ge=0)
    stream_max_missed_s: float = Field(default=0.5, ge=0, le=10)  # more would answer a face long gone
    mood_half_life_s: float = Field(default=0.5, gt=0)  # smoothing of each face's emotions (~1 s window)
    max_video_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # a larger /analyze clip gets 413
    max_video_seconds: float = Field(default=120.0, gt=0)  # a longer /analyze clip gets 413
    max_video_frame_pixels: int = Field(default=3840 * 2160, ge=1)  # width x height; 4K, larger gets 413

    # Web page
    web_dir: Path = WEB_DIR  # the page's templates/ and static/; an installed (non-editable) copy must set it

    # News feed
    feeds: str = ""  # comma-separated feed URLs, or an OPML/TOML file; empty = service/news/sources.toml
    feed_db_path: Path = FEED_DB_PATH  # SQLite file for stories and per-feed fetch state
    feed_refresh: bool = True  # fetch feeds in the background; false serves only what the store holds
    feed_refresh_interval_s: float = Field(default=900.0, ge=1)  # each feed's refresh period
    feed_refresh_jitter: float = Field(default=0.1, ge=0, le=0.5)  # ± this fraction of the interval
    feed_timeout_s: float = Field(default=15.0, gt=0)  # a whole fetch, connect to last byte
    feed_max_bytes: int = Field(default=5_000_000, ge=1024)  # a larger feed body is refused
    feed_allow_private: bool = False  # fetch feeds on loopback or private addresses (a self-hosted LAN feed)
    feed_half_life_s: float = Field(default=6 * 3600.0, gt=0)  # a story's recency halves every this long
    feed_max_per_source: int = Field(default=3, ge=1)  # a source's stories in a page before others' leftovers
    feed_retention_s: float = Field(default=7 * 86400.0, gt=0)  # stories published earlier are pruned
    feed_pool_size: int = Field(default=5000, ge=1)  # newest stories held in memory for ranking

    # Operations: logs, limits, browser security
    log_format: Literal["json", "text"] = "json"
    rate_limit_per_s: float = Field(default=20.0, ge=0)  # sustained HTTP requests per client IP; 0 = off
    rate_limit_burst: int = Field(default=60, ge=1)  # requests a client may make at once
    max_streams: int = Field(default=16, ge=1)  # concurrent WebSocket streams per process
    max_streams_per_client: int = Field(default=4, ge=1)  # ...and per client address
    stream_idle_timeout_s: float = Field(
        default=60.0, gt=0
    )  # a stream that sends no frame this long is closed
    max_connections: int = Field(default=1024, ge=1)  # open connections and requests; past it, 503
    max_connections_per_client: int = Field(default=64, ge=1)  # open HTTP connections per client address
    request_timeout_s: float = Field(default=30.0, gt=0)  # a request's headers and body must arrive in this
    keep_alive_timeout_s: int = Field(default=5, ge=1)  # an idle keep-alive connection is closed after
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)  # a request's headers; larger: 431
    max_header_count: int = Field(default=100, ge=8)  # header fields in a request; more: 431
    max_concurrent_uploads: int = Field(default=8, ge=1)  # /predict bodies held at once; more wait
    max_concurrent_videos: int = Field(default=2, ge=1)  # /analyze clips held while analysed; more wait
    trusted_proxies: Annotated[list[str], NoDecode] = []  # addresses whose X-Forwarded-For is believed
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1", "::1"]  # Host header names
    cors_allowed_origins: Annotated[list[str], NoDecode] = []  # comma-separated; empty = same origin only
    content_security_policy: str = PAGE_CSP

    @field_validator("cors_allowed_origins", "trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """Read a list setting (MOODFEED_CORS_ALLOWED_ORIGINS, ...) as comma-separated, as people write it."""
        if isinstance(value, str):
            return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
        return value
