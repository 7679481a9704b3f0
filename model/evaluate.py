"""Score an exported emotion model (ONNX) on a FER2013 split.

    python -m model.evaluate model/emotion.onnx ../shared/data/fer2013/fer2013.csv.gz
    python -m model.evaluate model/emotion.onnx faces/ --split test --out runs/eval

Prints a summary and writes report.json, confusion.json and confusion.png to --out. The split names are
the loader's: `train`, `test` (FER2013's PublicTest) and `private` for the CSV, the folder names otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from model.data import EMOTIONS, MalformedDataError, file_sha256, load_dataset
from model.extras import missing_extra
from model.runtime import UnusableModelError, onnx_probabilities, open_session

CALIBRATION_BINS = 15


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their face counts."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    bin_index = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for index in range(bins):
        in_bin = bin_index == index
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def confusion_counts(labels: np.ndarray, predicted: np.ndarray, classes: int = len(EMOTIONS)) -> np.ndarray:
    """Counts [true, predicted]."""
    counts = np.zeros((classes, classes), np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def score(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and calibration error."""
    predicted = probabilities.argmax(axis=1)
    counts = confusion_counts(labels, predicted)
    hits = np.diag(counts).astype(float)
    predicted_totals, true_totals = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(hits, predicted_totals, out=np.zeros_like(hits), where=predicted_totals > 0)
    recall = np.divide(hits, true_totals, out=np.zeros_like(hits), where=true_totals > 0)
    f1_denominator = precision + recall
    f1 = np.divide(2 * precision * recall, f1_denominator, out=np.zeros_like(hits), where=f1_denominator > 0)
    return {
        "faces": len(labels),
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": float(f1.mean()),
        "expected_calibration_error": expected_calibration_error(probabilities, labels),
        "calibration_bins": CALIBRATION_BINS,
        "mean_confidence": float(probabilities.max(axis=1).mean()),
        "per_class": {
            emotion: {
                "precision": float(precision[index]),
                "recall": float(recall[index]),
                "f1": float(f1[index]),
                "support": int(true_totals[index]),
            }
            for index, emotion in enumerate(EMOTIONS)
        },
        "confusion_matrix": {"labels": list(EMOTIONS), "counts_true_by_predicted": counts.tolist()},
    }


def plot_confusion(counts: np.ndarray, title: str, path: Path) -> None:
    """The confusion matrix as a picture: each row normalised to the true class, counts written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    true_totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, true_totals, out=np.zeros(counts.shape), where=true_totals > 0)
    figure, axes = plt.subplots(figsize=(7, 6), dpi=120)
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for row in range(len(counts)):
        for column in range(len(counts)):
            colour = "white" if share[row, column] > 0.5 else "black"
            text = f"{share[row, column]:.0%}\n{counts[row, column]}"
            axes.text(column, row, text, ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    axes.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="share of the true class")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def check_label_order(model_path: Path) -> None:
    """Refuse a model whose card lists its outputs in another order than ours (scores would be shuffled)."""
    card_path = model_path.with_suffix(".json")
    if card_path.exists():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedDataError(f"{card_path}: not a readable JSON card ({error})") from None
        if not isinstance(card, dict):
            raise MalformedDataError(f"{card_path}: a card is a JSON object, this is a {type(card).__name__}")
        labels = card.get("labels")
        if labels is not None and list(labels) != list(EMOTIONS):
            raise MalformedDataError(f"{card_path}: labels {labels} are not in the order {list(EMOTIONS)}")


def evaluate(model_path: Path, data_path: Path, split: str = "test") -> dict[str, Any]:
    """Score `model_path` on one split of a FER2013 CSV or image folder; the report.json contents."""
    check_label_order(model_path)
    splits, load_report = load_dataset(data_path)
    if split not in splits:
        raise MalformedDataError(f"{data_path}: no split {split!r}; it has {sorted(splits)}")
    faces = splits[split]
    probabilities = onnx_probabilities(open_session(model_path), faces.images)
    return {
        "model": str(model_path),
        "model_sha256": file_sha256(model_path),
        "data": str(data_path),
        "data_sha256": file_sha256(data_path) if data_path.is_file() else None,
        "split": split,
        "skipped_rows": len(load_report.skipped),
        **score(probabilities, faces.labels),
    }


def write_report(report: dict[str, Any], out_dir: Path) -> None:
    """report.json, confusion.json and confusion.png in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "confusion.json").write_text(json.dumps(report["confusion_matrix"], indent=2) + "\n")
    title = (
        f"{Path(report['model']).name} on {report['split']}: {report['accuracy']:.1%} of {report['faces']}"
    )
    try:
        plot_confusion(
            np.array(report["confusion_matrix"]["counts_true_by_predicted"]), title, out_dir / "confusion.png"
        )
    except ModuleNotFoundError as missing:  # the picture needs the train extra; the numbers do not
        print(f"confusion.png skipped: {missing_extra(missing)}", file=sys.stderr)


def summary(report: dict[str, Any]) -> str:
    lines = [
        f"{report['model']} on {report['data']} [{report['split']}], {report['faces']} faces",
        f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
        f"ECE {report['expected_calibration_error']:.4f}",
        f"{'emotion':<10}{'precision':>10}{'recall':>8}{'support':>9}",
    ]
    for emotion, row in report["per_class"].items():
        lines.append(f"{emotion:<10}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['support']:>9}")
    return "\n".join(lines)


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="an exported .onnx file")
    parser.add_argument("data", type=Path, help="a FER2013 CSV (.csv or .csv.gz) or an image folder")
    parser.add_argument("--split", default="test", help="which split to score (default: test = PublicTest)")
    parser.add_argument("--out", type=Path, default=Path("runs/eval"), help="where to write the report")
    options = parser.parse_args(arguments)
    if not options.model.is_file():
        raise SystemExit(f"{options.model}: no such model file")
    try:
        report = evaluate(options.model, options.data, options.split)
    except (FileNotFoundError, MalformedDataError, UnusableModelError) as error:
        raise SystemExit(str(error)) from error
    write_report(report, options.out)
    print(summary(report))
    print(f"wrote {options.out / 'report.json'} and confusion.json", file=sys.stderr)


if __name__ == "__main__":
    main()
