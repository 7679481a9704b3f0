"""How fast and how big an exported emotion model is: ms per face in ONNX Runtime on one thread.

    python -m model.bench                      # model/emotion.onnx
    python -m model.bench runs/try.onnx --json
    python -m model.bench --against runs/teacher/ensemble-v1.onnx

Times batches of 1 and 8 random faces after a warm-up and reports the median. Timings depend on the CPU
(its int8 features are printed with them) and on what else the machine runs (so is the load average).
With --against, both models are timed in the same run, alternating, and the ratio is printed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from model.cpu import cpu_description
from model.data import FACE_SIDE
from model.measure import DEFAULT_MODEL, parameter_count
from model.runtime import UnusableModelError, open_session
from model.timing import time_repeated

BATCH_SIZES = (1, 8)
ROUNDS = 5  # the models take turns this many times


def ms_per_face(session: ort.InferenceSession, batch_size: int, repeats: int, warmup: int = 10) -> float:
    """Median wall time of one run, divided by the batch size."""
    input_name = session.get_inputs()[0].name
    faces = np.random.default_rng(0).uniform(0, 255, (batch_size, 1, FACE_SIDE, FACE_SIDE)).astype(np.float32)
    times = time_repeated(lambda: session.run(None, {input_name: faces}), repeats, warmup)
    return times.median_ms / batch_size


def benchmark(model_paths: list[Path], repeats: int = 200) -> list[dict[str, Any]]:
    """Size, parameter count and ms per face at batch 1 and 8 of each model, with the CPU and its load.

    The models are timed in turns, in `ROUNDS` rounds of an equal share of the repeats (at least one run
    each), so a change in the machine's load falls on all of them alike and their ratio stays fair.
    """
    sessions = [
        open_session(path, intra_op_threads=1) for path in model_paths
    ]  # refuses a file ORT cannot load
    load_average = os.getloadavg()[0]
    timings: list[dict[int, list[float]]] = [{size: [] for size in BATCH_SIZES} for _ in model_paths]
    for _ in range(ROUNDS):
        for session, timing in zip(sessions, timings, strict=True):
            for size in BATCH_SIZES:
                timing[size].append(ms_per_face(session, size, max(1, repeats // ROUNDS)))
    return [
        {
            "model": str(path),
            "bytes": path.stat().st_size,
            "parameters": parameter_count(path),
            "threads": 1,
            "cpu": cpu_description(),
            "load_average_1min": load_average,
            "cpus": os.cpu_count(),
            **{f"ms_per_face_batch_{size}": float(np.median(timing[size])) for size in BATCH_SIZES},
        }
        for path, timing in zip(model_paths, timings, strict=True)
    ]


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.bench", description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL, help="an .onnx file")
    parser.add_argument("--against", type=Path, help="another .onnx to time in the same run, for a ratio")
    parser.add_argument(
        "--repeats",
        type=int,
        default=200,
        help=f"timed runs per batch size, in {ROUNDS} equal rounds (at least one run a round)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per model instead")
    options = parser.parse_args(arguments)
    model_paths = [options.model] + ([options.against] if options.against else [])
    for path in model_paths:
        if not path.is_file():
            raise SystemExit(f"{path}: no such model file")
    if options.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    try:
        results = benchmark(model_paths, options.repeats)
    except UnusableModelError as error:
        raise SystemExit(str(error)) from error
    if options.json:
        for result in results:
            print(json.dumps(result))
    else:
        print_report(results)


def print_report(results: list[dict[str, Any]]) -> None:
    """Each model's size and ms per face, then (for two) the first's cost as a multiple of the second's."""
    for result in results:
        print(f"{result['model']}: {result['bytes'] / 1e6:.2f} MB, {result['parameters']:,} parameters")
        for size in BATCH_SIZES:
            print(f"  batch {size}: {result[f'ms_per_face_batch_{size}']:.3f} ms per face (1 thread)")
    if len(results) == 2:
        model, other = results
        for size in BATCH_SIZES:
            key = f"ms_per_face_batch_{size}"
            print(f"batch {size}: {model[key] / other[key]:.2f}x the cost of {other['model']}")
    first = results[0]
    print(f"CPU {first['cpu']}; load average {first['load_average_1min']:.2f} on {first['cpus']} CPUs")


if __name__ == "__main__":
    main()
