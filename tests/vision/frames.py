"""Real test images: the astronaut photo (public domain), frames built from it, and FER2013 faces.

FER2013 is read from `../shared` beside the repository when it is there; it is never copied here.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from service.samples import ASTRONAUT_FACE  # Eileen Collins' face
from service.vision.boxes import Box
from service.vision.engine import StreamOptions
from tests.support import FER2013

FRAME_SIZE = (480, 640)  # height, width: a webcam frame
VIDEO_FPS = 15
VIDEO_SIZE = (600, 340)  # width, height: a webcam-like clip


def frames_held(stream: StreamOptions, fps: float) -> int:
    """How many frames after its face's last sighting a track is answered as held, at `fps` frames per
    second: it ends once both its frames and its seconds of hold are past."""
    return max(stream.max_missed_frames, math.floor(stream.max_missed_s * fps))


@cache
def astronaut_grey() -> np.ndarray:
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    grey.flags.writeable = False
    return grey


def encode(image: np.ndarray, image_format: str = "JPEG", **options: object) -> bytes:
    """Real image bytes (JPEG, PNG, WebP, GIF...) of a grey or RGB array, as a browser or camera sends."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def with_orientation(image: np.ndarray, orientation: int, corrupt: bool = False) -> bytes:
    """A JPEG of `image` whose EXIF says `orientation`; `corrupt`: its Artist tag renumbered as WhitePoint,
    a number-typed tag now holding text, as a damaged camera file can (Pillow reads it, but cannot
    write it back)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "Camera"  # Artist
    data = encode(image, "JPEG", exif=exif)
    return data.replace(b"\x01\x3b\x00\x02", b"\x01\x3e\x00\x02", 1) if corrupt else data


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels: a valid header and a few bytes of pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def webcam_frame(shift_x: int = 0, shift_y: int = 0, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """A 640x480 grey frame with the astronaut's face about 110 px tall, moved and re-lit as asked.

    `gain` < 1 darkens the frame (low light); a positive `offset` with a low gain washes it out.
    """
    scale = 110 / ASTRONAUT_FACE.w
    person = cv2.resize(astronaut_grey(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full(FRAME_SIZE, 96, np.uint8)
    top, left = 10 + shift_y, 60 + shift_x
    visible = person[: FRAME_SIZE[0] - top, : FRAME_SIZE[1] - left]
    frame[top : top + visible.shape[0], left : left + visible.shape[1]] = visible
    return np.clip(frame * gain + offset, 0, 255).astype(np.uint8)


def webcam_face_box(shift_x: int = 0, shift_y: int = 0) -> Box:
    """Where `webcam_frame` put the astronaut's face."""
    scale = 110 / ASTRONAUT_FACE.w
    return ASTRONAUT_FACE.scaled(scale).shifted(60 + shift_x, 10 + shift_y)


def face_frame(left: int, side: int = 300) -> np.ndarray:
    """A video frame with the public-domain astronaut's face region pasted at `left`."""
    frame = np.zeros((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), np.uint8)
    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (side, side))
    frame[20 : 20 + side, left : left + side] = face
    return frame


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    """`frames` (BGR, `VIDEO_SIZE`) as an MP4 clip at `VIDEO_FPS`, written to `path`; returns `path`."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), VIDEO_FPS, VIDEO_SIZE)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def paste(background: np.ndarray, face: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """`background` with `face` resized into each box."""
    frame = background.copy()
    for box in boxes:
        frame[box.y : box.y + box.h, box.x : box.x + box.w] = cv2.resize(
            face, (box.w, box.h), interpolation=cv2.INTER_AREA if box.w < face.shape[1] else cv2.INTER_CUBIC
        )
    return frame


@cache
def fer_faces(count: int, usage: str = "Training") -> tuple[np.ndarray, np.ndarray]:
    """The first `count` non-blank FER2013 faces of a split (uint8 [N, 48, 48]) and their label indices."""
    if not FER2013.is_file():
        pytest.skip(f"FER2013 is not at {FER2013} (it is shared beside the repository, never copied into it)")
    faces, labels = [], []
    with gzip.open(FER2013, "rt", newline="") as handle:
        next(handle)  # emotion,pixels,Usage
        for line in handle:
            if not line.rstrip().endswith(
                "," + usage
            ):  # cheap: most rows of a later split are skipped unparsed
                continue
            label, pixels, _ = line.split(",")
            face = np.array(pixels.split(), np.uint8).reshape(48, 48)
            if face.std() < 10:  # FER2013 holds a few blank images
                continue
            faces.append(face)
            labels.append(int(label))
            if len(faces) == count:
                break
    return np.stack(faces), np.array(labels)
