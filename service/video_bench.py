"""How fast `analyze_video` runs: a webcam-like clip (600x340, 30 fps, one face) analysed frame by frame.

    python -m service.video_bench [--seconds 20] [--fer-python ../fer-venv/bin/python]

The clip is made from scikit-image's astronaut (public domain), so the test extra is needed. With
`--fer-python`, the `fer` package's `Video.analyze` runs on the same clip in the same run, in its own
environment (`scripts/fer_video.py` says how to make it; from a checkout).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model.cpu import cpu_description
from service.config import Settings
from service.fer_peer import fer_version, run_fer_script
from service.video import analyze_video
from service.vision.engine import VisionEngine

SIZE, FPS = (600, 340), 30


OCCLUSIONS_S = (0.1, 0.2, 0.3, 0.4)  # how long a hand covers the face, in turn, once every...
OCCLUSION_EVERY_S = 2.0


def webcam_clip(path: Path, seconds: float, occluded: bool = False) -> Path:
    """A clip of the astronaut's face drifting slowly across the frame, as a webcam recording would; if
    `occluded`, a hand (a block of skin colour) covers the face for each of `OCCLUSIONS_S` in turn, once
    every `OCCLUSION_EVERY_S`."""
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (300, 300))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, SIZE)
    for index in range(int(seconds * FPS)):
        frame = np.full((SIZE[1], SIZE[0], 3), 40, np.uint8)
        left = 60 + round(120 * (1 + np.sin(index / 90)) / 2)
        frame[20:320, left : left + 300] = face
        time_s = index / FPS
        covered_s = OCCLUSIONS_S[int(time_s // OCCLUSION_EVERY_S) % len(OCCLUSIONS_S)]
        if occluded and 1.0 <= time_s % OCCLUSION_EVERY_S < 1.0 + covered_s:
            frame[60:260, left + 60 : left + 260] = (90, 110, 150)
        writer.write(frame)
    writer.release()
    return path


@dataclass(frozen=True)
class Followed:
    """How a clip's faces were followed: frames, those with a face found or only held, distinct tracks."""

    frames: int
    found: int
    held: int
    tracks: int
    seconds: float


def follow(clip: Path, engine: VisionEngine) -> Followed:
    started = time.perf_counter()
    frames = found = held = 0
    tracks: set[int | None] = set()
    for frame in analyze_video(clip, engine=engine):
        frames += 1
        found += any(not face.held for face in frame.faces)
        held += bool(frame.faces) and all(face.held for face in frame.faces)
        tracks |= {face.track_id for face in frame.faces}
    return Followed(frames, found, held, len(tracks), time.perf_counter() - started)


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m service.video_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of the clip (default: %(default)s)"
    )
    parser.add_argument(
        "--fer-python", type=Path, help="a Python with the fer package, to time its Video.analyze on the clip"
    )
    options = parser.parse_args(arguments)
    engine = VisionEngine.from_settings(Settings())  # one ONNX thread, one OpenCV thread: one core
    with tempfile.TemporaryDirectory() as scratch:
        clip = webcam_clip(Path(scratch) / "clip.mp4", options.seconds)
        ours = follow(clip, engine)
        occluded = follow(webcam_clip(Path(scratch) / "occluded.mp4", options.seconds, occluded=True), engine)
        fer = fer_timing(options.fer_python, clip) if options.fer_python else None
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clip_text = f"{options.seconds:g} s of {SIZE[0]}x{SIZE[1]} video at {FPS} fps"
    print(
        f"{ours.frames} frames ({clip_text}) in {ours.seconds:.1f} s: {ours.frames / ours.seconds:.0f} "
        f"frames/s, {options.seconds / ours.seconds:.1f}x real time on one core; face found in "
        f"{ours.found / max(ours.frames, 1):.0%} of frames, {ours.tracks} track(s); peak RSS "
        f"{peak_mib:.0f} MiB; CPU {cpu_description()}"
    )
    covers = int(options.seconds // OCCLUSION_EVERY_S)
    print(
        f"The same face covered {covers} times for {min(OCCLUSIONS_S):g}-{max(OCCLUSIONS_S):g} s: "
        f"{occluded.tracks} track(s); found in {occluded.found / max(occluded.frames, 1):.0%} of frames, "
        f"held in {occluded.held / max(occluded.frames, 1):.0%}"
    )
    if fer is not None:
        fer_fps = fer["frames"] / fer["seconds"]
        print(
            f"fer {fer_version(options.fer_python)}'s Video.analyze, same clip: {fer_fps:.0f} frames/s "
            f"({fer['with_face']:.0%} with a face): "
            f"ours is {ours.frames / ours.seconds / fer_fps:.1f}x faster"
        )


def fer_timing(python: Path, clip: Path) -> dict[str, float]:
    """What scripts/fer_video.py measured for the clip, run with the given interpreter."""
    return dict(run_fer_script(python, "fer_video.py", [str(clip)])[-1])


if __name__ == "__main__":
    main()
