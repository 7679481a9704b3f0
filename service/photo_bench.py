"""Face finding in photos: the /predict path against stock Haar (and the `fer` package) on the bench's scenes.

    python -m service.photo_bench [--fer-python ../fer-venv/bin/python] [--fer2013 FER2013.csv.gz]
                                                                          (also part of moodfeed bench)

The scenes are `service.photo_scenes`' generated ones and, with `--fer2013`, its FER2013 ones (many faces
instead of one). A face counts as found when a detection overlaps its box with IoU > 0.3; a detection that
overlaps no face is a false face. Each detector runs on one thread; times are the median over the scenes of
the best of two runs, and ours and fer's include reading each face's emotion (stock Haar's is detection
alone). Ours runs twice: looking for faces down to 24 px (/predict's default) and down to 50 px, the
smallest fer looks for.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from service.config import Settings
from service.fer_peer import FER_MIN_FACE_PX, fer_version, run_fer_script
from service.photo_scenes import Scene, fer2013_scenes, scenes
from service.vision.boxes import Box
from service.vision.engine import VisionEngine
from service.vision.faces import DETECTOR_CASCADE, WINDOW_PX

STOCK_SCALE, STOCK_NEIGHBOURS, STOCK_MIN_FACE_PX = 1.1, 5, 24  # OpenCV's usual call
FOUND_IOU = 0.3


def score(found: Sequence[Box], faces: Sequence[Box]) -> tuple[int, int]:
    """How many faces were found, and how many detections are no face."""
    hits = sum(any(box.iou(face) > FOUND_IOU for box in found) for face in faces)
    false = sum(all(box.iou(face) <= FOUND_IOU for face in faces) for box in found)
    return hits, false


def timed(detect: Callable[[np.ndarray], list[Box]], grey: np.ndarray) -> tuple[list[Box], float]:
    """The detections and the best of two runs' milliseconds."""
    best_ms, found = float("inf"), []
    for _ in range(2):
        started = time.perf_counter()
        found = detect(grey)
        best_ms = min(best_ms, (time.perf_counter() - started) * 1000)
    return found, best_ms


def png(grey: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", grey)
    return encoded.tobytes()


def stock_haar(min_face_px: int = STOCK_MIN_FACE_PX) -> Callable[[np.ndarray], list[Box]]:
    """OpenCV's usual detectMultiScale call, as most code that uses Haar makes it."""
    cascade = cv2.CascadeClassifier(str(DETECTOR_CASCADE))
    size = (min_face_px, min_face_px)

    def detect(grey: np.ndarray) -> list[Box]:
        found = cascade.detectMultiScale(grey, STOCK_SCALE, STOCK_NEIGHBOURS, minSize=size)
        return [Box(*map(int, box)) for box in found]

    return detect


def report(label: str, results: Sequence[tuple[Scene, list[Box], float]]) -> None:
    faces = sum(len(item.faces) for item, _, _ in results)
    hits = false_in_groups = false_nobody = 0
    for item, found, _ in results:
        found_here, false = score(found, item.faces)
        hits += found_here
        if item.faces:
            false_in_groups += false
        else:
            false_nobody += false
    median_ms = statistics.median(ms for _, _, ms in results)
    print(
        f"  {label:<37} {hits:3d}/{faces} faces, {false_in_groups} false among them, "
        f"{false_nobody} on the photos of nobody; median {median_ms:6.0f} ms per photo"
    )


def fer_detections(python: Path, greys: Sequence[np.ndarray]) -> list[tuple[list[Box], float]]:
    """The fer package's detect_emotions on each image, run by scripts/fer_photos.py with that Python:
    its face boxes and milliseconds (best of two runs)."""
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for index, grey in enumerate(greys):
            paths.append(str(Path(scratch) / f"image{index}.png"))
            cv2.imwrite(paths[-1], grey)
        answers = run_fer_script(python, "fer_photos.py", paths)
    return [([Box(*box) for box in answer["boxes"]], answer["ms"]) for answer in answers]


def compare(engine: VisionEngine, fer_python: Path | None = None, items: Sequence[Scene] = ()) -> None:
    """Print each detector's faces found, false faces and time per photo on `items` (by default the
    generated scenes)."""
    items = items or scenes()
    faces = sum(len(item.faces) for item in items)
    sides = [face.w for item in items for face in item.faces]
    width, height = items[0].grey.shape[::-1]
    print(
        f"Faces in photos, one thread ({len(items)} scenes {width}x{height}, {faces} faces "
        f"{min(sides)}-{max(sides)} px):"
    )

    def ours(min_face_px: int) -> Callable[[np.ndarray], list[Box]]:
        def detect(grey: np.ndarray) -> list[Box]:
            return [face.box for face in engine.analyse_photo(png(grey), min_face_px=min_face_px).faces]

        return detect

    detectors = {  # ours with decoding and reading emotions included, as fer's
        f"ours: /predict's path, min_face {WINDOW_PX}": ours(WINDOW_PX),
        f"ours: /predict's path, min_face {FER_MIN_FACE_PX}": ours(FER_MIN_FACE_PX),
        "stock Haar (1.1, 5, 24 px), detection": stock_haar(),
    }
    for label, detect in detectors.items():
        report(label, [(item, *timed(detect, item.grey)) for item in items])
    if fer_python is not None:
        detections = fer_detections(fer_python, [item.grey for item in items])
        report(
            f"fer {fer_version(fer_python)}: detect_emotions",
            [(item, *found) for item, found in zip(items, detections, strict=True)],
        )


def read_fer2013_scenes(path: Path | None) -> list[Scene]:
    """`fer2013_scenes(path)`, none without a path; exits with a message if it cannot be read. Call it
    before measuring anything, so that a wrong path is said at once."""
    if path is None:
        return []
    try:
        return fer2013_scenes(path)
    except (OSError, ValueError) as error:
        sys.exit(f"cannot read FER2013 from {path}: {error}")


def compare_all(engine: VisionEngine, fer_python: Path | None, fer2013_items: Sequence[Scene]) -> None:
    """The comparison on the generated scenes, then on FER2013's faces if there are any."""
    compare(engine, fer_python)
    if fer2013_items:
        compare(engine, fer_python, fer2013_items)


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m service.photo_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--fer-python", type=Path, help="a Python with the fer package, to compare with it")
    parser.add_argument("--fer2013", type=Path, help="FER2013 (as model.train reads it), for its faces too")
    options = parser.parse_args(arguments)
    cv2.setNumThreads(1)
    fer2013_items = read_fer2013_scenes(options.fer2013)
    compare_all(VisionEngine.from_settings(Settings()), options.fer_python, fer2013_items)


if __name__ == "__main__":
    main()
