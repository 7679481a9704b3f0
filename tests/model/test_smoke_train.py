"""model.train end to end on ~200 synthetic faces: one epoch, a checkpoint, metrics, and a resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from model import train
from model.checkpoints import load_checkpoint
from model.export import member_card
from model.net import EmotionNet, ResidualBlock
from tests.model.support import tiny_run_options, write_ferplus_votes


def test_one_epoch_writes_a_checkpoint_with_what_export_needs(
    trained_checkpoint: Path, tiny_csv: Path
) -> None:
    checkpoint = torch.load(trained_checkpoint, map_location="cpu", weights_only=False)

    assert checkpoint["epoch"] == 1
    assert checkpoint["config"]["data"] == str(tiny_csv)
    assert checkpoint["facts"]["data_sha256"] and checkpoint["facts"]["skipped_rows"] == 0
    assert checkpoint["facts"]["hardware"]  # what trained it, for the card wherever the export runs
    assert (
        member_card(trained_checkpoint, checkpoint)["training"]["hardware"] == checkpoint["facts"]["hardware"]
    )
    assert checkpoint["train_seconds"] > 0
    assert 0 <= checkpoint["metrics"]["val_accuracy"] <= 1
    lines = (trained_checkpoint.parent / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1]


def test_resume_of_a_finished_run_trains_no_further_epoch(tiny_csv: Path, tmp_path: Path) -> None:
    options = tiny_run_options(tiny_csv, tmp_path)
    train.main(options)
    written = (tmp_path / "last.pt").stat().st_mtime_ns

    train.main([*options, "--resume"])

    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1
    assert (tmp_path / "last.pt").stat().st_mtime_ns == written


def test_unknown_option_is_refused_with_the_list_of_options() -> None:
    with pytest.raises(SystemExit, match="unknown option '--epoch=3'"):
        train.main(["--epoch=3"])


def test_help_lists_every_option_with_its_default_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    assert "--epochs=50" in shown and "--resume" in shown


def test_missing_data_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="training data not found"):
        train.main([f"--data={tmp_path / 'none.csv'}"])


def test_a_fresh_run_never_overwrites_a_runs_checkpoint_and_a_resume_drops_unsaved_metrics(
    tiny_csv: Path, tmp_path: Path
) -> None:
    options = tiny_run_options(tiny_csv, tmp_path)
    train.main(options)
    saved = (tmp_path / "last.pt").read_bytes()

    with pytest.raises(SystemExit, match="holds a run already: --resume continues it"):
        train.main(options)
    assert (tmp_path / "last.pt").read_bytes() == saved

    with (tmp_path / "metrics.jsonl").open("a") as log:  # an epoch logged, then stopped before its save
        log.write(json.dumps({"epoch": 2}) + "\n")
    train.main([*options, "--resume"])
    assert [json.loads(line)["epoch"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [
        1
    ]


@pytest.mark.parametrize("option", ["--epochs=0", "--batch_size=0", "--epochs=2.5"])
def test_a_count_that_makes_no_sense_is_refused(option: str) -> None:
    with pytest.raises(SystemExit, match="--epochs|--batch_size"):
        train.main([option])


def test_a_fer_plus_file_that_is_not_there_is_refused_not_skipped(tiny_csv: Path, tmp_path: Path) -> None:
    # Skipped, the run would keep the faces FER+ calls non-faces and train on another recipe unawares.
    with pytest.raises(SystemExit, match="--ferplus .*absent.csv: no such file"):
        train.main(tiny_run_options(tiny_csv, tmp_path / "run", f"--ferplus={tmp_path / 'absent.csv'}"))


def test_fer_plus_votes_that_do_not_describe_the_data_are_refused(tiny_csv: Path, tmp_path: Path) -> None:
    votes = write_ferplus_votes(tmp_path / "fer2013new.csv", ["Training,x.png,10,0,0,0,0,0,0,0,0,0"] * 5)

    with pytest.raises(SystemExit, match="--ferplus .*5 rows do not describe"):
        train.main(tiny_run_options(tiny_csv, tmp_path / "run", f"--ferplus={votes}"))


def test_an_epoch_with_mixup_trains_and_records_it_in_the_recipe(tiny_csv: Path, tmp_path: Path) -> None:
    train.main(tiny_run_options(tiny_csv, tmp_path, "--mixup=0.4"))

    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    assert checkpoint["config"]["mixup"] == 0.4 and checkpoint["epoch"] == 1


def test_a_run_saved_before_an_option_existed_resumes_only_with_that_options_default(
    tiny_csv: Path, tmp_path: Path
) -> None:
    train.main(tiny_run_options(tiny_csv, tmp_path))
    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    del checkpoint["config"]["mixup"]  # as a checkpoint from before mixup was an option
    torch.save(checkpoint, tmp_path / "last.pt")

    with pytest.raises(SystemExit, match="mixup was 0.0, now 0.4"):
        train.main(tiny_run_options(tiny_csv, tmp_path, "--resume", "--mixup=0.4"))
    train.main(tiny_run_options(tiny_csv, tmp_path, "--resume"))  # the default it ran with


def test_a_run_started_in_float32_goes_on_in_bfloat16_and_each_epoch_says_which_it_ran_in(
    tiny_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = tiny_run_options(tiny_csv, tmp_path, epochs=2)
    epochs_begun = []
    first_run_epoch = train.train_epoch

    def stopped_after_one_epoch(*arguments: Any, **keywords: Any) -> tuple[float, torch.Tensor]:
        epochs_begun.append(1)
        if len(epochs_begun) == 2:
            raise KeyboardInterrupt  # as Ctrl-C during the second epoch
        return first_run_epoch(*arguments, **keywords)

    monkeypatch.setattr(train, "train_epoch", stopped_after_one_epoch)
    with pytest.raises(KeyboardInterrupt):
        train.main([*options, "--precision=fp32"])
    monkeypatch.setattr(train, "train_epoch", first_run_epoch)

    train.main([*options, "--precision=bf16", "--resume"])

    epochs = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(epoch["epoch"], epoch["precision"]) for epoch in epochs] == [(1, "fp32"), (2, "bf16")]
    assert all(0 <= epoch["val_accuracy"] <= 1 and epoch["train_loss"] > 0 for epoch in epochs)


def test_a_precision_other_than_float32_or_bfloat16_is_refused() -> None:
    with pytest.raises(SystemExit, match="--precision takes fp32 or bf16, not 'fp16'"):
        train.main(["--precision=fp16"])


def test_a_finished_run_goes_on_into_weight_averaging_and_export_takes_the_average(
    tiny_csv: Path, tmp_path: Path
) -> None:
    train.main(tiny_run_options(tiny_csv, tmp_path))

    train.main(tiny_run_options(tiny_csv, tmp_path, "--swa_epochs=2", "--swa_lr=0.02", "--resume"))

    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    assert checkpoint["epoch"] == 3 and int(checkpoint["averaged"]["n_averaged"]) == 2
    assert 0 <= checkpoint["metrics"]["averaged_val_accuracy_flip"] <= 1
    averaged, last = checkpoint["averaged_net"], checkpoint["model"]
    assert not torch.equal(averaged["head.2.weight"], last["head.2.weight"])
    net, _ = load_checkpoint(tmp_path / "last.pt")
    assert torch.equal(net.state_dict()["head.2.weight"], averaged["head.2.weight"])
    assert member_card(tmp_path / "last.pt", checkpoint)["training"]["weights"] == (
        "averaged over the last 2 epochs (SWA)"
    )

    with pytest.raises(SystemExit, match="2 epochs are averaged already"):
        train.main(tiny_run_options(tiny_csv, tmp_path, "--swa_epochs=1", "--swa_lr=0.02", "--resume"))
    train.main(tiny_run_options(tiny_csv, tmp_path, "--swa_epochs=3", "--swa_lr=0.02", "--resume"))  # longer
    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    assert checkpoint["epoch"] == 4 and int(checkpoint["averaged"]["n_averaged"]) == 3
    assert not torch.equal(checkpoint["averaged_net"]["head.2.weight"], averaged["head.2.weight"])


def test_weight_averaging_once_begun_keeps_its_recipe(
    tiny_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = tiny_run_options(tiny_csv, tmp_path, "--swa_epochs=2")
    first_run_epoch, epochs_begun = train.train_epoch, []

    def stopped_in_the_second_averaged_epoch(*arguments: Any, **keywords: Any) -> tuple[float, torch.Tensor]:
        epochs_begun.append(1)
        if len(epochs_begun) == 3:
            raise KeyboardInterrupt
        return first_run_epoch(*arguments, **keywords)

    monkeypatch.setattr(train, "train_epoch", stopped_in_the_second_averaged_epoch)
    with pytest.raises(KeyboardInterrupt):
        train.main(options)
    monkeypatch.setattr(train, "train_epoch", first_run_epoch)

    with pytest.raises(SystemExit, match="swa_lr was 0.01, now 0.05"):
        train.main([*options, "--swa_lr=0.05", "--resume"])
    train.main([*options, "--resume"])
    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    assert checkpoint["epoch"] == 3 and int(checkpoint["averaged"]["n_averaged"]) == 2
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["lr"] for line in lines][1:] == pytest.approx([0.01, 0.01])


def test_settled_norms_are_the_statistics_of_the_faces_they_were_measured_on() -> None:
    net = EmotionNet((8, 8, 8, 8), dropout=0.0)
    for name, buffer in net.named_buffers():
        if "running" in name:
            buffer.fill_(50.0)  # nothing like what the faces give
    faces = torch.rand(96, 1, 48, 48) * 255
    no_augmentation = {**train.config, "batch_size": 96, "rotate_degrees": 0.0, "scale": 0.0, "shift": 0.0}

    def gap_between_running_and_batch_statistics() -> float:
        with torch.no_grad():  # one batch of all the faces: in train mode, its own statistics
            return float((net.eval()(faces) - net.train()(faces)).abs().max())

    before = gap_between_running_and_batch_statistics()
    train.settle_norms(net, faces, {**no_augmentation, "erase_probability": 0.0})

    # what is left is the unbiased variance the running statistics keep, over few values in the last block
    assert gap_between_running_and_batch_statistics() < min(0.05, before / 20)


def test_a_checkpoint_from_before_residual_blocks_existed_loads_as_the_plain_net(
    tiny_csv: Path, tmp_path: Path
) -> None:
    train.main(tiny_run_options(tiny_csv, tmp_path))
    checkpoint = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    del checkpoint["config"]["residual"]  # as every run before the option, the shipped nets' too
    torch.save(checkpoint, tmp_path / "last.pt")

    net, _ = load_checkpoint(tmp_path / "last.pt")

    assert not any(isinstance(module, ResidualBlock) for module in net.modules())
