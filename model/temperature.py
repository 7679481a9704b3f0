"""Temperature scaling inside the graph, so that an exported model's confidence means what it says.

    python -m model.temperature model/emotion.onnx          # rewrites it and its card in place
    python -m model.temperature old.onnx --out new.onnx

One scalar is fitted on PublicTest by minimising the negative log-likelihood, and the graph's output
becomes softmax(log(p) / T). A temperature cannot change which emotion wins a face, so accuracy, the
per-class table and the confusion matrix stay as they were; only confidences move. Because T is fitted on
the split the card reports, the card's calibration error for it is cross-fitted: T fitted on one half of
PublicTest and the error measured on the other, both ways, averaged. Tempering a tempered file fits a
further factor over its current output and folds it into the same node, so the graph never stacks two.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    import onnx
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None
from onnx import helper, numpy_helper

from model.data import MalformedDataError, load_dataset
from model.evaluate import expected_calibration_error
from model.measure import OUTPUT_NAME, card_metrics, install, read_card, rewrite, rewrite_parser
from model.runtime import onnx_probabilities, open_session

INVERSE_TEMPERATURE = "inverse_temperature"  # the initializer that holds 1 / T
UNTEMPERED = "untempered_probabilities"  # what the graph's output was called before tempering
SEARCH_RANGE = (0.1, 10.0)  # inverse temperatures considered: from ten times softer to ten times sharper
CROSS_FIT_SEED = 0


def tempered(probabilities: np.ndarray, inverse_temperature: float) -> np.ndarray:
    """softmax(log(p) * inverse_temperature) per row: what the tempered graph computes."""
    logits = np.log(np.clip(probabilities.astype(np.float64), 1e-12, 1.0)) * inverse_temperature
    logits -= logits.max(axis=1, keepdims=True)
    exponentials = np.exp(logits)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())


def fit_inverse_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The 1 / T that minimises the negative log-likelihood of `labels` (convex in it: a golden-section
    search over its logarithm finds the minimum)."""

    def loss(log_inverse: float) -> float:
        return negative_log_likelihood(tempered(probabilities, math.exp(log_inverse)), labels)

    low, high = (math.log(bound) for bound in SEARCH_RANGE)
    ratio = (math.sqrt(5) - 1) / 2
    while high - low > 1e-5:
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if loss(left) < loss(right):
            high = right
        else:
            low = left
    return math.exp((low + high) / 2)


def cross_fitted_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The calibration error a temperature fitted on other faces leaves: two halves, each scored with the
    temperature fitted on the other, their errors averaged."""
    order = np.random.default_rng(CROSS_FIT_SEED).permutation(len(labels))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    errors = []
    for fitted_on, scored_on in (halves, halves[::-1]):
        inverse = fit_inverse_temperature(probabilities[fitted_on], labels[fitted_on])
        errors.append(
            expected_calibration_error(tempered(probabilities[scored_on], inverse), labels[scored_on])
        )
    return float(np.mean(errors))


def with_temperature(model: onnx.ModelProto, factor: float) -> float:
    """Multiply `model`'s inverse temperature by `factor` in place, adding the tempering nodes after its
    output if it has none; the inverse temperature it then has."""
    graph = model.graph
    existing = next((tensor for tensor in graph.initializer if tensor.name == INVERSE_TEMPERATURE), None)
    if existing is not None:
        inverse = float(numpy_helper.to_array(existing)) * factor
        existing.CopyFrom(numpy_helper.from_array(np.array(inverse, np.float32), INVERSE_TEMPERATURE))
        return inverse
    if [output.name for output in graph.output] != [OUTPUT_NAME]:
        raise MalformedDataError(f"the graph's output is not {OUTPUT_NAME!r}; not an export of model.export")
    for node in graph.node:
        node.output[:] = [UNTEMPERED if name == OUTPUT_NAME else name for name in node.output]
    graph.initializer.append(numpy_helper.from_array(np.array(factor, np.float32), INVERSE_TEMPERATURE))
    graph.node.extend(
        [
            helper.make_node("Log", [UNTEMPERED], ["log_probabilities"], name="temperature_log"),
            helper.make_node(
                "Mul", ["log_probabilities", INVERSE_TEMPERATURE], ["tempered_logits"], name="temperature"
            ),
            helper.make_node(
                "Softmax", ["tempered_logits"], [OUTPUT_NAME], axis=-1, name="temperature_softmax"
            ),
        ]
    )
    onnx.checker.check_model(model)
    return factor


def temper(model_path: Path, out_path: Path, data_path: Path) -> dict[str, Any]:
    """Fit a temperature for `model_path` on the test split, write the tempered model and its card to
    `out_path`; the new card."""
    card = read_card(model_path)
    splits, _ = load_dataset(data_path)
    if "test" not in splits:
        raise MalformedDataError(f"{data_path}: no test split to fit a temperature on")
    test = splits["test"]
    probabilities = onnx_probabilities(open_session(model_path), test.images)
    factor = fit_inverse_temperature(probabilities, test.labels)
    model = onnx.load(str(model_path))
    inverse = with_temperature(model, factor)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as scratch:
        tempered_path = Path(scratch) / "tempered.onnx"
        onnx.save(model, str(tempered_path))
        metrics = card_metrics(tempered_path, test, data_path)
        card.update(
            metrics=metrics,
            bytes=tempered_path.stat().st_size,
            temperature={
                "temperature": 1 / inverse,
                "fitted_on": "test",
                "faces": len(test.labels),
                "how": "one scalar minimising the negative log-likelihood; the output is softmax(log(p) / T)",
                "expected_calibration_error_before": expected_calibration_error(probabilities, test.labels),
                "expected_calibration_error_cross_fitted": cross_fitted_calibration_error(
                    probabilities, test.labels
                ),
            },
        )
        install(tempered_path, card, out_path)
    return card


def main(arguments: list[str] | None = None) -> None:
    parser = rewrite_parser(
        "python -m model.temperature", __doc__, "an .onnx from export", "FER2013, to fit on its test split"
    )
    options = parser.parse_args(arguments)
    card, out_path = rewrite(options, lambda model, out: temper(model, out, options.data))
    facts = card["temperature"]
    print(
        f"wrote {out_path}: temperature {facts['temperature']:.3f}; calibration error "
        f"{facts['expected_calibration_error_before']:.4f} before, "
        f"{facts['expected_calibration_error_cross_fitted']:.4f} after (cross-fitted), "
        f"test accuracy {card['metrics']['accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
