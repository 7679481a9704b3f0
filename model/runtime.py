"""Opening an exported model with ONNX Runtime on the CPU, the one way both the service and the training
side's measurements do it (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

# ONNX Runtime's load errors share no base class beyond Exception; a path it cannot take as text (a name
# that is not UTF-8) fails in its bindings with a TypeError.
LOAD_ERRORS = (
    *(
        getattr(ort.capi.onnxruntime_pybind11_state, name)
        for name in (
            "Fail",
            "InvalidProtobuf",
            "InvalidGraph",
            "InvalidArgument",
            "NoSuchFile",
            "NotImplemented",
        )
    ),
    TypeError,
    UnicodeError,
)


class UnusableModelError(ValueError):
    """An ONNX file that ONNX Runtime cannot load, or whose input is not one grey face per row."""


def open_session(
    model_path: Path,
    intra_op_threads: int = 0,
    inter_op_threads: int = 1,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
) -> ort.InferenceSession:
    """A CPU session over `model_path` at optimisation `level`; `intra_op_threads` 0 lets ONNX Runtime pick,
    1 pins a run to one core. `UnusableModelError` if ONNX Runtime cannot load the file."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = inter_op_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = level
    options.log_severity_level = 3  # errors only: what it warns of is ours to report
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except LOAD_ERRORS as error:
        raise UnusableModelError(f"{model_path}: ONNX Runtime cannot load it: {error}") from error


def agreement(probabilities: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """How alike two sessions' probabilities for the same faces are: the share of faces both give the same
    emotion (1.0 for no faces), and the largest difference between any two probabilities (0.0 for none)."""
    if not len(probabilities):
        return 1.0, 0.0
    same_emotion = float((probabilities.argmax(axis=1) == reference.argmax(axis=1)).mean())
    return same_emotion, float(np.abs(probabilities - reference).max())


def onnx_probabilities(session: ort.InferenceSession, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities [N, 7] for grey faces [N, H, W] (uint8 or float, 0-255)."""
    model_input = session.get_inputs()[0]
    if list(model_input.shape[1:]) != [1, *faces.shape[1:]]:
        raise UnusableModelError(f"the model takes {model_input.shape}, not faces of {list(faces.shape[1:])}")
    input_name = model_input.name
    batches = [
        session.run(None, {input_name: faces[start : start + batch_size, None].astype(np.float32)})[0]
        for start in range(0, len(faces), batch_size)
    ]
    return np.concatenate(batches)
