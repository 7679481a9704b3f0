"""The scripts: soak.py's short run against a server it starts itself answers every frame and reports memory;
the load scripts drive only this machine; gpu_train.sh says how to call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_streams_predicts_and_reports_server_memory(tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    command = [sys.executable, "scripts/soak.py", "--seconds", "3", "--streams", "2", "--fps", "4"]
    command += ["--predict-per-s", "1", "--sample-every-s", "1", "--json", str(report_path)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(report_path.read_text())
    frames, predict = report["stream_frames"], report["predict"]
    assert frames["answered"] > 0 and predict["answered"] > 0
    assert frames["errors"] == {} and predict["errors"] == {}
    assert frames["answered"] + frames["dropped"] <= frames["sent"]
    assert frames["latency_ms"]["p50"] is not None
    assert report["server_rss_samples"] and report["server_rss"]["peak_mib"] > 0
    assert "stream frames:" in run.stdout


@pytest.mark.parametrize("script", ["soak.py", "attacks.py"])
@pytest.mark.parametrize("url", ["http://192.0.2.1:8000", "http://[::1]:8000"])
def test_the_load_scripts_refuse_a_server_they_cannot_drive_from_their_own_loopback_addresses(
    script: str, url: str
) -> None:
    # Another machine is not theirs to load; IPv6 loopback cannot be reached from 127.0.0.x clients.
    command = [sys.executable, f"scripts/{script}", "--url", url, "--seconds", "1"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "only drives a server on this machine" in run.stderr


def test_gpu_train_without_its_arguments_prints_its_usage_and_exits_2() -> None:
    run = subprocess.run(
        ["bash", "scripts/gpu_train.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and run.stderr.startswith("usage: bash scripts/gpu_train.sh SECONDS NAME")
