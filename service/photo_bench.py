"""Face finding in photos: the /predict path against stock Haar (and the `fer` package) on generated scenes.

    python -m service.photo_bench [--fer-python ../fer-venv/bin/python] [--fer2013 FER2013.csv.gz]
                                                                          (also part of moodfeed bench)

The scenes are scikit-image photos (public domain) with copies of its astronaut's face pasted 24 to
120 px tall, mirrored at random: a group in ordinary light, the same dimmed, washed out, with crushed
shadows and with compressed highlights (`LIGHTS`), a crowd of small faces, and two scenes with nobody in
them (a cat, a cup of coffee). With `--fer2013`, the same comparison runs on many faces instead of one:
180 FER2013 PublicTest faces, six to a photo, pasted 35 to 120 px tall into six of scikit-image's photos
in the same five lights (read from the data set at run time; none of its rows is kept). A face counts as
found when a detection overlaps its box with IoU > 0.3; a detection that overlaps no face is a false face.
Each detector runs on one thread; times are the median over the scenes of the best of two runs, and ours
and fer's include reading each face's emotion (stock Haar's is detection alone). Ours runs twice: looking
for faces down to 24 px (/predict's default) and down to 50 px, the smallest fer looks for.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from service.config import Settings
from service.vision.boxes import Box
from service.vision.engine import VisionEngine
from service.vision.faces import DETECTOR_CASCADE, WINDOW_PX
from service.vision.samples import astronaut_face, skimage_grey

STOCK_SCALE, STOCK_NEIGHBOURS, STOCK_MIN_FACE_PX = 1.1, 5, 24  # OpenCV's usual call
FER_MIN_FACE_PX = 50  # the fer package's default smallest face: ours is also timed looking for no smaller
FOUND_IOU = 0.3
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"  # the fer runners live in the checkout


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


def run_fer_script(python: Path, script: str, arguments: Sequence[str]) -> list[dict[str, Any]]:
    """The JSON lines a script of scripts/ prints when run by the Python that has fer (its own venv)."""
    done = subprocess.run(
        [str(python), str(SCRIPTS / script), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"fer's run failed: {done.stderr.strip().splitlines()[-1:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def fer_version(python: Path) -> str:
    """The version of the fer package that Python has, to name beside its figures."""
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('fer'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.stdout.strip() or "(version unknown)"


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
