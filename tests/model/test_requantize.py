"""model.requantize: an int8 export rebuilt from its own weights with today's portable recipe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from model.export import export
from model.requantize import float_graph, main
from model.runtime import onnx_probabilities, open_session
from tests.model.support import MakeFaces, int8_weight_ranges


def test_the_float_graph_of_an_int8_export_computes_what_the_int8_graph_does(
    trained_checkpoint: Path, tiny_csv: Path, faces: MakeFaces, tmp_path: Path
) -> None:
    int8_path = tmp_path / "int8.onnx"
    export([trained_checkpoint], int8_path, tiny_csv, flip_average=True, int8_calibration=100)
    float_path = tmp_path / "float.onnx"
    onnx.save(float_graph(onnx.load(str(int8_path))), str(float_path))
    images, _ = faces(40, 3)

    graph = onnx.load(str(float_path)).graph
    assert not {"QuantizeLinear", "DequantizeLinear"} & {node.op_type for node in graph.node}
    int8_answers = onnx_probabilities(open_session(int8_path), images)
    float_answers = onnx_probabilities(open_session(float_path), images)
    # Only activation rounding separates them; the weights are the same numbers.
    assert np.abs(int8_answers - float_answers).max() < 0.05
    assert (int8_answers.argmax(1) == float_answers.argmax(1)).mean() >= 0.9


def test_requantize_rewrites_the_model_in_reduced_range_and_records_its_source_in_the_card(
    trained_checkpoint: Path, tiny_csv: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "emotion.onnx"
    export([trained_checkpoint], model_path, tiny_csv, int8_calibration=100)
    members = json.loads(model_path.with_suffix(".json").read_text())["members"]

    main([str(model_path), "--data", str(tiny_csv), "--calibration", "50"])

    card = json.loads(model_path.with_suffix(".json").read_text())
    assert card["members"] == members
    assert card["rebuilt_from"]["sha256"] and "reduce_range" in card["int8"]["method"]
    assert card["int8"]["calibration_faces"] == 50 and card["metrics"]["cpu"]
    assert max(int8_weight_ranges(model_path)) <= 64
