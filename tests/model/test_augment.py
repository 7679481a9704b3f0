"""Batched augmentation: mixup blends pairs of faces and their targets by one share, and nothing else."""

from __future__ import annotations

import torch

from model.augment import mixup


def test_mixup_blends_each_face_and_its_target_with_one_partner_by_one_share() -> None:
    torch.manual_seed(0)
    faces = torch.arange(6, dtype=torch.float32).reshape(6, 1, 1, 1) * 10
    targets = torch.eye(6)

    mixed_faces, mixed_targets = mixup(faces, targets, alpha=0.4)

    assert torch.allclose(mixed_targets.sum(dim=1), torch.ones(6))  # still distributions
    shares: set[float] = set()
    for row in range(6):
        weights = mixed_targets[row]
        partners = [int(column) for column in weights.nonzero().flatten() if column != row]
        if not partners:  # paired with itself: left as it was
            assert torch.isclose(weights[row], torch.tensor(1.0))
            assert torch.allclose(mixed_faces[row], faces[row])
            continue
        (partner,) = partners  # one partner, the rest of the weight on the face itself
        share = float(weights[row])
        shares.add(share)
        assert torch.isclose(weights[partner], torch.tensor(1 - share))
        expected_face = share * faces[row] + (1 - share) * faces[partner]
        assert torch.allclose(mixed_faces[row], expected_face)
    assert len(shares) == 1  # at least one face really blended, and one share for the whole batch
    (share,) = shares
    assert 0 < share < 1


def test_mixup_with_alpha_zero_leaves_the_batch_alone() -> None:
    faces, targets = torch.rand(4, 1, 8, 8), torch.eye(4)
    same_faces, same_targets = mixup(faces, targets, alpha=0.0)
    assert same_faces is faces and same_targets is targets
