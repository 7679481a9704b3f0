"""All of moodfeed's settings in one place: each is read from a MOODFEED_* environment variable."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MODEL_DIR = Path(str(resources.files("model")))

# What the page needs and nothing more: its own scripts, styles and socket; story images from any https host.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'"
)


class Settings(BaseSettings):
    """Defaults work offline on the shipped model, a local SQLite file and the bundled sample feeds."""

    model_config = SettingsConfigDict(env_prefix="MOODFEED_", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    # Vision
    model_path: Path = MODEL_DIR / "emotion.onnx"
    model_card_path: Path = MODEL_DIR / "emotion.json"

    # Operations: logs, limits, browser security
    log_format: Literal["json", "text"] = "json"
    rate_limit_per_s: float = Field(default=20.0, ge=0)  # sustained HTTP requests per client IP; 0 = off
    rate_limit_burst: int = Field(default=60, ge=1)  # requests a client may make at once
    max_streams: int = Field(default=16, ge=1)  # concurrent WebSocket streams per process
    cors_allowed_origins: Annotated[list[str], NoDecode] = []  # comma-separated; empty = same origin only
    content_security_policy: str = PAGE_CSP

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Read MOODFEED_CORS_ALLOWED_ORIGINS as a comma-separated list, as people write it."""
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value
