"""Measure an exported model for its card: its parameters, its accuracy as the service runs it, int8's cost.

Shared by `model.export` (which also needs torch), by `model.requantize` and `model.temperature` (which
do not, and rewrite an exported model and its card in place: `rewrite_parser`, `rewrite`), and by
`model.bench` (the shipped file's path, parameter counts).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    from onnx import load as load_onnx
    from onnx import numpy_helper
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None

from model.cpu import cpu_description
from model.data import DEFAULT_DATA, FaceSet, MalformedDataError
from model.evaluate import score
from model.quantize import INT8_METHOD, quantize_int8
from model.runtime import UnusableModelError, onnx_probabilities, open_session

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


def card_metrics(model_path: Path, test: FaceSet, data_path: Path) -> dict[str, Any]:
    """The card's `metrics`: the file's scores on `test` (the test split of `data_path`), run as the
    service runs it, and the CPU they were measured on."""
    report = score(onnx_probabilities(open_session(model_path), test.images), test.labels)
    metrics = {key: value for key, value in report.items() if key != "confusion_matrix"}
    return {"split": "test", "data": str(data_path), **metrics, "cpu": cpu_description()}


def quantize_and_measure(
    fp32_path: Path, int8_path: Path, splits: dict[str, FaceSet], calibration: int, data_path: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`fp32_path` quantised to `int8_path`, its activation ranges taken on `calibration` training faces;
    the int8 file's card metrics, and the card's account of quantisation (`int8`)."""
    faces = calibration_faces(splits["train"], calibration)
    quantize_int8(fp32_path, int8_path, faces, INPUT_NAME)
    metrics = card_metrics(int8_path, splits["test"], data_path)
    fp32_metrics = card_metrics(fp32_path, splits["test"], data_path)
    return metrics, int8_facts(metrics, fp32_metrics, len(faces))


def read_card(model_path: Path) -> dict[str, Any]:
    """The card beside an exported model (`emotion.json` beside `emotion.onnx`); `UnusableModelError` if it
    is missing or unreadable: a model rewritten without its labels and input size could not be served."""
    card_path = model_path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UnusableModelError(f"{card_path}: the model's card cannot be read: {error}") from None
    if not isinstance(card, dict) or "labels" not in card or "input_size" not in card:
        raise UnusableModelError(f"{card_path}: not a model card (no labels or input_size)")
    return card


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


def rewrite_parser(prog: str, doc: str | None, model_help: str, data_help: str) -> argparse.ArgumentParser:
    """The arguments of a command that rewrites an exported model and its card: the model, --out, --data."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL, help=model_help)
    parser.add_argument("--out", type=Path, help="where to write (default: over the model and its card)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=data_help)
    return parser


def rewrite(
    options: argparse.Namespace, rewriter: Callable[[Path, Path], dict[str, Any]]
) -> tuple[dict[str, Any], Path]:
    """`rewriter(model, out)` for a `rewrite_parser` command's options: the new card and where the model
    went; SystemExit with the reason for a missing or unusable model or data."""
    if not options.model.is_file():
        raise SystemExit(f"{options.model}: no such model file")
    out_path = options.out or options.model
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return rewriter(options.model, out_path), out_path
    except (FileNotFoundError, MalformedDataError, UnusableModelError) as error:
        raise SystemExit(str(error)) from error


def int8_facts(metrics: dict[str, Any], fp32_metrics: dict[str, Any], calibration: int) -> dict[str, Any]:
    """The card's account of quantisation: how, on how many faces, and what it cost in accuracy."""
    return {
        "method": INT8_METHOD,
        "calibration_faces": calibration,
        "fp32_accuracy": fp32_metrics["accuracy"],
        "accuracy_delta": metrics["accuracy"] - fp32_metrics["accuracy"],
    }
