"""int8 static quantisation of the exported model (QDQ, per-channel weights), calibrated on training faces."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

CALIBRATION_BATCH = 64
CALIBRATION_FACES = 1000  # training faces whose activations set int8's ranges, by default
INT8_METHOD = (
    "onnxruntime static, QDQ, per-channel int8 weights in 7 bits (reduce_range), uint8 activations, MinMax"
)


def add_calibration_option(parser: argparse.ArgumentParser) -> None:
    """The --calibration option of the commands that quantise (export, requantize)."""
    parser.add_argument(
        "--calibration",
        type=_face_count,
        default=CALIBRATION_FACES,
        help=f"training faces to calibrate int8 on (default {CALIBRATION_FACES})",
    )


def _face_count(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError("needs at least 1 training face")
    return count


class FaceCalibration(CalibrationDataReader):
    """Feeds batches of grey faces (0-255) to the calibrator, which records each activation's range."""

    def __init__(self, faces: np.ndarray, input_name: str) -> None:
        self._batches: Iterator[np.ndarray] = (
            faces[start : start + CALIBRATION_BATCH, None].astype(np.float32)
            for start in range(0, len(faces), CALIBRATION_BATCH)
        )
        self._input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {self._input_name: batch}


def head_onward(model_path: Path) -> list[str]:
    """The layer feeding each Softmax and every node after it, to be kept in float.

    Quantised logits and probabilities lose precision for no speed: those nodes are tiny, and a uint8
    softmax output no longer sums to 1.
    """
    graph = onnx.load(str(model_path)).graph
    producers = {tensor: node for node in graph.node for tensor in node.output}
    softmaxes = [node for node in graph.node if node.op_type == "Softmax"]
    excluded = softmaxes + [producers[node.input[0]] for node in softmaxes if node.input[0] in producers]
    float_tensors = {tensor for node in excluded for tensor in node.output}
    for node in graph.node:  # the graph is stored in topological order
        if node not in excluded and float_tensors.intersection(node.input):
            excluded.append(node)
            float_tensors.update(node.output)
    return [node.name for node in excluded]


def quantize_int8(fp32_path: Path, int8_path: Path, calibration_faces: np.ndarray, input_name: str) -> None:
    """Write an int8 copy of `fp32_path`: uint8 activations, 7-bit per-channel int8 weights.

    The weights use 7 bits (`reduce_range`) so that the file reads faces the same on every x86 CPU. Without
    VNNI (AVX2, and AVX-512 without VNNI), ONNX Runtime's fused U8S8 kernels multiply with VPMADDUBSW, which
    adds two uint8 x int8 products into a saturating int16: 2 x 255 x 127 overflows it, 2 x 255 x 64 does
    not. On those CPUs the 8-bit file scored 64.9 % instead of 70.55 %; VNNI and ARM were unaffected.
    """
    with tempfile.TemporaryDirectory() as scratch:
        # Shape inference and graph cleanup first, as ONNX Runtime's quantisation guide asks.
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared))
        quantize_static(
            str(prepared),
            str(int8_path),
            FaceCalibration(calibration_faces, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            reduce_range=True,
            nodes_to_exclude=head_onward(prepared),
        )
