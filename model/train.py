"""Train the emotion CNN on FER2013.

    python -m model.train                        # the default recipe below
    python -m model.train --epochs=3 --out_dir=runs/try
    python -m model.train --out_dir=runs/vgg --resume

Every value in `config` can be overridden as --name=value. A checkpoint is written after every epoch;
--resume continues from it. Metrics go to <out_dir>/metrics.jsonl, one JSON object per epoch.
"""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from model.augment import random_affine, random_erase
from model.data import FaceSet, file_sha256, load_dataset, load_ferplus_votes
from model.net import EmotionNet, ProbabilityModel

config: dict[str, Any] = dict(
    data="../shared/data/fer2013/fer2013.csv.gz",
    ferplus="../shared/data/fer2013/fer2013new.csv.gz",  # used only to drop non-faces; "" to skip
    out_dir="runs/vgg",
    widths=(32, 64, 128, 256),
    dropout=0.2,
    epochs=50,
    batch_size=128,
    max_lr=0.1,
    momentum=0.9,
    weight_decay=5e-4,
    label_smoothing=0.1,
    rotate_degrees=10.0,
    scale=0.1,
    shift=0.1,
    erase_probability=0.5,
    erase_max_area=0.25,
    seed=1337,
    limit=0,  # train on only the first `limit` faces (0 = all); for smoke tests
)


def parse_overrides(arguments: list[str], defaults: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Apply --name=value overrides (typed like the default) and report whether --resume was given."""
    settings, resume = dict(defaults), False
    for argument in arguments:
        if argument in ("-h", "--help"):
            defaults_text = "\n".join(f"  --{name}={value!r}" for name, value in defaults.items())
            print(f"{__doc__}\nOptions and their defaults:\n{defaults_text}")
            raise SystemExit(0)
        if argument == "--resume":
            resume = True
            continue
        name, separator, text = argument.removeprefix("--").partition("=")
        if not argument.startswith("--") or not separator or name not in settings:
            raise SystemExit(
                f"unknown option {argument!r}; options: --resume, " + ", ".join(f"--{k}=" for k in settings)
            )
        default = settings[name]
        try:
            settings[name] = text if isinstance(default, str) else type(default)(ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError) as error:
            raise SystemExit(f"--{name}: {text!r} is not a {type(default).__name__}") from error
    return settings, resume


def git_commit() -> str | None:
    """The commit the training code is at, recorded so the exported card can name it."""
    found = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,  # this code's repository, wherever training is started from
    )
    return found.stdout.strip() or None


def prepare_faces(settings: dict[str, Any]) -> tuple[FaceSet, FaceSet, dict[str, Any]]:
    """Training and PublicTest faces, with blank images and FER+ non-faces left out of training."""
    data_path = Path(settings["data"])
    splits, report = load_dataset(data_path)
    if "train" not in splits or "test" not in splits:
        raise SystemExit(f"{data_path}: needs both a training and a test split, found {sorted(splits)}")
    train, test = splits["train"], splits["test"]
    keep = train.images.reshape(len(train), -1).std(axis=1) >= 1.0
    ferplus_path = Path(settings["ferplus"]) if settings["ferplus"] else None
    if ferplus_path and ferplus_path.exists() and data_path.is_file():
        _, is_face = load_ferplus_votes(ferplus_path)
        keep &= is_face[train.rows - 2]  # CSV row 2 is data row 0
    facts = {
        "data_sha256": file_sha256(data_path) if data_path.is_file() else None,
        "skipped_rows": len(report.skipped),
        "dropped_training_faces": int((~keep).sum()),
        "git_commit": git_commit(),
    }
    train = train.subset(keep)
    if settings["limit"]:
        train = train.subset(np.arange(min(settings["limit"], len(train))))
    return train, test, facts


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().unsqueeze(1)


@torch.no_grad()
def predict(
    net: torch.nn.Module, faces: torch.Tensor, batch_size: int = 512, flip: bool = False
) -> np.ndarray:
    """Softmax probabilities for every face, optionally averaged with the mirrored face (as exported)."""
    model = ProbabilityModel([net], flip_average=flip).eval()
    outputs = [
        model(faces[start : start + batch_size].contiguous(memory_format=torch.channels_last))
        for start in range(0, len(faces), batch_size)
    ]
    return torch.cat(outputs).numpy()


def train(settings: dict[str, Any], resume: bool) -> Path:
    out_dir = Path(settings["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / "last.pt"
    torch.manual_seed(settings["seed"])
    np.random.seed(settings["seed"])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set, test_set, facts = prepare_faces(settings)
    train_faces, train_labels = to_tensor(train_set.images), torch.from_numpy(train_set.labels)
    test_faces = to_tensor(test_set.images)

    net = EmotionNet(tuple(settings["widths"]), dropout=settings["dropout"]).to(device)
    # Documented in torch, missing from its type stubs.
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.SGD(
        net.parameters(),
        lr=settings["max_lr"],
        momentum=settings["momentum"],
        weight_decay=settings["weight_decay"],
        nesterov=True,
    )
    steps_per_epoch = math.ceil(len(train_set) / settings["batch_size"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings["max_lr"], epochs=settings["epochs"], steps_per_epoch=steps_per_epoch
    )
    first_epoch, seconds_so_far = 0, 0.0
    if resume and checkpoint_path.exists():
        checkpoint = torch.load(checkpoint_path, map_location=device, weights_only=False)
        net.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        torch.set_rng_state(checkpoint["rng"])
        first_epoch, seconds_so_far = checkpoint["epoch"], checkpoint["train_seconds"]
        print(f"resumed from {checkpoint_path} after epoch {first_epoch}", file=sys.stderr)

    for epoch in range(first_epoch, settings["epochs"]):
        started = time.monotonic()
        net.train()
        order = torch.randperm(len(train_set))
        loss_sum, correct = 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{settings['epochs']}", file=sys.stderr)
        for step in bar:
            index = order[step * settings["batch_size"] : (step + 1) * settings["batch_size"]]
            faces = random_affine(
                train_faces[index].to(device),
                settings["rotate_degrees"],
                settings["scale"],
                settings["shift"],
            )
            faces = random_erase(faces, settings["erase_probability"], settings["erase_max_area"])
            labels = train_labels[index].to(device)
            logits = net(faces.contiguous(memory_format=torch.channels_last))
            loss = F.cross_entropy(logits, labels, label_smoothing=settings["label_smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(index)
            correct += int((logits.argmax(1) == labels).sum())
            bar.set_postfix(loss=f"{loss.item():.3f}")
        bar.close()

        probabilities = predict(net, test_faces.to(device))
        probabilities_flip = predict(net, test_faces.to(device), flip=True)
        seconds_so_far += time.monotonic() - started
        metrics = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / len(train_set),
            "train_accuracy": correct / len(train_set),
            "val_accuracy": float((probabilities.argmax(1) == test_set.labels).mean()),
            "val_accuracy_flip": float((probabilities_flip.argmax(1) == test_set.labels).mean()),
            "lr": scheduler.get_last_lr()[0],
            "train_seconds": round(seconds_so_far, 1),
        }
        with (out_dir / "metrics.jsonl").open("a") as log:
            log.write(json.dumps(metrics) + "\n")
        remaining = (settings["epochs"] - epoch - 1) * seconds_so_far / (epoch + 1 - first_epoch or 1)
        print(
            f"epoch {epoch + 1}: val {metrics['val_accuracy']:.4f} "
            f"(flip {metrics['val_accuracy_flip']:.4f}), "
            f"about {remaining / 60:.0f} min left",
            file=sys.stderr,
        )
        checkpoint = {
            "model": net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
            "epoch": epoch + 1,
            "train_seconds": seconds_so_far,
            "config": settings,
            "facts": facts,
            "metrics": metrics,
            "device": str(device),
        }
        torch.save(checkpoint, out_dir / "last.pt.tmp")
        (out_dir / "last.pt.tmp").replace(checkpoint_path)
    return checkpoint_path


def main(arguments: list[str] | None = None) -> None:
    settings, resume = parse_overrides(sys.argv[1:] if arguments is None else arguments, config)
    if not Path(settings["data"]).exists():
        raise SystemExit(f"{settings['data']}: training data not found (set --data=PATH)")
    print(json.dumps(settings), file=sys.stderr)
    train(settings, resume)


if __name__ == "__main__":
    main()
