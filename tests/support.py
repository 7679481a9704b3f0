"""What tests build their inputs from: tiny models on the shipped contract, app settings, the page's origin;
a running app's feeds refreshed on demand; and waiting for what the server does in its own time.

Real inputs, not mocks: each model is a real ONNX file the service loads like the shipped one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper

from model.data import DEFAULT_DATA
from model.labels import EMOTIONS
from service.config import Settings
from service.news.feed import NewsFeed

REPO = Path(__file__).resolve().parents[1]
FER2013 = (REPO / DEFAULT_DATA).resolve()  # shared beside the repository, never copied into it

# How long to wait for what should take well under a second: long, for a machine that stalls. Only a test
# whose behaviour is broken waits this long (a liveness guard, never a speed requirement).
PATIENCE_S = 30.0

# What the page served by TestClient sends with its WebSocket handshake.
PAGE_ORIGIN = {"Origin": "http://testserver"}
INPUT_SIDE = 48


def write_tiny_model(folder: Path, labels: tuple[str, ...] = EMOTIONS, outputs: int | None = None) -> Path:
    """An ONNX model with the shipped contract whose answer depends only on a face's mean brightness.

    Input float32 [N, 1, 48, 48] grey levels 0-255, output [N, outputs] softmax probabilities: a bright
    face reads `happy`, a dark one `sad`, mid-grey is close to uniform. Writes `emotion.onnx` and
    `emotion.json` into `folder` and returns the model's path.
    """
    outputs = len(labels) if outputs is None else outputs
    happy, sad = (labels.index(name) if name in labels else 0 for name in ("happy", "sad"))
    weights = [0.0] * outputs
    biases = [0.0] * outputs
    weights[happy], biases[happy] = 12.0, -6.0
    weights[sad], biases[sad] = -12.0, 6.0
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["grey_levels"], ["mean"], axes=[2, 3], keepdims=1),
            helper.make_node("Flatten", ["mean"], ["flat"], axis=1),
            helper.make_node("Div", ["flat", "full_scale"], ["brightness"]),
            helper.make_node("MatMul", ["brightness", "weights"], ["product"]),
            helper.make_node("Add", ["product", "biases"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "tiny_emotions",
        [helper.make_tensor_value_info("grey_levels", TensorProto.FLOAT, ["N", 1, INPUT_SIDE, INPUT_SIDE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", outputs])],
        initializer=[
            helper.make_tensor("full_scale", TensorProto.FLOAT, [1], [255.0]),
            helper.make_tensor("weights", TensorProto.FLOAT, [1, outputs], weights),
            helper.make_tensor("biases", TensorProto.FLOAT, [outputs], biases),
        ],
    )
    return save_model(graph, folder, labels)


def write_overflowing_int8_model(folder: Path, labels: tuple[str, ...] = EMOTIONS) -> Path:
    """A deliberately mis-quantised int8 model: its fused kernels give other answers than the model says.

    Each face is tiled 60 times into one long row and scored by a quantised MatMul whose `happy` column is
    all 127s: the float result (what the unfused reference computes) stays in range, but the sum of
    138,240 uint8 x int8 products exceeds what an int32 accumulator holds, so every CPU's fused integer
    kernel wraps around. Writes `emotion.onnx` and `emotion.json` into `folder` and returns the model path.
    """
    happy, repeats = labels.index("happy"), 60
    row = INPUT_SIDE * INPUT_SIDE * repeats
    weights = np.zeros((row, len(labels)), np.int8)
    weights[:, happy] = 127
    constants: dict[str, np.ndarray] = {
        "flat_shape": np.array([-1, INPUT_SIDE * INPUT_SIDE], np.int64),
        "repeats": np.array([1, repeats], np.int64),
        "x_scale": np.array(1.0, np.float32),  # grey levels 0-255 are their own uint8 codes
        "x_zero": np.array(0, np.uint8),
        "w_quantized": weights,
        "w_scale": np.array(10 / (255 * 127 * row), np.float32),  # a white face's happy logit is 10
        "w_zero": np.array(0, np.int8),
        "logit_scale": np.array(24 / 255, np.float32),  # logits -12..12
        "logit_zero": np.array(128, np.uint8),
    }
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["grey_levels", "flat_shape"], ["flat"]),
            helper.make_node("Tile", ["flat", "repeats"], ["tiled"]),
            helper.make_node("QuantizeLinear", ["tiled", "x_scale", "x_zero"], ["x_quantized"]),
            helper.make_node("DequantizeLinear", ["x_quantized", "x_scale", "x_zero"], ["x"]),
            helper.make_node("DequantizeLinear", ["w_quantized", "w_scale", "w_zero"], ["w"]),
            helper.make_node("MatMul", ["x", "w"], ["product"]),
            helper.make_node(
                "QuantizeLinear", ["product", "logit_scale", "logit_zero"], ["logits_quantized"]
            ),
            helper.make_node(
                "DequantizeLinear", ["logits_quantized", "logit_scale", "logit_zero"], ["logits"]
            ),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "overflowing_int8_emotions",
        [helper.make_tensor_value_info("grey_levels", TensorProto.FLOAT, ["N", 1, INPUT_SIDE, INPUT_SIDE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(labels)])],
        initializer=[numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    return save_model(graph, folder, labels)


def save_model(graph: onnx.GraphProto, folder: Path, labels: tuple[str, ...]) -> Path:
    """`graph` as `folder/emotion.onnx` (opset 13) with its card `emotion.json`; the model's path."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # what every onnxruntime since 1.14 reads
    onnx.checker.check_model(model)
    model_path = folder / "emotion.onnx"
    onnx.save(model, model_path)
    card = {"labels": list(labels), "input_size": [INPUT_SIDE, INPUT_SIDE]}
    (folder / "emotion.json").write_text(json.dumps(card), encoding="utf-8")
    return model_path


def vision_settings(model_path: Path, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an app on `model_path` that stays offline and does not rate-limit the tests."""
    defaults: dict[str, Any] = {
        "model_path": model_path,
        "model_card_path": model_path.with_name("emotion.json"),
        "feed_refresh": False,
        "feed_db_path": data_dir / "feeds.db",
        "rate_limit_per_s": 0,
    }
    return Settings(**{**defaults, **overrides})


def refreshed(client: TestClient) -> TestClient:
    """Run one refresh pass of a started app's feeds now, as the background task would; returns `client`."""
    news: NewsFeed = client.app.state.news  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(news.refresher.refresh_due)
    return client


def wait_until(condition: Callable[[], bool], patience_s: float = PATIENCE_S) -> bool:
    """Whether `condition` holds, checked every 20 ms until it does or `patience_s` have passed: for what a
    server does in its own time (noticing a socket close, counting an aborted upload)."""
    deadline = time.monotonic() + patience_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
