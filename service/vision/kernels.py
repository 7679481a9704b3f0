"""Check, when a model loads, that ONNX Runtime's fast kernels compute what the model says on this CPU.

An int8 model is a graph of quantise, convolve and dequantise steps. ONNX Runtime's fully optimised
session fuses them into integer kernels chosen for the CPU; without VNNI (AVX2, AVX-512 without VNNI) the
U8S8 kernels add pairs of products in saturating 16-bit registers, so a model quantised with full 8-bit
weights reads faces wrongly there (64.9 % instead of 70.55 % on FER2013 for our first int8 file) while
nothing fails. The unoptimised session runs each step as written, in float, and is exact everywhere: the
reference. The check compares the two on generated faces and says which one to serve.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model.runtime import agreement

# Largest |probability difference| between the fused and the reference session that still counts as the
# same model. Correct int8 kernels differ from the reference only by rounding: at most 0.0014 over all of
# FER2013 PublicTest, on AVX2 and on VNNI, for our int8 files; saturating kernels differ by up to 0.84.
MAX_PROBABILITY_DIFFERENCE = 0.02
PROBE_FACES = 16


def probe_faces(count: int, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """`count` drawn faces (uint8 [count, H, W]): an oval with eyes, brows and a mouth, in varied light.

    They need no data set, and like real faces they span the whole grey range with sharp edges, which is
    what drives int8 activations to the top of their range, where saturation shows.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    faces = np.empty((count, height, width), np.uint8)
    for index in range(count):
        background = rng.uniform(0, 255)
        skin = rng.uniform(80, 255)
        feature = rng.uniform(0, 60)
        canvas = np.full((height, width), background, np.float32)
        centre = (width // 2 + int(rng.integers(-3, 4)), height // 2 + int(rng.integers(-3, 4)))
        cv2.ellipse(canvas, centre, (int(width * 0.36), int(height * 0.46)), 0, 0, 360, skin, -1)
        eye_y = centre[1] - int(height * rng.uniform(0.08, 0.16))
        for side in (-1, 1):
            eye = (centre[0] + side * int(width * 0.16), eye_y)
            cv2.circle(canvas, eye, max(1, int(width * rng.uniform(0.04, 0.08))), feature, -1)
            brow_y = eye_y - int(height * rng.uniform(0.06, 0.12))
            tilt = int(rng.integers(-3, 4)) * side
            cv2.line(canvas, (eye[0] - 5, brow_y + tilt), (eye[0] + 5, brow_y - tilt), feature, 2)
        mouth = (centre[0], centre[1] + int(height * 0.22))
        opening = (int(width * rng.uniform(0.08, 0.2)), max(1, int(height * rng.uniform(0.02, 0.12))))
        cv2.ellipse(canvas, mouth, opening, 0, 0, 360 if rng.random() < 0.5 else 180, feature, -1)
        canvas += rng.normal(0, rng.uniform(2, 20), canvas.shape)
        contrast = rng.uniform(0.6, 1.6)
        canvas = (canvas - canvas.mean()) * contrast + canvas.mean()
        faces[index] = np.clip(canvas, 0, 255).astype(np.uint8)
    return faces


@dataclass(frozen=True)
class KernelCheck:
    """How the fused session compared with the reference on the probe faces, and which one is served."""

    max_probability_difference: float
    argmax_agreement: float  # share of probe faces given the same emotion by both
    cpu: str

    @property
    def exact(self) -> bool:
        return self.max_probability_difference <= MAX_PROBABILITY_DIFFERENCE

    @property
    def path(self) -> str:
        """`optimised` when the fused kernels are right here, else `reference` (unfused, exact, slower)."""
        return "optimised" if self.exact else "reference"


def compare(optimised: np.ndarray, reference: np.ndarray, cpu: str) -> KernelCheck:
    """The check's verdict from both sessions' probabilities for the same faces."""
    argmax_agreement, difference = agreement(optimised, reference)
    return KernelCheck(difference, argmax_agreement, cpu)
