"""Draw what the engine found onto a copy of the photo, for a person to check: a box and a label per face."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from service.vision.images import eight_bit, upright
from service.vision.results import Face

BOX_BGR = (80, 200, 80)


def upright_bgr(data: bytes) -> np.ndarray:
    """The photo (already read once by `decode_grey`) in colour (BGR) and upright: EXIF orientation
    applied, as the engine applies it to the grey image its boxes refer to."""
    image = eight_bit(upright(Image.open(io.BytesIO(data)))).convert("RGB")
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def draw_faces(canvas: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """`canvas` (BGR, changed in place and returned) with each face boxed and labelled."""
    thickness = max(2, round(min(canvas.shape[:2]) / 300))
    for index, face in enumerate(faces, start=1):
        box = face.box
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w, box.y + box.h), BOX_BGR, thickness)
        label = f"{index} {face.reading.emotion} {face.reading.confidence:.0%}"
        scale = max(0.5, box.w / 220)
        (width, height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(box.y - height - 2 * thickness, 0)
        cv2.rectangle(
            canvas, (box.x, top), (box.x + width + 2 * thickness, top + height + 2 * thickness), BOX_BGR, -1
        )
        cv2.putText(
            canvas, label, (box.x + thickness, top + height + thickness), cv2.FONT_HERSHEY_SIMPLEX, scale,
            (0, 0, 0), thickness, cv2.LINE_AA,
        )  # fmt: skip
    return canvas


def write_annotated(path: Path, image_bgr: np.ndarray, faces: Sequence[Face]) -> None:
    """Save `image_bgr` with the faces boxed and labelled as `path` (the format follows its suffix);
    OSError if it cannot be written there."""
    try:  # encoded here and written by Python: OpenCV takes only UTF-8 file names
        encoded, data = cv2.imencode(path.suffix or ".jpg", draw_faces(image_bgr, faces))
    except cv2.error:  # OpenCV raises, rather than answering False, for a suffix it has no writer for
        encoded = False
    if not encoded:
        raise OSError(f"could not write {path}: no image format for {path.suffix or 'no suffix'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.tobytes())
