"""How fast and how big an exported emotion model is: ms per face in ONNX Runtime on one thread.

    python -m model.bench                      # model/emotion.onnx
    python -m model.bench runs/try.onnx --json

Times batches of 1 and 8 random faces after a warm-up and reports the median. Timings depend on what else
the machine runs, so the load average at the start is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from model.data import FACE_SIDE
from model.evaluate import UnusableModelError, open_session

DEFAULT_MODEL = Path(__file__).with_name("emotion.onnx")
BATCH_SIZES = (1, 8)
WEIGHTED_OPS = {"Conv", "Gemm", "MatMul", "ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul"}


def parameter_count(model_path: Path) -> int:
    """Learned numbers in the graph: the weights and biases of its conv and linear layers.

    Batch norm is folded into the convs on export, and in an int8 graph a weight is an int8 initializer
    behind a DequantizeLinear node; both are counted once, quantisation scales are not.
    """
    graph = onnx.load(str(model_path)).graph
    sizes = {tensor.name: numpy_helper.to_array(tensor).size for tensor in graph.initializer}
    dequantized_from = {
        node.output[0]: node.input[0] for node in graph.node if node.op_type == "DequantizeLinear"
    }
    weights = {
        dequantized_from.get(name, name)
        for node in graph.node
        if node.op_type in WEIGHTED_OPS
        for name in node.input[1:]
    }
    return sum(sizes[name] for name in weights if name in sizes and sizes[name] > 1)


def ms_per_face(session: ort.InferenceSession, batch_size: int, repeats: int, warmup: int = 10) -> float:
    """Median wall time of one run, divided by the batch size."""
    input_name = session.get_inputs()[0].name
    faces = np.random.default_rng(0).uniform(0, 255, (batch_size, 1, FACE_SIDE, FACE_SIDE)).astype(np.float32)
    for _ in range(warmup):
        session.run(None, {input_name: faces})
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, {input_name: faces})
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds)) * 1000 / batch_size


def benchmark(model_path: Path, repeats: int = 200) -> dict[str, Any]:
    """Size, parameter count and ms per face at batch 1 and 8, with the machine's load when measured."""
    session = open_session(model_path, threads=1)  # also refuses a file ONNX Runtime cannot load
    load_average = os.getloadavg()[0]
    return {
        "model": str(model_path),
        "bytes": model_path.stat().st_size,
        "parameters": parameter_count(model_path),
        "threads": 1,
        "load_average_1min": load_average,
        "cpus": os.cpu_count(),
        **{f"ms_per_face_batch_{size}": ms_per_face(session, size, repeats) for size in BATCH_SIZES},
    }


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.bench", description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL, help="an .onnx file")
    parser.add_argument("--repeats", type=int, default=200, help="timed runs per batch size")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    options = parser.parse_args(arguments)
    if not options.model.is_file():
        raise SystemExit(f"{options.model}: no such model file")
    if options.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    try:
        result = benchmark(options.model, options.repeats)
    except UnusableModelError as error:
        raise SystemExit(str(error)) from error
    if options.json:
        print(json.dumps(result))
        return
    print(f"{result['model']}: {result['bytes'] / 1e6:.2f} MB, {result['parameters']:,} parameters")
    for size in BATCH_SIZES:
        print(f"batch {size}: {result[f'ms_per_face_batch_{size}']:.3f} ms per face (1 thread)")
    print(f"load average {result['load_average_1min']:.2f} on {result['cpus']} CPUs while measuring")


if __name__ == "__main__":
    main()
