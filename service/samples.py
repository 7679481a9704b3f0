"""Public-domain sample pictures that the benchmarks (and the tests) build their scenes from.

They come from scikit-image's data (the test extra), never from a data set: its astronaut, Eileen Collins,
is the face pasted into every generated scene.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from service.vision.boxes import Box

ASTRONAUT_FACE = Box(177, 66, 95, 95)  # in skimage's 512x512 astronaut, framed as the cascade frames faces


def skimage_grey(name: str) -> np.ndarray:
    """One of scikit-image's sample photos, in grey."""
    try:
        from skimage import data
    except ImportError:
        sys.exit("moodfeed bench: needs scikit-image for its test photos: pip install -e '.[test]'")
    image = getattr(data, name)()
    return np.asarray(image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def astronaut_face() -> np.ndarray:
    """The astronaut's face, cut out as `ASTRONAUT_FACE` boxes it."""
    face = ASTRONAUT_FACE
    return skimage_grey("astronaut")[face.y : face.y + face.h, face.x : face.x + face.w]
