"""The faces a training run learns from and what each is taught: FER2013's training faces (blank images and
FER+ non-faces left out), each with a target distribution that mixes its smoothed label with a teacher
model's probabilities and the FER+ annotators' votes, as `model.train`'s recipe says; PublicTest validates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.data import EMOTIONS, FIRST_DATA_ROW, FaceSet, file_sha256, load_dataset, load_ferplus_votes
from model.runtime import onnx_probabilities, open_session


def ferplus_votes(settings: dict[str, Any], data_path: Path, splits: dict[str, FaceSet]) -> np.ndarray | None:
    """FER+ vote distributions by data row, None without a votes file or for an image folder; SystemExit if
    the file named is missing or does not describe the data's rows (FER+ matches FER2013's CSV row by row,
    and nothing else)."""
    ferplus_path = Path(settings["ferplus"]) if settings["ferplus"] else None
    if ferplus_path is None or not data_path.is_file():
        return None
    if not ferplus_path.is_file():  # said, not skipped: the recipe would silently keep FER+'s non-faces
        raise SystemExit(f"--ferplus {ferplus_path}: no such file (--ferplus= trains without FER+ votes)")
    distributions, is_face = load_ferplus_votes(ferplus_path)
    rows = np.concatenate([faces.rows for faces in splits.values()])
    if rows.min() < FIRST_DATA_ROW or rows.max() - FIRST_DATA_ROW + 1 != len(distributions):
        raise SystemExit(
            f"--ferplus {ferplus_path}: its {len(distributions)} rows do not describe {data_path}'s rows "
            f"{rows.min()}-{rows.max()}; FER+ votes go with FER2013's CSV (or --ferplus= for none)"
        )
    # A non-face has no emotion distribution: all zeros marks it, and such faces are dropped.
    return np.where(is_face[:, None], distributions, 0.0)


def teacher_probabilities(teacher_path: Path, images: np.ndarray) -> np.ndarray:
    """The teacher model's probabilities for each face, as the service would compute them."""
    return onnx_probabilities(open_session(teacher_path), images)


def prepare_faces(settings: dict[str, Any]) -> tuple[FaceSet, FaceSet, np.ndarray, dict[str, Any]]:
    """Training faces (blank images and FER+ non-faces left out), PublicTest, each training face's
    target distribution, and facts about the data for the checkpoint."""
    data_path = Path(settings["data"])
    splits, report = load_dataset(data_path)
    if "train" not in splits or "test" not in splits:
        raise SystemExit(f"{data_path}: needs both a training and a test split, found {sorted(splits)}")
    train, test = splits["train"], splits["test"]
    keep = train.images.reshape(len(train), -1).std(axis=1) >= 1.0
    votes = ferplus_votes(settings, data_path, splits)
    if votes is not None:
        train_votes = votes[train.rows - FIRST_DATA_ROW]
        keep &= train_votes.sum(axis=1) > 0
    facts = {
        "data_sha256": file_sha256(data_path) if data_path.is_file() else None,
        "skipped_rows": len(report.skipped),
        "dropped_training_faces": int((~keep).sum()),
    }
    train = train.subset(keep)
    if settings["limit"]:
        train = train.subset(np.arange(min(settings["limit"], len(train))))
    targets = soft_targets(settings, train, None if votes is None else votes[train.rows - FIRST_DATA_ROW])
    return train, test, targets, facts


def soft_targets(settings: dict[str, Any], train: FaceSet, votes: np.ndarray | None) -> np.ndarray:
    """What each face should be predicted as: the smoothed label mixed with the teacher's and FER+'s views."""
    label = np.eye(len(EMOTIONS), dtype=np.float32)[train.labels]
    label = label * (1 - settings["label_smoothing"]) + settings["label_smoothing"] / len(EMOTIONS)
    teacher_weight, ferplus_weight = settings["teacher_weight"], settings["ferplus_weight"]
    targets = label * (1 - teacher_weight - ferplus_weight)
    if teacher_weight:
        targets += teacher_weight * teacher_probabilities(Path(settings["teacher"]), train.images)
    if ferplus_weight:  # faces FER+ has no votes for were dropped, so every face has a distribution
        targets += ferplus_weight * (label if votes is None else votes)
    return targets.astype(np.float32)
