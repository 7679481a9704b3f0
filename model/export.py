"""Export a training checkpoint to the artefact the service runs: emotion.onnx and its card, emotion.json.

    python -m model.export                                   # runs/vgg/last.pt -> model/emotion.onnx
    python -m model.export --checkpoint runs/vgg50/last.pt --flip-average
    python -m model.export --int8 --calibration 1000
    python -m model.export --checkpoint runs/a/last.pt --checkpoint runs/b/last.pt --flip-average --int8

The contract: one float32 input [N, 1, 48, 48] of raw grey levels 0-255 (normalisation is inside the graph),
one output [N, 7] of probabilities in the order of the card's `labels`. The card's metrics are measured by
running the exported file itself on the data's test split (FER2013's PublicTest).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from model.extras import missing_extra  # first: it reports the imports below

try:
    import torch
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None

from model.checkpoints import CHECKPOINT_FILE, CheckpointError, load_checkpoint
from model.cpu import machine_description
from model.data import EMOTIONS, FACE_SIDE, MalformedDataError, load_dataset
from model.measure import (
    DEFAULT_MODEL,
    INPUT_NAME,
    OUTPUT_NAME,
    card_metrics,
    install,
    parameter_count,
    quantize_and_measure,
)
from model.net import ProbabilityModel
from model.quantize import add_calibration_option
from model.train import config as train_config

DEFAULT_CHECKPOINT = Path(train_config["out_dir"]) / CHECKPOINT_FILE
DEFAULT_OUT = DEFAULT_MODEL
MAX_MODEL_BYTES = 5_000_000


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    """Write `model` as one self-contained ONNX file with a dynamic batch dimension and batch norm folded."""
    example = torch.zeros(2, 1, FACE_SIDE, FACE_SIDE)
    # torch.export's own deprecations and its note that torchvision's ops are skipped: not ours to act on.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            model.eval(),
            (example,),
            str(path),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: torch.export.Dim("batch")},),  # by position: forward's argument name may vary
            optimize=True,
            external_data=False,
            verbose=False,
        )


def training_hardware(device: str, facts: dict[str, Any]) -> str:
    """What trained the checkpoint, as `model.train` recorded it; a checkpoint from before it did was taken
    to be trained on this host, and says so."""
    if facts.get("hardware"):
        return str(facts["hardware"])
    on_gpu = device.startswith("cuda") and torch.cuda.is_available()
    return f"{machine_description(torch.cuda.get_device_name(0) if on_gpu else None)} (this host)"


def member_card(checkpoint_path: Path, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """How one of the exported nets was trained: its config, commit, time and hardware."""
    facts = checkpoint.get("facts", {})
    return {
        "checkpoint": str(checkpoint_path),
        "commit": facts.get("git_commit"),  # model.train records the commit it ran at
        "config": checkpoint["config"],
        "training": {
            "epochs": checkpoint["epoch"],
            "planned_epochs": checkpoint["config"].get("epochs"),
            "planned_averaged_epochs": checkpoint["config"].get("swa_epochs", 0),
            "weights": averaged_weights(checkpoint),
            "seconds": round(checkpoint["train_seconds"], 1),
            "device": checkpoint.get("device"),
            "hardware": training_hardware(str(checkpoint.get("device", "cpu")), facts),
            "facts": facts,
            "last_epoch_metrics": checkpoint.get("metrics"),
        },
    }


def averaged_weights(checkpoint: dict[str, Any]) -> str:
    """Which weights the export took: the last epoch's, or the average over the SWA epochs."""
    if "averaged_net" not in checkpoint:
        return "last epoch"
    return f"averaged over the last {int(checkpoint['averaged']['n_averaged'])} epochs (SWA)"


def shared_data_checksum(checkpoints: list[dict[str, Any]]) -> str | None:
    """The checksum of the data every net was trained on; nets trained on different data do not mix."""
    checksums = {checkpoint.get("facts", {}).get("data_sha256") for checkpoint in checkpoints}
    if len(checksums) > 1:
        raise CheckpointError("the checkpoints were trained on different data; export them separately")
    return checksums.pop()


def build_card(
    members: list[dict[str, Any]],
    data_sha256: str | None,
    model_path: Path,
    metrics: dict[str, Any],
    flip_average: bool,
    int8: dict[str, Any] | None,
) -> dict[str, Any]:
    """emotion.json: the contract the service relies on, then how the model was made and how well it does."""
    return {
        "labels": list(EMOTIONS),
        "input_size": [FACE_SIDE, FACE_SIDE],
        "input": {
            "name": INPUT_NAME,
            "dtype": "float32",
            "shape": ["N", 1, FACE_SIDE, FACE_SIDE],
            "range": [0, 255],
        },
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": ["N", len(EMOTIONS)], "sums_to": 1},
        "flip_average": flip_average,
        "int8": int8,
        "bytes": model_path.stat().st_size,
        "parameters": parameter_count(model_path),
        "metrics": metrics,
        "data_sha256": data_sha256,
        "members": members,  # the output is the mean of these nets' probabilities
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def export(
    checkpoint_paths: list[Path],
    out_path: Path,
    data_path: Path | None = None,
    flip_average: bool = False,
    int8_calibration: int = 0,
) -> dict[str, Any]:
    """Export one net or the mean of several, optionally quantise, measure on the test split, write the
    .onnx and its .json card.

    `data_path` defaults to the data the first checkpoint was trained on.
    """
    loaded = [load_checkpoint(path) for path in checkpoint_paths]
    checkpoints = [checkpoint for _, checkpoint in loaded]
    data_sha256 = shared_data_checksum(checkpoints)
    data_path = data_path or Path(checkpoints[0]["config"]["data"])
    splits, _ = load_dataset(data_path)
    if "test" not in splits:
        raise MalformedDataError(f"{data_path}: no test split to measure the exported model on")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as scratch:
        fp32_path = Path(scratch) / "fp32.onnx"
        export_onnx(ProbabilityModel([net for net, _ in loaded], flip_average), fp32_path)
        model_path, int8 = fp32_path, None
        if int8_calibration:
            if "train" not in splits:
                raise MalformedDataError(f"{data_path}: no training split to calibrate int8 on")
            model_path = Path(scratch) / "int8.onnx"
            metrics, int8 = quantize_and_measure(fp32_path, model_path, splits, int8_calibration, data_path)
        else:
            metrics = card_metrics(model_path, splits["test"], data_path)
        members = [
            member_card(path, checkpoint)
            for path, checkpoint in zip(checkpoint_paths, checkpoints, strict=True)
        ]
        card = build_card(members, data_sha256, model_path, metrics, flip_average, int8)
        install(model_path, card, out_path)
    return card


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.export", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        help=f"a last.pt from model.train (default {DEFAULT_CHECKPOINT}); "
        "give several to export their ensemble, the mean of their probabilities",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="the .onnx to write (its card goes beside it)"
    )
    parser.add_argument(
        "--data", type=Path, help="FER2013 to measure on (default: the checkpoint's training data)"
    )
    parser.add_argument(
        "--flip-average", action="store_true", help="average with the mirrored face in the graph"
    )
    parser.add_argument("--int8", action="store_true", help="quantise to int8 (static, QDQ, per-channel)")
    add_calibration_option(parser)
    options = parser.parse_args(arguments)
    checkpoints = options.checkpoint or [DEFAULT_CHECKPOINT]
    for checkpoint in checkpoints:
        if not checkpoint.is_file():
            raise SystemExit(f"{checkpoint}: no such checkpoint (train one with python -m model.train)")
    if options.out.suffix != ".onnx":
        raise SystemExit(f"--out {options.out}: must end in .onnx")
    try:
        card = export(
            checkpoints,
            options.out,
            options.data,
            options.flip_average,
            options.calibration * options.int8,
        )
    except (FileNotFoundError, MalformedDataError, CheckpointError) as error:
        raise SystemExit(str(error)) from error
    metrics = card["metrics"]
    print(
        f"wrote {options.out} ({card['bytes'] / 1e6:.2f} MB, {card['parameters']:,} parameters) and its card;"
        f" {len(checkpoints)} net(s), test accuracy {metrics['accuracy']:.4f},"
        f" macro-F1 {metrics['macro_f1']:.4f}"
    )
    if card["int8"]:
        print(f"int8 changed test accuracy by {card['int8']['accuracy_delta'] * 100:+.2f} points")
    if card["bytes"] > MAX_MODEL_BYTES:
        print(f"warning: the model is over {MAX_MODEL_BYTES / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
