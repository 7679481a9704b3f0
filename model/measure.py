"""Measure an exported model for its card: its parameters, its accuracy as the service runs it, int8's cost.

Shared by `model.export` (which also needs torch) and `model.requantize` (which does not).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    from onnx import load as load_onnx
    from onnx import numpy_helper
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None

from model.data import FaceSet
from model.evaluate import onnx_probabilities, open_session, score
from model.quantize import INT8_METHOD
from service.vision.kernels import cpu_description

DEFAULT_MODEL = Path(__file__).with_name("emotion.onnx")
INPUT_NAME, OUTPUT_NAME = "grey_levels", "probabilities"
WEIGHTED_OPS = {"Conv", "Gemm", "MatMul", "ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul"}


def parameter_count(model_path: Path) -> int:
    """Learned numbers in the graph: the weights and biases of its conv and linear layers.

    Batch norm is folded into the convs on export, and in an int8 graph a weight is an int8 initializer
    behind a DequantizeLinear node; both are counted once, quantisation scales are not.
    """
    graph = load_onnx(str(model_path)).graph
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


def calibration_faces(train: FaceSet, count: int, seed: int = 0) -> np.ndarray:
    """`count` training faces drawn at random, for int8 activation ranges."""
    chosen = np.random.default_rng(seed).choice(len(train), size=min(count, len(train)), replace=False)
    return train.images[np.sort(chosen)]


def measured_metrics(model_path: Path, test: FaceSet) -> dict[str, Any]:
    """The file's scores on `test`, run as the service runs it, and the CPU they were measured on."""
    report = score(onnx_probabilities(open_session(model_path), test.images), test.labels)
    metrics = {key: value for key, value in report.items() if key != "confusion_matrix"}
    return {**metrics, "cpu": cpu_description()}


def install(model_path: Path, card: dict[str, Any], out_path: Path) -> None:
    """Move a finished model (in a scratch folder beside `out_path`) and its card into place.

    The card is written in full beside the model first and both are then renamed over the old pair, so
    that an interruption never leaves a truncated card: the service refuses a model whose card it cannot
    read.
    """
    card_path = model_path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    model_path.replace(out_path)
    card_path.replace(out_path.with_suffix(".json"))


def int8_facts(metrics: dict[str, Any], fp32_metrics: dict[str, Any], calibration: int) -> dict[str, Any]:
    """The card's account of quantisation: how, on how many faces, and what it cost in accuracy."""
    return {
        "method": INT8_METHOD,
        "calibration_faces": calibration,
        "fp32_accuracy": fp32_metrics["accuracy"],
        "accuracy_delta": metrics["accuracy"] - fp32_metrics["accuracy"],
    }
