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
    own_shares = mixed_targets.diagonal()  # each row: the share on itself, the rest on one partner
    share = own_shares[own_shares < 1].unique()
    assert len(share) <= 1  # one share for the whole batch
    for row in range(6):
        weights = mixed_targets[row]
        assert (weights > 0).sum() <= 2
        assert torch.isclose(mixed_faces[row].flatten(), (weights * faces.flatten()).sum())


def test_mixup_with_alpha_zero_leaves_the_batch_alone() -> None:
    faces, targets = torch.rand(4, 1, 8, 8), torch.eye(4)
    same_faces, same_targets = mixup(faces, targets, alpha=0.0)
    assert same_faces is faces and same_targets is targets
