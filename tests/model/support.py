"""What the model tests build and inspect: a tiny training run's options, FER+ vote files, image folders in
the `<split>/<emotion>/` layout, and the int8 weights of an export; and the types of tests/model/conftest.py's
helper fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnx
from onnx import numpy_helper

from model.data import FACE_SIDE
from model.labels import EMOTIONS

TINY_WIDTHS = "(8,16,16,16)"
# The columns of FER+'s fer2013new.csv: one row of votes per FER2013 row.
FERPLUS_COLUMNS = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"

FerRows = list[tuple[str, str, str]]  # (emotion, pixels, Usage), the columns of FER2013's CSV
WriteFerCsv = Callable[[FerRows], Path]  # the `fer_csv` fixture
MakeFaces = Callable[[int, int], tuple[np.ndarray, np.ndarray]]  # the `faces` fixture: (count, seed)


class MakeFaceRows(Protocol):
    """The `face_rows` fixture."""

    def __call__(self, train_count: int, test_count: int, seed: int = 0) -> FerRows: ...


class TrainOneEpoch(Protocol):
    """The `train_one_epoch` fixture."""

    def __call__(self, data: Path, out_dir: Path, seed: int, *options: str) -> Path: ...


def tiny_run_options(
    data: Path, out_dir: Path, *options: str, epochs: int = 1, seed: int = 1337
) -> list[str]:
    """model.train's options for `epochs` of a narrow net on `data` without FER+ votes, so that an epoch takes
    a second or two; `options` go on top (a later option wins)."""
    return [
        f"--data={data}",
        "--ferplus=",
        f"--out_dir={out_dir}",
        f"--epochs={epochs}",
        f"--widths={TINY_WIDTHS}",
        "--batch_size=64",
        f"--seed={seed}",
        *options,
    ]


def write_ferplus_votes(path: Path, rows: list[str]) -> Path:
    """A FER+ votes file: the header, then `rows` as given ("Training,a.png,2,8,0,0,0,0,0,0,0,0")."""
    path.write_text("".join(f"{line}\n" for line in [FERPLUS_COLUMNS, *rows]))
    return path


def write_face_folder(
    root: Path,
    faces: np.ndarray,
    labels: np.ndarray,
    *,
    split: str | None = None,
    side: int = FACE_SIDE,
    suffix: str = ".png",
) -> None:
    """Faces as image files `root/<split>/<emotion>/<index><suffix>`, `side` pixels square: all in `split`,
    or by default every third face (the first among them) in test and the others in train."""
    for index, (face, label) in enumerate(zip(faces, labels, strict=True)):
        folder = root / (split or ("train" if index % 3 else "test")) / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(
            str(folder / f"{index}{suffix}"),
            cv2.resize(face, (side, side), interpolation=cv2.INTER_NEAREST),
        )


def int8_weight_ranges(model_path: Path) -> list[int]:
    """The largest magnitude in each int8 weight of an ONNX model (the constants its DequantizeLinear nodes
    read); empty for a float model."""
    graph = onnx.load(str(model_path)).graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    return [
        int(np.abs(constants[node.input[0]].astype(np.int16)).max())
        for node in graph.node
        if node.op_type == "DequantizeLinear" and constants.get(node.input[0], np.zeros(0)).dtype == np.int8
    ]
