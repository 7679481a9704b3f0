"""model.bench: size, parameter count and per-face timings of an exported model (no speed is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from model.bench import benchmark, main
from model.checkpoints import load_checkpoint
from model.cpu import cpu_description
from model.export import export_onnx
from model.measure import parameter_count
from model.net import ProbabilityModel
from model.quantize import quantize_int8
from tests.model.support import MakeFaces


def folded_parameter_count(net: nn.Module) -> int:
    """Conv weights plus one bias per output channel (batch norm folded in), plus the linear head."""
    convs = [module for module in net.modules() if isinstance(module, nn.Conv2d)]
    linears = [module for module in net.modules() if isinstance(module, nn.Linear)]
    return sum(conv.weight.numel() + conv.out_channels for conv in convs) + sum(
        sum(parameter.numel() for parameter in linear.parameters()) for linear in linears
    )


def test_benchmark_reports_size_parameters_and_time_per_face(
    exported_model: Path, trained_checkpoint: Path
) -> None:
    net, _ = load_checkpoint(trained_checkpoint)

    (result,) = benchmark([exported_model], repeats=3)

    assert result["bytes"] == exported_model.stat().st_size
    assert result["parameters"] == folded_parameter_count(net)
    assert result["threads"] == 1 and result["cpu"]
    assert result["ms_per_face_batch_1"] > 0 and result["ms_per_face_batch_8"] > 0


def test_flip_averaging_and_int8_keep_the_parameter_count(
    exported_model: Path, trained_checkpoint: Path, tmp_path: Path, faces: MakeFaces
) -> None:
    net, _ = load_checkpoint(trained_checkpoint)
    export_onnx(ProbabilityModel([net], flip_average=True), tmp_path / "flip.onnx")
    calibration, _ = faces(16, 9)
    quantize_int8(tmp_path / "flip.onnx", tmp_path / "flip_int8.onnx", calibration, "grey_levels")

    assert parameter_count(tmp_path / "flip.onnx") == parameter_count(exported_model)
    assert parameter_count(tmp_path / "flip_int8.onnx") == parameter_count(exported_model)


def test_cli_prints_one_json_object(exported_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(exported_model), "--repeats", "2", "--json"])

    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {
        "bytes",
        "parameters",
        "ms_per_face_batch_1",
        "ms_per_face_batch_8",
        "load_average_1min",
        "cpu",
    }
    assert np.isfinite(result["ms_per_face_batch_8"])


def test_cli_refuses_a_missing_or_broken_model(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such model file"):
        main([str(tmp_path / "none.onnx")])
    (tmp_path / "broken.onnx").write_bytes(b"\x00" * 64)
    with pytest.raises(SystemExit, match="ONNX Runtime cannot load it"):
        main([str(tmp_path / "broken.onnx")])


def test_against_times_both_models_in_one_run_and_prints_the_ratio(
    exported_model: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main([str(exported_model), "--against", str(tiny_model), "--repeats", "5"])

    shown = capsys.readouterr().out
    assert f"the cost of {tiny_model}" in shown and str(exported_model) in shown
    assert f"CPU {cpu_description()}; load average" in shown
