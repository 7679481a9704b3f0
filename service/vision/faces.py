"""Find faces in grey frames with OpenCV's Haar cascades: thoroughly in photos, cheaply in video.

Detection is most of what a photo costs, so every path scans as few pixels as it can:
the frame is shrunk until the smallest face wanted is 30 px tall (the cascade's window is 24 px, but
right at that size it misses faces), and in video the faces already being tracked are looked for only
in a small window around where they were.

Frames are scanned in a contrast-limited equalised (CLAHE) copy, which meets low light and over-exposure
and loses nothing in ordinary light, one octave of face sizes at a time (see `OCTAVE_PX`). False
detections are cut by asking a second, differently trained cascade (`alt2`) to confirm each candidate in
the image it was found in, near where it was found; so a photo's scan can take every candidate, even one
found by a single window, where stock Haar asks for five neighbours, and find more faces with fewer
false ones (measured by `python -m service.photo_bench`, whose figures are in the README's "Speed").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from service.vision.boxes import MERGE_IOU, Box, merge_overlapping
from service.vision.errors import ModelError

CASCADE_DIR = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]  # (cv2.data is untyped)
DETECTOR_CASCADE = CASCADE_DIR / "haarcascade_frontalface_default.xml"
VERIFIER_CASCADE = CASCADE_DIR / "haarcascade_frontalface_alt2.xml"
WINDOW_PX = 24  # the side of the window both cascades were trained on: the smallest face they can see
MAX_FACE_PX = 65_535  # no image we take is larger on either side (JPEG's own limit); a larger face is no face
SCAN_FACE_PX = 30  # frames are shrunk until the smallest face wanted is this tall
SCALE_STEP = 1.1  # between the scales of a tracking window's and the verifier's scans, as OpenCV's default
# OpenCV moves its window two pixels at a time while it shrinks the image less than twice, and one pixel
# at a time beyond that: four times the windows per pixel for every face of 48 px and up. So a frame is
# scanned an octave at a time, each octave in a copy halved again (`_detections`), for faces of 24-47 px
# there, with this many scales in each octave.
OCTAVE_PX = 2 * WINDOW_PX  # an octave: faces from WINDOW_PX to just under this, in its own copy
PHOTO_SCALES_PER_OCTAVE = 5  # a photo's scan: 1.15 between scales
# A stream's full scan takes a coarser pyramid and asks for more detections of each face (it is repeated
# every half second, so a face one scan misses the next finds); it still finds the astronaut at every
# size from 76 to 260 px in a 640x480 frame (tested).
STREAM_SCALES_PER_OCTAVE = 4  # 1.19 between scales
PHOTO_NEIGHBOURS = 0  # a photo's thorough scan takes every candidate, however alone, to the verifier
STREAM_NEIGHBOURS = 2
TRACK_NEIGHBOURS = 3  # fewer than stock's 5: the verifier, not the neighbour count, rejects false faces
GROUP_EPS = 0.2  # how far apart two detections of one face may lie, as in OpenCV's own grouping
# The unequalised image is scanned from its second octave on (faces of twice WINDOW_PX and up in the
# scanned copy): a quarter of the cost.
RAW_FIRST_OCTAVE = 1
VERIFY_NEIGHBOURS = 3
VERIFY_MARGIN = 0.3  # the verifier looks this fraction of the face's side around the candidate
VERIFY_SIZE_RANGE = (0.7, 1.4)  # ...for faces between these multiples of the candidate's side
TRACK_MARGIN = 0.5  # a tracked face is looked for this fraction of its side around its last box
CONFIRM_MARGIN = 0.5  # a stream's new face is confirmed by a thorough scan this far around it
TRACK_FACE_PX = 30  # the tracking window is shrunk so the face is about this big: cheap and still reliable
# A face changes size little between frames; one that changes more is found by a full scan.
TRACK_SIZE_RANGE = (0.8, 1.25)
CLAHE_TILE_PX = 96  # one equalisation tile per this many pixels of the scanned image
CLAHE_CLIP = 2.0


def normalise_light(grey: np.ndarray) -> np.ndarray:
    """Contrast-limited adaptive equalisation, so faces in dim or blown-out frames show their features."""
    rows, cols = grey.shape
    tiles = (max(1, round(cols / CLAHE_TILE_PX)), max(1, round(rows / CLAHE_TILE_PX)))
    clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=tiles)
    return np.asarray(clahe.apply(grey))


def shrink(grey: np.ndarray, factor: float) -> np.ndarray:
    """`grey` resized by `factor` <= 1 with area averaging (no aliasing); the same array at 1."""
    if factor >= 1.0:
        return grey
    return np.asarray(cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))


def _as_boxes(rectangles: Sequence[Sequence[int]]) -> list[Box]:
    return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in rectangles]


@dataclass
class _Cascades:
    detector: cv2.CascadeClassifier
    verifier: cv2.CascadeClassifier


class FaceDetector:
    """Haar-cascade face finding with the speed/recall trade-offs above; safe to share between threads.

    OpenCV's cascades keep scratch buffers inside, so each thread borrows a pair from a small pool
    (as many pairs as were ever in use at once) instead of sharing one.
    """

    def __init__(self) -> None:
        self._free: list[_Cascades] = []
        self._lock = threading.Lock()
        with self._borrow():  # load once now, so a missing or broken cascade file fails at startup
            pass

    @contextmanager
    def _borrow(self) -> Iterator[_Cascades]:
        with self._lock:
            cascades = self._free.pop() if self._free else None
        if cascades is None:
            cascades = _Cascades(_load(DETECTOR_CASCADE), _load(VERIFIER_CASCADE))
        try:
            yield cascades
        finally:
            with self._lock:
                self._free.append(cascades)

    def find_faces(self, grey: np.ndarray, min_face_px: int) -> list[Box]:
        """A thorough scan of a photo for faces at least `min_face_px` tall, largest first: every candidate,
        however few detections stand by it, goes to the verifier."""
        return self._scan(grey, min_face_px, PHOTO_NEIGHBOURS, PHOTO_SCALES_PER_OCTAVE)

    def scan(self, grey: np.ndarray, min_face_px: int) -> list[Box]:
        """A quick scan of a video frame for faces at least `min_face_px` tall, largest first."""
        return self._scan(grey, min_face_px, STREAM_NEIGHBOURS, STREAM_SCALES_PER_OCTAVE)

    def _scan(self, grey: np.ndarray, min_face_px: int, neighbours: int, scales_per_octave: int) -> list[Box]:
        """The frame's equalised copy scanned for every face, and its unequalised copy for faces from the
        second octave up (equalising can flatten a large blown-out face); the candidates found by more
        than `neighbours` windows, each confirmed in the image it was found in."""
        if min_face_px > min(grey.shape):  # no such face fits, and shrinking for one could leave no pixels
            return []
        factor, min_size_px = _scan_scale(min_face_px)
        small = shrink(grey, factor)
        light = normalise_light(small)
        scale_step = 2 ** (1 / scales_per_octave)
        with self._borrow() as cascades:
            found = [
                (box, count)
                for image, first_octave in ((light, 0), (small, RAW_FIRST_OCTAVE))
                for box, count in _grouped(
                    _detections(cascades.detector, image, min_size_px, scale_step, first_octave), neighbours
                )
                if _confirmed(cascades.verifier, image, box)
            ]
        faces = merge_overlapping([box for box, _ in found], [count for _, count in found])
        return [box.scaled(1 / factor) for box in faces]

    def confirm_new(self, grey: np.ndarray, candidate: Box) -> bool:
        """Whether the photo path's thorough scan also finds a face at `candidate` (from a quick scan).

        A stream's quick scan steps coarsely between pyramid levels and takes candidates with fewer
        neighbouring detections; textures it takes for a face (a space shuttle's nose in skimage's
        astronaut) are not found by the thorough scan of the region around them, so a track starts only
        where both see a face.
        """
        height, width = grey.shape
        region = candidate.grown(CONFIRM_MARGIN, width, height)
        crop = grey[region.y : region.y + region.h, region.x : region.x + region.w]
        min_face_px = max(WINDOW_PX, round(candidate.w * VERIFY_SIZE_RANGE[0]))
        found = self.find_faces(crop, min_face_px)
        return any(candidate.iou(box.shifted(region.x, region.y)) > MERGE_IOU for box in found)

    def find_near(self, grey: np.ndarray, last_box: Box) -> Box | None:
        """The face that was at `last_box` in an earlier frame, looked for only around it; None if gone."""
        height, width = grey.shape
        region = last_box.grown(TRACK_MARGIN, width, height)
        if region.w < WINDOW_PX or region.h < WINDOW_PX:
            return None
        factor = min(1.0, TRACK_FACE_PX / last_box.w)
        crop = grey[region.y : region.y + region.h, region.x : region.x + region.w]
        light = normalise_light(shrink(crop, factor))
        smallest, largest = (max(WINDOW_PX, round(last_box.w * factor * k)) for k in TRACK_SIZE_RANGE)
        expected = last_box.shifted(-region.x, -region.y).scaled(factor)
        with self._borrow() as cascades:
            found = cascades.detector.detectMultiScale(
                light,
                SCALE_STEP,
                TRACK_NEIGHBOURS,
                minSize=(smallest, smallest),
                maxSize=(largest, largest),
            )
            best = max(_as_boxes(found), key=expected.iou, default=None)
            # Confirmed like a new face, so that a track cannot live on as a texture where a face was.
            if best is None or expected.iou(best) == 0 or not _confirmed(cascades.verifier, light, best):
                return None
        return best.scaled(1 / factor).shifted(region.x, region.y)


def _scan_scale(min_face_px: int) -> tuple[float, int]:
    """How much to shrink a frame to scan it for faces of `min_face_px` and up, and their size then."""
    factor = min(1.0, SCAN_FACE_PX / min_face_px)
    return factor, max(WINDOW_PX, round(min_face_px * factor))


def _detections(
    detector: cv2.CascadeClassifier, image: np.ndarray, min_size_px: int, scale_step: float, first_octave: int
) -> list[list[int]]:
    """Every window the detector takes for a face of `min_size_px` and up, ungrouped, in `image`'s pixels:
    octave by octave from `first_octave`, each in a copy of the image halved once more."""
    windows: list[list[int]] = []
    level, octave = image, 0
    while min(level.shape) >= WINDOW_PX:
        smallest = max(WINDOW_PX, -(-min_size_px // 2**octave))
        if octave >= first_octave and smallest < OCTAVE_PX:
            found = detector.detectMultiScale(
                level, scale_step, 0, minSize=(smallest, smallest), maxSize=(OCTAVE_PX - 1, OCTAVE_PX - 1)
            )
            windows += [[int(value) << octave for value in window] for window in found]
        level, octave = shrink(level, 0.5), octave + 1
    return windows


def _grouped(windows: list[list[int]], neighbours: int) -> list[tuple[Box, float]]:
    """One box per cluster of windows on the same face (their mean) found by more than `neighbours`
    windows, with the cluster's size.

    OpenCV's grouping keeps a cluster only if it has more windows than its threshold, so at best it keeps
    pairs. Listed twice, a cluster of n windows counts 2n, and the threshold 2 x `neighbours` + 1 keeps
    exactly those of more than `neighbours`: at 0, a face found by a single window too.
    """
    if not windows:
        return []
    boxes, counts = cv2.groupRectangles(windows * 2, 2 * neighbours + 1, GROUP_EPS)
    return [(box, count / 2) for box, count in zip(_as_boxes(boxes), np.ravel(counts), strict=True)]


def _confirmed(verifier: cv2.CascadeClassifier, image: np.ndarray, candidate: Box) -> bool:
    """Whether the verifier cascade also sees a face of about the candidate's size where it stands."""
    height, width = image.shape
    region = candidate.grown(VERIFY_MARGIN, width, height)
    smallest, largest = (max(WINDOW_PX, round(candidate.w * k)) for k in VERIFY_SIZE_RANGE)
    if region.w < smallest or region.h < smallest:
        return False
    crop = image[region.y : region.y + region.h, region.x : region.x + region.w]
    found = verifier.detectMultiScale(
        crop, SCALE_STEP, VERIFY_NEIGHBOURS, minSize=(smallest, smallest), maxSize=(largest, largest)
    )
    return any(candidate.iou(box.shifted(region.x, region.y)) > MERGE_IOU for box in _as_boxes(found))


def _load(path: Path) -> cv2.CascadeClassifier:
    try:
        cascade = cv2.CascadeClassifier(str(path))
    except (cv2.error, SystemError):  # a file that is XML but no cascade makes OpenCV raise, not refuse
        cascade = None
    if cascade is None or cascade.empty():
        raise ModelError(f"could not load the Haar cascade {path}")
    return cascade
