"""All of moodfeed's settings in one place: each is read from a MOODFEED_* environment variable."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

MODEL_DIR = Path(str(resources.files("model")))


class Settings(BaseSettings):
    """Defaults work offline on the shipped model, a local SQLite file and the bundled sample feeds."""

    model_config = SettingsConfigDict(env_prefix="MOODFEED_", env_file=None)

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    # Vision
    model_path: Path = MODEL_DIR / "emotion.onnx"
    model_card_path: Path = MODEL_DIR / "emotion.json"
