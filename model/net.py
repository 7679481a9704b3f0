"""The emotion CNN: a small VGG-style net that takes raw grey levels and normalises inside itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


SQUEEZE_REDUCTION = 8  # a squeeze-excitation gate's hidden width: the block's width over this


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers whose output, rescaled channel by channel by a squeeze-excitation gate
    (Hu et al. 2018), is added to the input (through a 1x1 conv-BN where the width changes); then ReLU
    and 2x2 max pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        hidden = max(1, out_channels // SQUEEZE_REDUCTION)
        self.gate = nn.Sequential(
            nn.Linear(out_channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out_channels),
            nn.Sigmoid(),
        )
        self.shortcut: nn.Module = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
            )
        )
        self.pool = nn.MaxPool2d(2)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        residual = self.body(features)
        weights = self.gate(residual.mean(dim=(2, 3)))[:, :, None, None]
        return self.pool(torch.relu(self.shortcut(features) + residual * weights))


class EmotionNet(nn.Module):
    """Four blocks (one conv in the first; two in the others, plain VGG-style or `residual`), global
    average pooling, a linear head; its widths and dropout are a run's settings (`net_for`)."""

    def __init__(
        self, widths: tuple[int, ...], dropout: float, classes: int = len(EMOTIONS), residual: bool = False
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_channels = 1
        for index, width in enumerate(widths):
            if index == 0:
                blocks.append(conv_block(in_channels, width, 1))
            else:
                blocks.append(
                    ResidualBlock(in_channels, width) if residual else conv_block(in_channels, width, 2)
                )
            in_channels = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_channels, classes))

    def forward(self, grey_levels: torch.Tensor) -> torch.Tensor:
        """Logits for raw grey levels [N, 1, H, W] in 0-255."""
        normalised = (grey_levels - PIXEL_MEAN) / PIXEL_STD
        features = self.features(normalised)
        return self.head(features.mean(dim=(2, 3), keepdim=True))


def net_for(settings: Mapping[str, Any]) -> EmotionNet:
    """The untrained net a run's settings describe (a run from before `residual` existed is plain VGG)."""
    return EmotionNet(
        tuple(settings["widths"]), dropout=settings["dropout"], residual=settings.get("residual", False)
    )


class ProbabilityModel(nn.Module):
    """What we export: softmax probabilities, averaged over an ensemble's nets and optionally the mirror."""

    def __init__(self, nets: Sequence[nn.Module], flip_average: bool) -> None:
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
