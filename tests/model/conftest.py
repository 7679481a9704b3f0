"""Fixtures for the model pipeline: synthetic faces written as a Kaggle-layout CSV, trained and exported once.

No FER2013 row is ever copied here: every face is drawn from a seeded generator. Each emotion gets its own
bright bar so a net can learn something in one epoch. Helpers the tests import rather than take as
fixtures are in tests/model/support.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from model import train
from model.data import FACE_SIDE
from model.export import export
from model.labels import EMOTIONS
from tests.model.support import FerRows, MakeFaceRows, MakeFaces, TrainOneEpoch, WriteFerCsv, tiny_run_options
from tests.support import FER2013


def synthetic_faces(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` noisy 48x48 grey faces (uint8) with labels cycling through the seven emotions."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(EMOTIONS)
    faces = rng.normal(110, 25, (count, FACE_SIDE, FACE_SIDE))
    bar_rows = 4 + labels * 6
    for face, row in zip(faces, bar_rows, strict=True):
        face[row : row + 4] += 90
    return np.clip(faces, 0, 255).astype(np.uint8), labels


def pixel_text(face: np.ndarray) -> str:
    return " ".join(str(level) for level in face.ravel())


def write_fer_csv(path: Path, rows: FerRows) -> Path:
    """A FER2013-layout CSV holding the (emotion, pixels, Usage) rows as given, malformed or not."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        writer.writerows(rows)
    return path


def synthetic_rows(train_count: int, test_count: int, seed: int = 0) -> FerRows:
    faces, labels = synthetic_faces(train_count + test_count, seed)
    usages = ["Training"] * train_count + ["PublicTest"] * test_count
    return [
        (str(label), pixel_text(face), usage)
        for face, label, usage in zip(faces, labels, usages, strict=True)
    ]


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 synthetic training faces and 70 test faces in the Kaggle layout."""
    return write_fer_csv(tmp_path_factory.mktemp("data") / "tiny.csv", synthetic_rows(200, 70))


def train_tiny(data: Path, out_dir: Path, seed: int, *options: str) -> Path:
    """One epoch of model.train with a narrow net, so it takes a second or two; `options` go on top."""
    train.main(tiny_run_options(data, out_dir, *options, seed=seed))
    return out_dir / "last.pt"


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_csv: Path) -> Path:
    """One epoch of model.train on the tiny CSV."""
    return train_tiny(tiny_csv, tmp_path_factory.mktemp("run"), seed=1337)


@pytest.fixture
def train_one_epoch() -> TrainOneEpoch:
    """Trains a tiny net for one epoch and returns its checkpoint: train_one_epoch(data, out_dir, seed,
    *options)."""
    return train_tiny


@pytest.fixture(scope="session")
def exported_model(
    tmp_path_factory: pytest.TempPathFactory, trained_checkpoint: Path, tiny_csv: Path
) -> Path:
    """The one-epoch checkpoint exported (fp32, no flip averaging) with its card beside it."""
    model_path = tmp_path_factory.mktemp("export") / "emotion.onnx"
    export([trained_checkpoint], model_path, tiny_csv)
    return model_path


@pytest.fixture
def fer_csv(tmp_path: Path) -> WriteFerCsv:
    """Writes (emotion, pixels, Usage) rows to a fresh CSV and returns its path."""
    return lambda rows: write_fer_csv(tmp_path / "faces.csv", rows)


@pytest.fixture
def face_rows() -> MakeFaceRows:
    """Makes well-formed synthetic rows: face_rows(train_count, test_count, seed=0)."""
    return synthetic_rows


@pytest.fixture
def faces() -> MakeFaces:
    """Makes synthetic faces and labels: faces(count, seed)."""
    return synthetic_faces


@pytest.fixture(scope="session")
def fer2013() -> Path:
    """The real FER2013 CSV; tests that need it skip where it is absent."""
    if not FER2013.exists():
        pytest.skip(f"FER2013 is not at {FER2013}")
    return FER2013
