"""What each training face is taught: the smoothed label, mixed with a teacher's and FER+'s views."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.data import EMOTIONS, FaceSet
from model.targets import soft_targets
from model.train import config


def faces(labels: list[int]) -> FaceSet:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (len(labels), 48, 48), dtype=np.uint8)
    return FaceSet(images, np.array(labels), np.arange(2, 2 + len(labels)))


def recipe(**changes: object) -> dict[str, object]:
    return {**config, **changes}


def test_label_smoothing_spreads_its_share_evenly_over_every_emotion() -> None:
    targets = soft_targets(recipe(label_smoothing=0.1), faces([0, 3]), None)
    expected = np.full((2, len(EMOTIONS)), 0.1 / len(EMOTIONS), np.float32)
    expected[0, 0] += 0.9
    expected[1, 3] += 0.9
    np.testing.assert_allclose(targets, expected, rtol=1e-6)


def test_ferplus_votes_take_their_weight_of_each_target() -> None:
    votes = np.zeros((2, len(EMOTIONS)), np.float32)
    votes[0, [1, 2]] = 0.5
    votes[1, 6] = 1.0
    settings = recipe(label_smoothing=0.0, ferplus_weight=0.25)
    targets = soft_targets(settings, faces([0, 6]), votes)
    np.testing.assert_allclose(targets[0], [0.75, 0.125, 0.125, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(targets[1], [0, 0, 0, 0, 0, 0, 1.0], atol=1e-6)


def test_a_teachers_probabilities_take_their_weight_and_targets_stay_distributions(
    shipped_model: Path,
) -> None:
    settings = recipe(label_smoothing=0.1, teacher=str(shipped_model), teacher_weight=0.5)
    alone = soft_targets(recipe(label_smoothing=0.1), faces([4, 5, 2]), None)
    taught = soft_targets(settings, faces([4, 5, 2]), None)
    np.testing.assert_allclose(taught.sum(axis=1), 1.0, atol=1e-5)
    teacher_share = taught - 0.5 * alone
    assert (teacher_share >= -1e-6).all()
    np.testing.assert_allclose(teacher_share.sum(axis=1), 0.5, atol=1e-5)
    assert not np.allclose(taught, alone)
