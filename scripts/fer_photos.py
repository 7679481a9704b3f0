"""Run the `fer` package's `detect_emotions` on photos, for `python -m service.photo_bench --fer-python`.

Runs in a separate environment that has `fer` and tensorflow (see scripts/fer_video.py), on one thread.
Prints one JSON line per photo: its face boxes and the best of two runs' milliseconds (the photo already
read; fer's defaults: its Haar detector, 50 px smallest face).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")  # one core, as moodfeed's figures are
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
from fer.fer import FER  # noqa: E402


def main(paths: list[str]) -> None:
    cv2.setNumThreads(1)
    detector = FER()
    for path in paths:
        image = cv2.imread(path)
        best_ms, faces = float("inf"), []
        for _ in range(2):
            started = time.perf_counter()
            faces = detector.detect_emotions(image)
            best_ms = min(best_ms, (time.perf_counter() - started) * 1000)
        boxes = [[int(value) for value in face["box"]] for face in faces]
        print(json.dumps({"path": path, "boxes": boxes, "ms": round(best_ms, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
