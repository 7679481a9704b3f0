"""Torch-side inference for training, export and the baselines: faces to tensors, tensors to probabilities."""

from __future__ import annotations

import numpy as np
import torch

from model.net import ProbabilityModel


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 faces [N, H, W] as the float [N, 1, H, W] tensor the nets take."""
    return torch.from_numpy(images).float().unsqueeze(1)


@torch.no_grad()
def predict(net: torch.nn.Module, faces: torch.Tensor, batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities for every face, in float32."""
    model = ProbabilityModel([net], flip_average=False).eval()
    outputs = [
        model(faces[start : start + batch_size].contiguous(memory_format=torch.channels_last))
        for start in range(0, len(faces), batch_size)
    ]
    return torch.cat(outputs).cpu().numpy()


@torch.no_grad()
def predict_with_mirrors(
    net: torch.nn.Module,
    faces: torch.Tensor,
    batch_size: int = 512,
    autocast_dtype: torch.dtype | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities for every face and for its mirror image, from one pass over both (their mean
    is the exported flip average), optionally under autocast to `autocast_dtype`."""
    model = ProbabilityModel([net], flip_average=False).eval()
    as_is, mirrored = [], []
    for start in range(0, len(faces), batch_size):
        batch = faces[start : start + batch_size]
        both = torch.cat([batch, torch.flip(batch, dims=[3])]).contiguous(memory_format=torch.channels_last)
        with torch.autocast(both.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            probabilities = model(both).float()
        as_is.append(probabilities[: len(batch)])
        mirrored.append(probabilities[len(batch) :])
    return torch.cat(as_is).cpu().numpy(), torch.cat(mirrored).cpu().numpy()
