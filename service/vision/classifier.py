"""Read emotions from face crops with our ONNX model: load the session once, batch the crops, run, label.

The model's contract (written by `model/export.py`): input float32 [N, 1, H, W] of raw grey levels 0-255
(normalisation is inside the graph), output [N, len(labels)] probabilities; `emotion.json` holds the
labels and the input size [H, W]. At load, the optimised session is checked against the exact reference on
this CPU (`service.vision.kernels`), and the reference is served if they disagree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from model import runtime
from model.cpu import cpu_description
from service.vision.boxes import Box
from service.vision.errors import ModelError
from service.vision.kernels import PROBE_FACES, KernelCheck, compare, probe_faces

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelCard:
    """What the service needs from `emotion.json`: the class names in output order and the input size."""

    labels: tuple[str, ...]
    input_size: tuple[int, int]  # height, width

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
            labels = tuple(str(label) for label in card["labels"])
            height, width = (int(side) for side in card["input_size"])
        except FileNotFoundError:
            raise ModelError(f"model card {path} not found") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"model card {path} is unreadable: {error}") from None
        if len(labels) < 2 or height < 1 or width < 1:
            raise ModelError(f"model card {path} needs at least two labels and a positive input_size")
        return cls(labels, (height, width))


def open_session(
    model_path: Path, intra_op_threads: int, inter_op_threads: int, level: ort.GraphOptimizationLevel
) -> ort.InferenceSession:
    """A CPU session over `model_path` at the given graph optimisation level; `ModelError` if unusable."""
    # Requests already run in parallel on the server's worker threads; a session that also fans out
    # over every core would make them fight, so the settings give each run one thread by default.
    try:
        return runtime.open_session(model_path, intra_op_threads, inter_op_threads, level)
    except runtime.UnusableModelError as error:
        raise ModelError(str(error)) from None


def crop_faces(grey: np.ndarray, boxes: Sequence[Box], input_size: tuple[int, int]) -> np.ndarray:
    """The boxes cut from `grey` exactly (the Haar box is FER2013's framing) and resized: uint8 [N, H, W]."""
    height, width = input_size
    crops = np.empty((len(boxes), height, width), np.uint8)
    for index, box in enumerate(boxes):
        face = grey[box.y : box.y + box.h, box.x : box.x + box.w]
        shrinking = face.shape[0] > height or face.shape[1] > width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        crops[index] = cv2.resize(face, (width, height), interpolation=interpolation)
    return crops


class EmotionClassifier:
    """One onnxruntime session over the emotion model; `classify` may be called from many threads."""

    def __init__(
        self, model_path: Path, card_path: Path, intra_op_threads: int = 1, inter_op_threads: int = 1
    ):
        self.card = ModelCard.read(card_path)
        if not model_path.is_file():
            raise ModelError(f"model {model_path} not found")
        threads = (intra_op_threads, inter_op_threads)
        self._session = open_session(model_path, *threads, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        self._input_name = self._session.get_inputs()[0].name
        self._check_contract(model_path)
        reference = open_session(model_path, *threads, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        self.kernel_check = self._check_kernels(reference)
        if not self.kernel_check.exact:
            log.warning(
                "model %s: ONNX Runtime's optimised int8 kernels disagree with the model on this CPU, %s "
                "(probabilities off by up to %.3f); serving the exact, slower reference path instead",
                model_path,
                self.kernel_check.cpu,
                self.kernel_check.max_probability_difference,
            )
            self._session = reference

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    @property
    def input_size(self) -> tuple[int, int]:
        return self.card.input_size

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities [N, len(labels)] for uint8 crops [N, H, W], all in one batched run."""
        if len(crops) == 0:
            return np.empty((0, len(self.labels)), np.float32)
        batch = crops.astype(np.float32)[:, np.newaxis]
        (probabilities,) = self._session.run(None, {self._input_name: batch})
        return np.asarray(probabilities, np.float32)

    def _check_kernels(self, reference: ort.InferenceSession) -> KernelCheck:
        """Compare the optimised session with the unfused reference on generated faces."""
        probe = probe_faces(PROBE_FACES, self.input_size).astype(np.float32)[:, np.newaxis]
        (optimised,) = self._session.run(None, {self._input_name: probe})
        (exact,) = reference.run(None, {self._input_name: probe})
        return compare(np.asarray(optimised), np.asarray(exact), cpu_description())

    def _check_contract(self, model_path: Path) -> None:
        """Run one blank face through the model, so a model that breaks the contract fails at startup."""
        probe = np.full((1, *self.input_size), 128, np.uint8)
        try:
            output = self.classify(probe)
        except Exception as error:  # onnxruntime's errors are untyped
            raise ModelError(
                f"model {model_path} does not take [N, 1, {self.input_size}] input: {error}"
            ) from None
        if output.shape != (1, len(self.labels)) or not np.isclose(output.sum(), 1.0, atol=1e-3):
            raise ModelError(
                f"model {model_path} answered shape {output.shape} summing to {output.sum():.3f}; "
                f"expected (1, {len(self.labels)}) probabilities"
            )
