"""A training run's checkpoint: written whole after every epoch, checked before a run resumes from it, and
read back by the export.

A checkpoint holds the state dicts of the run's parts (net, optimiser, schedule; the weight average once
averaging has begun, and the finished average as "averaged_net"), the random state, the epochs done and
the seconds they took, the recipe ("config"), facts about the data and code, and the last epoch's metrics.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from model.net import EmotionNet, net_for

CHECKPOINT_FILE = "last.pt"  # in a run's out_dir, rewritten after every epoch

# Values a resumed run may change: where the data lives and how fast the arithmetic runs, not what the net
# learns; and epochs, which `check_resumable` refuses with its own reason.
RESUMABLE_CHANGES = {"data", "ferplus", "teacher", "out_dir", "precision", "epochs"}
# Values a run may take on when it resumes before averaging begins: a finished run can go on into SWA.
# Once it has begun, only its length may grow: more epochs averaged at the same rate.
SWA_OPTIONS = {"swa_epochs", "swa_lr"}


class CheckpointError(ValueError):
    """A file that is not a checkpoint written by model.train."""


def saved_run(
    checkpoint_path: Path,
    settings: dict[str, Any],
    defaults: dict[str, Any],
    resume: bool,
    device: torch.device,
) -> dict[str, Any] | None:
    """The checkpoint a resumed run goes on from (None for a fresh run); SystemExit where a fresh run would
    overwrite one, or a resumed one would change its recipe."""
    if not checkpoint_path.exists():
        return None
    if not resume:
        raise SystemExit(
            f"{checkpoint_path} holds a run already: --resume continues it, or choose another --out_dir"
        )
    checkpoint: dict[str, Any] = torch.load(checkpoint_path, map_location=device, weights_only=False)
    check_resumable(checkpoint["config"], checkpoint["epoch"], settings, defaults)
    return checkpoint


def check_resumable(
    saved: dict[str, Any], saved_epoch: int, settings: dict[str, Any], defaults: dict[str, Any]
) -> None:
    """Refuse to resume a run with a different recipe: the checkpoint's nets and schedule would not match.
    Until averaging has begun (`saved_epoch` within the one-cycle), the SWA options may change; after,
    only swa_epochs, and not below the epochs already averaged."""
    # An option newer than the checkpoint was, for that run, its default.
    recipe = {**defaults, **saved}
    averaging_begun = saved_epoch > recipe["epochs"]
    may_change = RESUMABLE_CHANGES | ({"swa_epochs"} if averaging_begun else SWA_OPTIONS)
    changed = {
        name: (recipe.get(name, value), value)
        for name, value in settings.items()
        if name not in may_change and recipe.get(name, value) != value
    }
    if changed:
        details = ", ".join(f"{name} was {old!r}, now {new!r}" for name, (old, new) in changed.items())
        raise SystemExit(f"cannot resume with a different recipe: {details}")
    if saved.get("epochs", settings["epochs"]) != settings["epochs"]:
        raise SystemExit(
            f"cannot resume with --epochs={settings['epochs']}: the learning-rate schedule was laid out "
            f"for {saved['epochs']} epochs"
        )
    if averaging_begun and settings["epochs"] + settings["swa_epochs"] < saved_epoch:
        raise SystemExit(
            f"cannot resume with --swa_epochs={settings['swa_epochs']}: "
            f"{saved_epoch - settings['epochs']} epochs are averaged already"
        )


def restore(
    checkpoint: dict[str, Any],
    net: EmotionNet,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    device: torch.device,
) -> tuple[int, float]:
    """Load a checkpoint's weights, optimiser and schedule state and random state; the epochs it had
    finished and the seconds they took."""
    net.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["rng"].cpu())  # loaded onto the device with the rest
    if device.type == "cuda" and checkpoint.get("cuda_rng") is not None:  # augmentation draws on it
        torch.cuda.set_rng_state_all([state.cpu() for state in checkpoint["cuda_rng"]])
    return checkpoint["epoch"], checkpoint["train_seconds"]


def save_checkpoint(
    path: Path,
    state: dict[str, Any],
    epoch: int,
    train_seconds: float,
    settings: dict[str, Any],
    facts: dict[str, Any],
    metrics: dict[str, Any],
    device: torch.device,
) -> None:
    """Everything a resumed run needs, written whole and then renamed over `path` (never half-written)."""
    checkpoint = {
        **{name: part.state_dict() for name, part in state.items()},  # model, optimizer, scheduler
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
        "epoch": epoch,
        "train_seconds": train_seconds,
        "config": settings,
        "facts": facts,
        "metrics": metrics,
        "device": str(device),
    }
    scratch = path.with_name(path.name + ".tmp")
    torch.save(checkpoint, scratch)
    scratch.replace(path)


def keep_metrics(metrics_path: Path, epochs: int) -> None:
    """Keep the first `epochs` lines of a run's metrics: those its checkpoint has (an epoch logged just
    before the run was stopped, and not saved, is trained again)."""
    if not metrics_path.exists():
        return
    lines = metrics_path.read_text().splitlines(keepends=True)
    metrics_path.write_text("".join(line for line in lines if json.loads(line)["epoch"] <= epochs))


def load_checkpoint(path: Path) -> tuple[EmotionNet, dict[str, Any]]:
    """The trained net (in eval mode) and the checkpoint it came from."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        settings = checkpoint["config"]
        net = net_for(settings)
        # A run that finished with weight averaging yields the average, not its last epoch's weights.
        net.load_state_dict(checkpoint.get("averaged_net", checkpoint["model"]))
    except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: not a model.train checkpoint ({error})") from error
    return net.eval(), checkpoint
