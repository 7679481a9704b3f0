"""Shared vision fixtures: the CLI and the engine on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.vision.engine import VisionEngine


@pytest.fixture
def on_tiny_model(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the settings the CLI reads from the environment at the tiny model."""
    monkeypatch.setenv("MOODFEED_MODEL_PATH", str(tiny_model))
    monkeypatch.setenv("MOODFEED_MODEL_CARD_PATH", str(tiny_model.with_name("emotion.json")))


def tiny_model_engine(tiny_model: Path) -> VisionEngine:
    """The engine as the service builds it from its settings, on the tiny model."""
    return VisionEngine.from_settings(
        Settings(model_path=tiny_model, model_card_path=tiny_model.with_name("emotion.json"))
    )


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> VisionEngine:
    """A vision engine on the tiny model, shared by a module's tests: it keeps nothing between calls (a
    stream's state lives in the session `open_stream` returns)."""
    return tiny_model_engine(tiny_model)


@pytest.fixture
def fresh_engine(tiny_model: Path) -> VisionEngine:
    """A vision engine on the tiny model for one test alone, which may patch its parts (its detector)."""
    return tiny_model_engine(tiny_model)
