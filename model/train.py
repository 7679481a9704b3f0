"""Train the emotion CNN on FER2013.

    python -m model.train                        # the default recipe below
    python -m model.train --epochs=3 --out_dir=runs/try
    python -m model.train --out_dir=runs/vgg --resume
    python -m model.train --out_dir=runs/student --teacher=model/emotion.onnx --teacher_weight=0.5
    python -m model.train --out_dir=runs/swa --epochs=100 --swa_epochs=50 --resume  # a finished run, averaged

Every value in `config` can be overridden as --name=value. A checkpoint is written after every epoch;
--resume continues from it (with the checkpoint's recipe: a resumed run refuses a different one).
Metrics go to <out_dir>/metrics.jsonl, one JSON object per epoch.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    import torch
    import torch.nn.functional as F
    from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
    from tqdm import tqdm
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None

from model.augment import mixup, random_affine, random_erase, random_lighting
from model.checkpoints import CHECKPOINT_FILE, keep_metrics, restore, save_checkpoint, saved_run
from model.cpu import machine_description
from model.data import DEFAULT_DATA, DEFAULT_FERPLUS, MalformedDataError
from model.inference import predict_with_mirrors, to_tensor
from model.net import EmotionNet, net_for
from model.options import apply_overrides
from model.runtime import UnusableModelError
from model.targets import prepare_faces

config: dict[str, Any] = dict(
    # data
    data=str(DEFAULT_DATA),  # FER2013 CSV or image folder; PublicTest validates
    ferplus=str(DEFAULT_FERPLUS),  # FER+ votes: drop non-faces, soft targets; "" skips
    out_dir="runs/vgg",  # last.pt and metrics.jsonl go here
    limit=0,  # train on only the first `limit` faces (0 = all); for smoke tests
    # the net
    widths=(32, 64, 128, 256),  # channels of the four conv blocks
    dropout=0.2,  # before the linear head
    residual=False,  # blocks 2-4 residual with squeeze-excitation (model.net.ResidualBlock), not plain VGG
    # optimisation: SGD with Nesterov momentum under a one-cycle learning rate
    epochs=50,
    batch_size=128,
    max_lr=0.1,  # the one-cycle peak
    momentum=0.9,
    weight_decay=5e-4,
    # stochastic weight averaging after the one-cycle: this many more epochs at a constant learning rate
    # (reached over the first of them), the weights averaged at the end of each; the average is what a run
    # yields, its batch-norm statistics measured afresh on augmented training batches. 0 = none
    swa_epochs=0,
    swa_lr=0.01,
    # targets: the label, smoothed, mixed with a teacher's probabilities and the FER+ votes
    label_smoothing=0.1,  # share of the label's mass spread evenly over all classes
    teacher="",  # an exported .onnx whose probabilities on the training faces become soft targets
    teacher_weight=0.0,  # share of each target taken from the teacher
    ferplus_weight=0.0,  # share taken from the FER+ vote distribution (faces without votes are dropped)
    # augmentation, per batch
    rotate_degrees=10.0,
    scale=0.1,  # zoom by up to ±10 %
    shift=0.1,  # shift by up to ±10 % of the side
    erase_probability=0.5,  # share of faces with one rectangle replaced by noise
    erase_max_area=0.25,  # largest erased share of the face
    contrast=0.0,  # scale contrast by up to ±this
    brightness=0.0,  # shift grey levels by up to ±this share of 255
    gamma=0.0,  # gamma between 1/(1+this) and 1+this
    mixup=0.0,  # Beta(this, this) share of mixup between pairs of faces and their targets; 0 = none
    seed=1337,
    # arithmetic: "bf16" runs the net's forward pass under bfloat16 autocast (weights, optimiser state and
    # the loss stay float32), about twice as fast on CPUs with AMX or AVX-512 BF16 and on recent GPUs
    precision="fp32",
)
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}


def parse_overrides(arguments: list[str], defaults: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Apply --name=value overrides (typed like the default) and report whether --resume was given."""
    settings, flags = apply_overrides(arguments, defaults, usage=__doc__, flags=("--resume",))
    if settings["epochs"] < 1 or settings["batch_size"] < 1:
        raise SystemExit("--epochs and --batch_size must be at least 1")
    if settings["swa_epochs"] < 0 or settings["swa_lr"] <= 0:
        raise SystemExit("--swa_epochs must not be negative and --swa_lr must be above 0")
    if settings["teacher_weight"] + settings["ferplus_weight"] > 1:
        raise SystemExit("--teacher_weight and --ferplus_weight together must not exceed 1")
    if settings["teacher_weight"] > 0 and not settings["teacher"]:
        raise SystemExit("--teacher_weight needs --teacher=MODEL.onnx")
    if settings["precision"] not in PRECISIONS:
        raise SystemExit(f"--precision takes {' or '.join(PRECISIONS)}, not {settings['precision']!r}")
    return settings, "--resume" in flags


def git_commit() -> str | None:
    """The commit the training code is at, recorded so the exported card can name it."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent,  # this code's repository, wherever training is started from
        )
    except OSError:  # no git on this machine (a device machine gets the files, not the history)
        return None
    return found.stdout.strip() or None


def augment(faces: torch.Tensor, settings: dict[str, Any]) -> torch.Tensor:
    """One batch's augmentation: geometry, light, then an erased patch."""
    faces = random_affine(faces, settings["rotate_degrees"], settings["scale"], settings["shift"])
    if settings["contrast"] or settings["brightness"] or settings["gamma"]:
        faces = random_lighting(faces, settings["contrast"], settings["brightness"], settings["gamma"])
    return random_erase(faces, settings["erase_probability"], settings["erase_max_area"])


def train(settings: dict[str, Any], resume: bool) -> Path:
    out_dir = Path(settings["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path, metrics_path = out_dir / CHECKPOINT_FILE, out_dir / "metrics.jsonl"
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    checkpoint = saved_run(checkpoint_path, settings, config, resume, device)
    keep_metrics(metrics_path, checkpoint["epoch"] if checkpoint else 0)
    torch.manual_seed(settings["seed"])
    np.random.seed(settings["seed"])

    train_set, test_set, targets, facts = prepare_faces(settings)
    facts["git_commit"] = git_commit()
    gpu_name = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    facts["hardware"] = machine_description(gpu_name)  # the card names it, wherever the export runs
    train_faces, train_targets = to_tensor(train_set.images), torch.from_numpy(targets)
    train_labels = torch.from_numpy(train_set.labels)
    test_faces = to_tensor(test_set.images).to(device)
    steps_per_epoch = epoch_steps(len(train_set), settings["batch_size"])
    net, optimizer, one_cycle = training_parts(settings, steps_per_epoch, device)
    averaged = AveragedModel(net) if settings["swa_epochs"] else None
    first_epoch, seconds_so_far = 0, 0.0
    if checkpoint is not None:
        first_epoch, seconds_so_far = restore(checkpoint, net, optimizer, one_cycle, device)
        if averaged is not None and "averaged" in checkpoint:
            averaged.load_state_dict(checkpoint["averaged"])
        print(f"resumed from {checkpoint_path} after epoch {first_epoch}", file=sys.stderr)

    scheduler: torch.optim.lr_scheduler.LRScheduler = one_cycle
    total_epochs = settings["epochs"] + settings["swa_epochs"]
    for epoch in range(first_epoch, total_epochs):
        started = time.monotonic()
        averaging = averaged if epoch >= settings["epochs"] else None
        if averaging is not None and scheduler is one_cycle:
            # Made when averaging begins (making it moves the learning rate), and again on a resume; after
            # its first epoch it holds swa_lr whatever it starts from.
            scheduler = SWALR(optimizer, swa_lr=settings["swa_lr"], anneal_epochs=steps_per_epoch)
        loss_sum, predicted = train_epoch(
            net, optimizer, scheduler, train_faces, train_targets, epoch, settings
        )
        if averaging is not None:
            averaging.update_parameters(net)
        final_average = averaging.module if averaging is not None and epoch + 1 == total_epochs else None
        if final_average is not None:
            settle_norms(final_average, train_faces, settings)
        seconds_so_far += time.monotonic() - started
        metrics = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / len(train_set),
            # of the augmented (and mixed) faces, against their labels
            "train_accuracy": float((predicted == train_labels).float().mean()),
            **validation_accuracy(net, test_faces, test_set.labels, PRECISIONS[settings["precision"]]),
            "lr": scheduler.get_last_lr()[0],
            "precision": settings["precision"],  # per epoch: a resumed run may change it
            "train_seconds": round(seconds_so_far, 1),
        }
        if final_average is not None:
            accuracy = validation_accuracy(
                final_average, test_faces, test_set.labels, PRECISIONS[settings["precision"]]
            )
            metrics |= {f"averaged_{name}": value for name, value in accuracy.items()}
        report_epoch(metrics_path, metrics, total_epochs)
        state: dict[str, Any] = {"model": net, "optimizer": optimizer, "scheduler": one_cycle}
        if averaged is not None:
            state["averaged"] = averaged
        if final_average is not None:
            state["averaged_net"] = final_average  # what export takes, in place of "model"
        save_checkpoint(checkpoint_path, state, epoch + 1, seconds_so_far, settings, facts, metrics, device)
    return checkpoint_path


def report_epoch(metrics_path: Path, metrics: dict[str, Any], total_epochs: int) -> None:
    """Append the epoch's metrics to the run's log and say on stderr how it went and how long is left."""
    with metrics_path.open("a") as log:
        log.write(json.dumps(metrics) + "\n")
    done = metrics["epoch"]
    remaining = (total_epochs - done) * metrics["train_seconds"] / done
    print(
        f"epoch {done}: val {metrics['val_accuracy']:.4f} "
        f"(flip {metrics['val_accuracy_flip']:.4f}), about {remaining / 60:.0f} min left",
        file=sys.stderr,
    )


def training_parts(
    settings: dict[str, Any], steps_per_epoch: int, device: torch.device
) -> tuple[EmotionNet, torch.optim.Optimizer, torch.optim.lr_scheduler.OneCycleLR]:
    """The net on `device` (channels-last, which the CPU's convolutions run fastest in), SGD with Nesterov
    momentum over its parameters there, and the one-cycle learning-rate schedule over the whole run."""
    net = net_for(settings).to(device)
    # Documented in torch, missing from its type stubs.
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.SGD(
        net.parameters(),
        lr=settings["max_lr"],
        momentum=settings["momentum"],
        weight_decay=settings["weight_decay"],
        nesterov=True,
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings["max_lr"], epochs=settings["epochs"], steps_per_epoch=steps_per_epoch
    )
    return net, optimizer, scheduler


def train_epoch(
    net: EmotionNet,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    faces: torch.Tensor,
    targets: torch.Tensor,
    epoch: int,
    settings: dict[str, Any],
) -> tuple[float, torch.Tensor]:
    """One pass over the training faces in a random order, in augmented batches: the summed loss, and
    each face's predicted class (in the faces' own order)."""
    net.train()
    device = next(net.parameters()).device
    batch_size = settings["batch_size"]
    autocast_dtype = PRECISIONS[settings["precision"]]
    order = torch.randperm(len(faces))
    predicted = torch.empty(len(faces), dtype=torch.long)
    loss_sum = 0.0
    bar = tqdm(
        range(epoch_steps(len(faces), batch_size)),
        desc=f"epoch {epoch + 1}/{settings['epochs'] + settings['swa_epochs']}",
        file=sys.stderr,
    )
    for step in bar:
        index = order[step * batch_size : (step + 1) * batch_size]
        batch = augment(faces[index].to(device), settings)
        batch, batch_targets = mixup(batch, targets[index].to(device), settings["mixup"])
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = net(batch.contiguous(memory_format=torch.channels_last)).float()
        loss = -(batch_targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += loss.item() * len(index)
        predicted[index] = logits.argmax(1).cpu()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    return loss_sum, predicted


def settle_norms(averaged: torch.nn.Module, faces: torch.Tensor, settings: dict[str, Any]) -> None:
    """Measure the averaged net's batch-norm statistics afresh: averaged weights need their own. One pass
    over the training faces in augmented batches, as the running net's statistics were gathered."""
    device = next(averaged.parameters()).device
    batch_size = settings["batch_size"]
    batches = (
        augment(faces[start : start + batch_size].to(device), settings).contiguous(
            memory_format=torch.channels_last
        )
        for start in range(0, len(faces), batch_size)
    )
    autocast_dtype = PRECISIONS[settings["precision"]]
    with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        update_bn(batches, averaged, device=device)


def epoch_steps(faces: int, batch_size: int) -> int:
    """Optimiser steps in one pass over `faces` (the last batch may be short)."""
    return math.ceil(faces / batch_size)


def validation_accuracy(
    net: torch.nn.Module, faces: torch.Tensor, labels: np.ndarray, autocast_dtype: torch.dtype | None
) -> dict[str, float]:
    """Accuracy on the validation faces, as they are and averaged with their mirror images (one pass over
    faces and mirrors, in the run's precision: it costs a quarter of an epoch in float32 otherwise)."""
    as_is, mirrored = predict_with_mirrors(net, faces, autocast_dtype=autocast_dtype)
    return {
        "val_accuracy": float((as_is.argmax(1) == labels).mean()),
        "val_accuracy_flip": float((((as_is + mirrored) / 2).argmax(1) == labels).mean()),
    }


def main(arguments: list[str] | None = None) -> None:
    settings, resume = parse_overrides(sys.argv[1:] if arguments is None else arguments, config)
    if not Path(settings["data"]).exists():
        raise SystemExit(f"{settings['data']}: training data not found (set --data=PATH)")
    if settings["teacher"] and not Path(settings["teacher"]).is_file():
        raise SystemExit(f"--teacher {settings['teacher']}: no such model file")
    print(json.dumps(settings), file=sys.stderr)
    try:
        train(settings, resume)
    except (MalformedDataError, UnusableModelError) as error:
        raise SystemExit(str(error)) from None


if __name__ == "__main__":
    main()
