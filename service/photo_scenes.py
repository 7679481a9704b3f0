"""The bench's photos: scikit-image photos (public domain) with faces pasted into them, in five lights.

The generated scenes hold copies of scikit-image's astronaut's face pasted 24 to 120 px tall, mirrored at
random: a group in ordinary light, the same dimmed, washed out, with crushed shadows and with compressed
highlights (`LIGHTS`), a crowd of small faces, and two scenes with nobody in them (a cat, a cup of
coffee). `fer2013_scenes` pastes many faces instead of one: 180 FER2013 PublicTest faces, six to a photo,
35 to 120 px tall into six of scikit-image's photos in the same five lights (read from the data set at run
time; none of its rows is kept). Each scene knows where its faces are, so detectors can be scored on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from service.samples import astronaut_face, skimage_grey
from service.vision.boxes import Box


@dataclass(frozen=True, slots=True)
class Light:
    """How a scene's grey levels g (0-1) are lit: 255 * g ** gamma * gain + offset, plus sensor noise.

    The cascade sees each window's contrast normalised, so a change of gain and offset alone (dim, washed
    out) leaves it little to meet; a tone curve (crushed shadows, compressed highlights) and noise do not,
    and are what the scan's equalisation is for.
    """

    gain: float = 1.0
    offset: float = 0.0
    gamma: float = 1.0
    noise: float = 0.0  # the noise's standard deviation, in grey levels

    def apply(self, grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        lit = 255 * (grey.astype(np.float32) / 255) ** self.gamma * self.gain + self.offset
        if self.noise:
            lit += rng.normal(0, self.noise, grey.shape).astype(np.float32)
        return np.clip(lit, 0, 255).astype(np.uint8)


LIGHTS = {
    "ordinary light": Light(),
    "dim": Light(gain=0.35),
    "washed out": Light(gain=0.4, offset=150.0),
    "crushed shadows": Light(gamma=2.5, noise=3.0),
    "compressed highlights": Light(gamma=0.4, noise=3.0),
}
FER2013_BACKGROUNDS = (
    "coffee",
    "chelsea",
    "rocket",
    "astronaut",
    "hubble_deep_field",
    "immunohistochemistry",
)
FER2013_FACES_PER_SCENE = 6
FER2013_SIDES = (35, 120)


@dataclass(frozen=True, slots=True)
class Scene:
    name: str
    grey: np.ndarray
    faces: list[Box]


def scene(name: str, background: str, sides: Sequence[int], seed: int, light: Light = Light(),
          size: tuple[int, int] = (1280, 960), faces: Sequence[np.ndarray] = ()) -> Scene:  # fmt: skip
    """`sides` faces (`faces`, one per side, or else the astronaut's) pasted one per cell of a five-column
    grid over the background, then the light changed."""
    rng = np.random.default_rng(seed)
    width, height = size
    photo = cv2.resize(skimage_grey(background), size, interpolation=cv2.INTER_AREA)
    pasted_faces = faces or [astronaut_face()] * len(sides)
    rows = max(1, -(-len(sides) // 5))
    cell_w, cell_h = width // 5, height // rows
    boxes = []
    for index, (side, face) in enumerate(zip(sides, pasted_faces, strict=True)):
        row, col = divmod(index, 5)
        left = col * cell_w + int(rng.uniform(0, cell_w - side))
        top = row * cell_h + int(rng.uniform(0, cell_h - side))
        pasted = face[:, ::-1] if rng.random() < 0.5 else face
        photo[top : top + side, left : left + side] = cv2.resize(
            pasted, (side, side), interpolation=cv2.INTER_AREA
        )
        boxes.append(Box(left, top, side, side))
    return Scene(name, light.apply(photo, rng), boxes)


def scenes() -> list[Scene]:
    group = [24, 28, 32, 36, 40, 48, 56, 64, 80, 100, 120, 30, 44, 70, 26]
    return [
        scene("group, ordinary light", "coffee", group, 1),
        scene("group, dim", "coffee", group, 2, LIGHTS["dim"]),
        scene("group, washed out", "coffee", group, 3, LIGHTS["washed out"]),
        scene("crowd of small faces", "rocket", [24, 26, 28, 30, 32, 34] * 3, 4),
        scene("nobody: a cat", "chelsea", [], 5),
        scene("nobody: coffee", "coffee", [], 6),
        scene("group, crushed shadows", "coffee", group, 7, LIGHTS["crushed shadows"]),
        scene("group, compressed highlights", "coffee", group, 8, LIGHTS["compressed highlights"]),
    ]


def fer2013_scenes(path: Path) -> list[Scene]:
    """FER2013 PublicTest faces (drawn at random, the same every run) pasted into 1024x768 photos."""
    # Imported here, not at the top: the CLI imports this module, and `moodfeed serve` needs no data loader.
    from model.data import load_dataset

    splits, _ = load_dataset(path)
    public_test = splits.get("test")
    if public_test is None:
        raise ValueError("no PublicTest faces in it")
    count = len(FER2013_BACKGROUNDS) * len(LIGHTS) * FER2013_FACES_PER_SCENE
    if len(public_test) < count:
        raise ValueError(f"{len(public_test)} PublicTest faces, where the bench pastes {count}")
    rng = np.random.default_rng(0)
    picked = iter(public_test.images[rng.choice(len(public_test), count, replace=False)])
    items = []
    for seed, (background, (light_name, light)) in enumerate(
        itertools.product(FER2013_BACKGROUNDS, LIGHTS.items())
    ):
        faces = [next(picked) for _ in range(FER2013_FACES_PER_SCENE)]
        sides = [int(side) for side in rng.integers(*FER2013_SIDES, len(faces), endpoint=True)]
        items.append(scene(f"{background}, {light_name}", background, sides, seed, light, (1024, 768), faces))
    return items
