"""Torch-side inference for training, export and the baselines: faces to tensors, tensors to probabilities."""

from __future__ import annotations

import numpy as np
import torch

from model.net import ProbabilityModel


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 faces [N, H, W] as the float [N, 1, H, W] tensor the nets take."""
    return torch.from_numpy(images).float().unsqueeze(1)


@torch.no_grad()
def predict(
    net: torch.nn.Module, faces: torch.Tensor, batch_size: int = 512, flip: bool = False
) -> np.ndarray:
    """Softmax probabilities for every face, optionally averaged with the mirrored face (as exported)."""
    model = ProbabilityModel([net], flip_average=flip).eval()
    outputs = [
        model(faces[start : start + batch_size].contiguous(memory_format=torch.channels_last))
        for start in range(0, len(faces), batch_size)
    ]
    return torch.cat(outputs).numpy()
