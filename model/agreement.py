"""Does an int8 file read faces the same on another CPU? Its fused session against the exact reference.

    python -m model.agreement model/emotion.onnx DATA --faces 200 --save runs/reference.npy --unfused
    qemu-x86_64 -cpu Haswell-v4 .venv/bin/python -m model.agreement model/emotion.onnx DATA --faces 200 \\
        --against runs/reference.npy

The first line runs the unfused session (every quantise, convolve and dequantise step in float: the same
answer on every CPU) on the first --faces PublicTest faces and keeps its probabilities; the second runs the
fused session, whose integer kernels ONNX Runtime picks by the CPU it finds, and compares. Under
`qemu-x86_64 -cpu Haswell-v4` that CPU is an AVX2 one without VNNI, where kernels can saturate (see the
card's "Portable int8"), on any x86 machine; emulation is slow (about 0.5 s a face), and says nothing
of speed. The reference is computed natively because the unfused session is slower still under emulation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort

from model.data import MalformedDataError, load_dataset
from model.runtime import UnusableModelError, agreement, onnx_probabilities, open_session


def parse_arguments(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.agreement", description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="an exported .onnx file")
    parser.add_argument("data", type=Path, help="FER2013 (.csv or .csv.gz) or an image folder")
    parser.add_argument("--faces", type=int, default=200, help="how many PublicTest faces, from the first")
    parser.add_argument("--unfused", action="store_true", help="run the exact reference session")
    parser.add_argument("--save", type=Path, help="keep the probabilities here (.npy)")
    parser.add_argument("--against", type=Path, help="compare with probabilities kept by --save")
    parsed = parser.parse_args(arguments)
    if parsed.faces < 1:
        parser.error("--faces must be at least 1")
    return parsed


def main(arguments: list[str] | None = None) -> None:
    options = parse_arguments(arguments)
    level = (
        ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        if options.unfused
        else ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    )
    try:
        test = load_dataset(options.data)[0]["test"]
        session = open_session(options.model, intra_op_threads=1, level=level)
        faces, labels = test.images[: options.faces], test.labels[: options.faces]
        probabilities = onnx_probabilities(session, faces)
        reference = None if options.against is None else np.load(options.against)
    except (OSError, KeyError, ValueError, MalformedDataError, UnusableModelError) as error:
        raise SystemExit(f"model.agreement: {error}") from None
    right = int((probabilities.argmax(1) == labels).sum())
    # No CPU named: under qemu-user, /proc/cpuinfo is still the host's, whatever CPU the emulator presents.
    session_kind = "unfused" if options.unfused else "fused"
    print(f"{session_kind} session: {right} of {len(faces)} faces right")
    if options.save is not None:
        np.save(options.save, probabilities)
    if reference is not None:
        if reference.shape != probabilities.shape:
            raise SystemExit(
                f"model.agreement: {options.against} holds {reference.shape}, not {probabilities.shape}"
            )
        same_emotion, difference = agreement(probabilities, reference)
        print(
            f"against {options.against}: argmax agreement {same_emotion:.4f}, "
            f"largest difference {difference:.4f}"
        )


if __name__ == "__main__":
    main()
