"""The emotion CNN: a small VGG-style net that takes raw grey levels and normalises inside itself."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from model.labels import EMOTIONS

# FER2013 training-set grey-level statistics, baked into the graph so callers send raw 0-255 pixels.
PIXEL_MEAN = 129.4
PIXEL_STD = 65.0


def conv_block(in_channels: int, out_channels: int, convs: int) -> nn.Sequential:
    """`convs` 3x3 conv-BN-ReLU layers followed by 2x2 max pooling."""
    layers: list[nn.Module] = []
    for index in range(convs):
        layers += [
            nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class EmotionNet(nn.Module):
    """VGG-style blocks (one conv in the first, two in the others), global average pooling, a linear head."""

    def __init__(
        self, widths: tuple[int, ...] = (32, 64, 128, 256), classes: int = len(EMOTIONS), dropout: float = 0.2
    ):
        super().__init__()
        blocks, in_channels = [], 1
        for index, width in enumerate(widths):
            blocks.append(conv_block(in_channels, width, 1 if index == 0 else 2))
            in_channels = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_channels, classes))

    def forward(self, grey_levels: torch.Tensor) -> torch.Tensor:
        """Logits for raw grey levels [N, 1, H, W] in 0-255."""
        normalised = (grey_levels - PIXEL_MEAN) / PIXEL_STD
        features = self.features(normalised)
        return self.head(features.mean(dim=(2, 3), keepdim=True))


class ProbabilityModel(nn.Module):
    """What we export: softmax probabilities, averaged over an ensemble's nets and optionally the mirror."""

    def __init__(self, nets: Sequence[nn.Module], flip_average: bool):
        super().__init__()
        if not nets:
            raise ValueError("a ProbabilityModel needs at least one net")
        self.nets = nn.ModuleList(nets)
        self.flip_average = flip_average

    def forward(self, grey_levels: torch.Tensor) -> torch.Tensor:
        faces = grey_levels.shape[0]
        # Faces and mirrors stacked on the batch, one pass per net: the exported graph then holds each weight
        # once (two calls make int8 quantisation copy every weight, doubling the file).
        inputs = (
            torch.cat([grey_levels, torch.flip(grey_levels, dims=[3])]) if self.flip_average else grey_levels
        )
        probabilities = torch.stack([torch.softmax(net(inputs), dim=1) for net in self.nets]).mean(dim=0)
        if not self.flip_average:
            return probabilities
        return (probabilities[:faces] + probabilities[faces:]) / 2
