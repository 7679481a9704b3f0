"""The poster's four systems, retrained and scored on the same split as our model (Training -> PublicTest).

    python -m model.baselines                                   # the three cheap ones
    python -m model.baselines --systems poster_cnn --epochs 20  # the poster's CNN (hours on two cores)

Results are merged into --out (default model/baselines.json) one system at a time, so the systems can be
run on different days. Each result says how many epochs ran; accuracy is the last epoch's, never the best
one picked on PublicTest. As in the poster, every Training row is used, without augmentation.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    import torch
    import torch.nn.functional as F
    from sklearn.tree import DecisionTreeClassifier
    from torch import nn
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None

from model.data import (
    DEFAULT_DATA,
    EMOTIONS,
    FACE_SIDE,
    FaceSet,
    MalformedDataError,
    file_sha256,
    load_dataset,
)
from model.evaluate import score
from model.inference import predict, to_tensor

DEFAULT_OUT = Path(__file__).with_name("baselines.json")
BATCH_SIZE = 128
LEARNING_RATE = 1e-3


def feed_forward() -> nn.Module:
    """Pixels straight into two hidden layers."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(FACE_SIDE * FACE_SIDE, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, len(EMOTIONS)),
    )


def simple_cnn() -> nn.Module:
    """Two conv-pool stages and a small dense head."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (FACE_SIDE // 4) ** 2, 128),
        nn.ReLU(),
        nn.Linear(128, len(EMOTIONS)),
    )


def poster_block(in_channels: int, out_channels: int, kernel: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
    ]


def poster_cnn() -> nn.Module:
    """The poster's plain CNN: four conv blocks (64 5x5, then 128, 512, 512 3x3) and dense 256 and 512."""
    return nn.Sequential(
        *poster_block(1, 64, 5),
        *poster_block(64, 128, 3),
        *poster_block(128, 512, 3),
        *poster_block(512, 512, 3),
        nn.Flatten(),
        nn.Linear(512 * (FACE_SIDE // 16) ** 2, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(256, 512),
        nn.BatchNorm1d(512),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(512, len(EMOTIONS)),
    )


@dataclass(frozen=True)
class System:
    """One row of the poster's table."""

    description: str
    poster_accuracy: float
    build: Callable[[], nn.Module] | None  # None: the decision tree, which is not a torch net


SYSTEMS = {
    "feed_forward": System("feed-forward net, 2304-256-128-7, Adam", 0.174, feed_forward),
    "simple_cnn": System("simple CNN, conv 32 and 64 with pooling, dense 128, Adam", 0.247, simple_cnn),
    "decision_tree": System("decision tree (scikit-learn defaults) on raw pixels", 0.308, None),
    "poster_cnn": System(
        "the poster's CNN: 4 conv blocks with BN and dropout, 2 dense, Adam", 0.605, poster_cnn
    ),
}
CHEAP_SYSTEMS = ["decision_tree", "feed_forward", "simple_cnn"]


def train_net(
    net: nn.Module, train: FaceSet, test: FaceSet, epochs: int
) -> tuple[np.ndarray, list[float], float]:
    """Adam at batch 128 for `epochs`: the last epoch's test probabilities, each epoch's accuracy, seconds."""
    faces, labels = to_tensor(train.images) / 255, torch.from_numpy(train.labels)
    test_faces = to_tensor(test.images) / 255
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    accuracy_by_epoch, started = [], time.monotonic()
    for epoch in range(epochs):
        net.train()
        for index in torch.randperm(len(train)).split(BATCH_SIZE):
            loss = F.cross_entropy(net(faces[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        probabilities = predict(net, test_faces)
        accuracy_by_epoch.append(float((probabilities.argmax(1) == test.labels).mean()))
        print(f"  epoch {epoch + 1}/{epochs}: PublicTest {accuracy_by_epoch[-1]:.4f}", file=sys.stderr)
    return probabilities, accuracy_by_epoch, time.monotonic() - started


def run_system(name: str, train: FaceSet, test: FaceSet, epochs: int, seed: int) -> dict[str, Any]:
    """Train one system from scratch and score it on the test split."""
    system = SYSTEMS[name]
    torch.manual_seed(seed)
    result: dict[str, Any] = {"description": system.description, "poster_accuracy": system.poster_accuracy}
    if system.build is None:
        started = time.monotonic()
        tree = DecisionTreeClassifier(random_state=seed).fit(
            train.images.reshape(len(train), -1), train.labels
        )
        probabilities = tree.predict_proba(test.images.reshape(len(test), -1))
        result |= {"train_seconds": time.monotonic() - started, "tree_depth": int(tree.get_depth())}
    else:
        net = system.build()
        probabilities, accuracy_by_epoch, seconds = train_net(net, train, test, epochs)
        result |= {
            "epochs_run": epochs,
            "accuracy_by_epoch": accuracy_by_epoch,
            "train_seconds": seconds,
            "parameters": sum(parameter.numel() for parameter in net.parameters()),
        }
    scores = score(probabilities, test.labels)
    return result | {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "train_seconds": round(result["train_seconds"], 1),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average_1min": os.getloadavg()[0],
    }


def merge_results(out_path: Path, data_path: Path, new: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Add `new` to the results already in `out_path` (a system run again replaces its old row)."""
    results = json.loads(out_path.read_text()) if out_path.exists() else {"systems": {}}
    results |= {
        "split": "FER2013 Training -> PublicTest",
        "data_sha256": file_sha256(data_path) if data_path.is_file() else None,
        "hardware": f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads",
    }
    results["systems"] |= new
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.baselines", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER2013 CSV or folder")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=CHEAP_SYSTEMS)
    parser.add_argument("--epochs", type=int, default=20, help="epochs for the nets (the poster ran 20)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON, merged into if present")
    options = parser.parse_args(arguments)
    if options.epochs < 1:
        raise SystemExit("--epochs must be at least 1")
    try:
        splits, _ = load_dataset(options.data)
    except (FileNotFoundError, MalformedDataError) as error:
        raise SystemExit(str(error)) from error
    if "train" not in splits or "test" not in splits:
        raise SystemExit(f"{options.data}: needs a training and a test split, found {sorted(splits)}")
    new = {}
    for name in options.systems:
        print(f"{name}: training on {len(splits['train'])} faces", file=sys.stderr)
        new[name] = run_system(name, splits["train"], splits["test"], options.epochs, options.seed)
        merge_results(options.out, options.data, {name: new[name]})
    print(f"{'system':<15}{'ours':>8}{'poster':>8}  epochs")
    for name, result in new.items():
        epochs = result.get("epochs_run", "-")
        print(f"{name:<15}{result['accuracy']:>8.1%}{result['poster_accuracy']:>8.1%}  {epochs}")
    print(f"merged into {options.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
