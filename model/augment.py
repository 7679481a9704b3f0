"""Batched face augmentation on tensors, all in a few ops per batch: an affine warp, lighting and an erased
patch per face, and mixup of the batch's faces and targets."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    faces: torch.Tensor, max_degrees: float, max_scale: float, max_shift: float
) -> torch.Tensor:
    """Mirror half the faces and warp each by a random small rotation, scale and shift."""
    batch = faces.shape[0]
    device = faces.device
    angle = (torch.rand(batch, device=device) * 2 - 1) * math.radians(max_degrees)
    scale = 1 + (torch.rand(batch, device=device) * 2 - 1) * max_scale
    shift = (torch.rand(batch, 2, device=device) * 2 - 1) * max_shift * 2  # grid units span [-1, 1]
    mirror = torch.where(torch.rand(batch, device=device) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * mirror, -sin, shift[:, 0]], dim=1),
            torch.stack([sin * mirror, cos, shift[:, 1]], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(faces.shape), align_corners=False)
    return F.grid_sample(faces, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_erase(faces: torch.Tensor, probability: float, max_area: float) -> torch.Tensor:
    """Fill one random rectangle per chosen face with noise, so no single facial part is relied on."""
    batch, _, height, width = faces.shape
    device = faces.device
    area = torch.rand(batch, device=device) * (max_area - 0.02) + 0.02
    aspect = torch.exp((torch.rand(batch, device=device) * 2 - 1) * math.log(3))
    box_h = (torch.sqrt(area * aspect) * height).clamp(4, height)
    box_w = (torch.sqrt(area / aspect) * width).clamp(4, width)
    top = torch.rand(batch, device=device) * (height - box_h)
    left = torch.rand(batch, device=device) * (width - box_w)
    rows = torch.arange(height, device=device).view(1, height, 1)
    cols = torch.arange(width, device=device).view(1, 1, width)
    inside = (
        (rows >= top.view(-1, 1, 1))
        & (rows < (top + box_h).view(-1, 1, 1))
        & (cols >= left.view(-1, 1, 1))
        & (cols < (left + box_w).view(-1, 1, 1))
    )
    chosen = (torch.rand(batch, device=device) < probability).view(-1, 1, 1)
    mask = (inside & chosen).unsqueeze(1)
    noise = torch.rand_like(faces) * 255
    return torch.where(mask, noise, faces)


def random_lighting(
    faces: torch.Tensor, max_contrast: float, max_brightness: float, max_gamma: float
) -> torch.Tensor:
    """Change each face's contrast, brightness and gamma a little, as dim, washed-out or harsh light does.

    Grey levels stay in 0-255; a parameter of 0 leaves that property alone.
    """
    batch, device = faces.shape[0], faces.device

    def spread(limit: float) -> torch.Tensor:
        return (torch.rand(batch, 1, 1, 1, device=device) * 2 - 1) * limit

    mean = faces.mean(dim=(1, 2, 3), keepdim=True)
    faces = (faces - mean) * (1 + spread(max_contrast)) + mean + spread(max_brightness) * 255
    gamma = torch.exp(spread(math.log1p(max_gamma)))
    return (faces.clamp(0, 255) / 255) ** gamma * 255


def mixup(faces: torch.Tensor, targets: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al. 2018): every face of the batch blended with another of it, and their targets
    alike, by one share drawn from Beta(alpha, alpha) per batch; alpha 0 leaves the batch as it is."""
    if alpha <= 0:
        return faces, targets
    share = torch.distributions.Beta(alpha, alpha).sample().to(faces.device)  # the RNG a checkpoint keeps
    partner = torch.randperm(len(faces), device=faces.device)
    return share * faces + (1 - share) * faces[partner], share * targets + (1 - share) * targets[partner]
