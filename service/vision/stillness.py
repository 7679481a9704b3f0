"""Searches a stream skips where nothing has moved.

A webcam mostly sees the same room, and a face that keeps still. Searching again where the pixels are what
they were when a face was last found there, or when the frame was last scanned whole, finds what was found
then. So a tracked face whose patch looks as it did is taken to be where it was (`StillFaces`), and a full
scan is put off while nothing outside the tracked faces has changed since the last one (`StillScene`).
Both compare coarse, area-averaged copies, in which sensor noise and compression average out and a moving
face or a new one does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from service.vision.boxes import Box

FACE_PATCH_SIDE = 12  # a face is compared at 12 x 12 cells: a shift of a fifth of a cell already shows
FACE_STILL_BELOW = 3.0  # mean absolute difference, in grey levels, under which a face's patch is unchanged
SCENE_CELLS = 32  # a frame is compared at this many cells along its longer side
SCENE_STILL_BELOW = 6.0  # largest difference of any cell outside the faces under which the scene is unchanged
FACE_MASK_MARGIN = 0.25  # the cells a face may change: its box grown by this fraction of its side


def _area_averaged(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), dtype=np.float32)


def face_patch(grey: np.ndarray, box: Box) -> np.ndarray:
    """The boxed face, area-averaged to FACE_PATCH_SIDE cells a side."""
    crop = grey[box.y : box.y + box.h, box.x : box.x + box.w]
    return _area_averaged(crop, FACE_PATCH_SIDE, FACE_PATCH_SIDE)


@dataclass(frozen=True)
class _Sighting:
    box: Box
    patch: np.ndarray


class StillFaces:
    """Where each track's face was last found, and what it looked like there."""

    def __init__(self) -> None:
        self._sightings: dict[int, _Sighting] = {}

    def still(self, grey: np.ndarray, track_id: int, box: Box) -> bool:
        """Whether the face tracked at `box` looks as it did when a search last found it there."""
        sighting = self._sightings.get(track_id)
        if sighting is None or sighting.box != box:
            return False
        return float(np.abs(face_patch(grey, box) - sighting.patch).mean()) < FACE_STILL_BELOW

    def found(self, grey: np.ndarray, track_id: int, box: Box) -> None:
        """A search found the face of `track_id` at `box` in `grey`."""
        self._sightings[track_id] = _Sighting(box, face_patch(grey, box))

    def keep_only(self, track_ids: Iterable[int]) -> None:
        """Forget the faces of tracks that have ended."""
        kept = set(track_ids)
        self._sightings = {tid: sighting for tid, sighting in self._sightings.items() if tid in kept}


class StillScene:
    """The frame as it was at the last full scan, to tell whether anything but the tracked faces changed."""

    def __init__(self) -> None:
        self._cells: np.ndarray | None = None
        self._faces: list[Box] = []  # where the faces were then, in the frame's pixels

    def scanned(self, grey: np.ndarray, faces: Sequence[Box]) -> None:
        """A full scan of `grey` has just run; `faces` are the faces known in it."""
        self._cells, self._faces = self._cells_of(grey), list(faces)

    def unchanged(self, grey: np.ndarray, faces: Sequence[Box]) -> bool:
        """Whether `grey` looks as the last scanned frame did everywhere but around `faces` (where the faces
        are now) and where the faces were then."""
        if self._cells is None:
            return False
        cells = self._cells_of(grey)
        if cells.shape != self._cells.shape:
            return False
        changed = np.abs(cells - self._cells)
        height, width = grey.shape
        scale_x, scale_y = cells.shape[1] / width, cells.shape[0] / height
        for box in [*faces, *self._faces]:
            around = box.grown(FACE_MASK_MARGIN, width, height)
            left, top = int(around.x * scale_x), int(around.y * scale_y)
            right = int(np.ceil((around.x + around.w) * scale_x))
            bottom = int(np.ceil((around.y + around.h) * scale_y))
            changed[top:bottom, left:right] = 0.0
        return float(changed.max()) < SCENE_STILL_BELOW

    @staticmethod
    def _cells_of(grey: np.ndarray) -> np.ndarray:
        height, width = grey.shape
        scale = SCENE_CELLS / max(height, width)
        return _area_averaged(grey, max(1, round(width * scale)), max(1, round(height * scale)))
