"""Time the `fer` package's `Video.analyze` on a clip, for `python -m service.video_bench --fer-python`.

Runs in a separate environment that has `fer` and tensorflow (never moodfeed's own), on one thread:

    python -m venv ../fer-venv && ../fer-venv/bin/pip install fer==25.10.3 tensorflow-cpu 'setuptools<80'
    ../fer-venv/bin/python scripts/fer_video.py CLIP.mp4

Prints one JSON line: frames analysed, seconds, and the share of frames in which fer found a face.
Every frame is analysed (frequency 1) with fer's defaults (its Haar detector, 50 px smallest face), and
nothing is written but its own CSV in a scratch folder.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")  # one core, as moodfeed's figures are
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import contextlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
from fer.classes import Video  # noqa: E402
from fer.fer import FER  # noqa: E402


def main(clip: str) -> None:
    cv2.setNumThreads(1)
    detector = FER()
    clip = os.path.abspath(clip)
    # fer writes its data.csv into the working folder, whatever outdir says: work in a scratch folder.
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        video = Video(clip, outdir=scratch)
        started = time.perf_counter()
        rows = video.analyze(
            detector,
            display=False,
            frequency=1,
            save_frames=False,
            save_video=False,
            annotate_frames=False,
            zip_images=False,
            use_async_io=False,
        )
        seconds = time.perf_counter() - started
    frames = int(cv2.VideoCapture(clip).get(cv2.CAP_PROP_FRAME_COUNT))
    print(
        json.dumps({"frames": frames, "seconds": round(seconds, 3), "with_face": len(rows) / max(frames, 1)})
    )


if __name__ == "__main__":
    main(sys.argv[1])
