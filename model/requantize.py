"""Requantise an exported int8 model from its own weights, for when the checkpoints it came from are gone.

    python -m model.requantize model/emotion.onnx                       # rewrites it and its card in place
    python -m model.requantize old.onnx --out new.onnx --calibration 1000

Every constant behind a DequantizeLinear (the int8 weights, the int32 biases) is turned back into the float
it stands for, every activation QuantizeLinear/DequantizeLinear pair is removed, and the float graph that
results is quantised again by `model.quantize` (today's recipe, portable across CPUs) on training faces.
The card keeps its members and records what was rebuilt from what; its metrics are measured anew.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra  # first: it reports the imports below

try:
    import onnx
except ModuleNotFoundError as missing:  # the train extra is not installed
    raise SystemExit(missing_extra(missing)) from None
from onnx import numpy_helper

from model.data import MalformedDataError, file_sha256, load_dataset
from model.measure import install, quantize_and_measure, read_card, rewrite, rewrite_parser
from model.quantize import add_calibration_option
from model.runtime import open_session


def dequantize_constant(
    quantized: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int
) -> np.ndarray:
    """The float a DequantizeLinear node makes of a constant: (q - zero_point) * scale along `axis`."""
    shape = [1] * quantized.ndim
    if scale.ndim == 1 and quantized.ndim > 0:
        shape[axis] = -1
    difference = quantized.astype(np.float64) - zero_point.astype(np.float64).reshape(shape)
    return (difference * scale.astype(np.float64).reshape(shape)).astype(np.float32)


def clips_at_zero(
    quantize: onnx.NodeProto, constants: dict[str, np.ndarray], producers: dict[str, str]
) -> bool:
    """Whether a QuantizeLinear stands in for a ReLU the quantiser removed.

    ONNX Runtime drops a Conv's or Gemm's ReLU when the uint8 quantisation after it, with zero point 0,
    clips negatives anyway; taking the quantisation out must put the ReLU back.
    """
    zero_point = constants.get(quantize.input[2]) if len(quantize.input) > 2 else None
    unsigned_from_zero = zero_point is not None and zero_point.dtype == np.uint8 and not zero_point.any()
    return unsigned_from_zero and producers.get(quantize.input[0]) in {"Conv", "Gemm", "MatMul"}


def float_graph(qdq_model: onnx.ModelProto) -> onnx.ModelProto:
    """`qdq_model` with every quantised constant dequantised and every activation Q/DQ pair removed (a ReLU
    put back where the quantisation was one)."""
    graph = qdq_model.graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    kept, renamed, folded = _without_quantisation(graph, constants)

    def source(name: str) -> str:
        while name in renamed:
            name = renamed[name]
        return name

    for node in kept:
        node.input[:] = [source(name) for name in node.input]
    for output in graph.output:
        if output.name in renamed:
            raise MalformedDataError(
                f"graph output {output.name} is quantised; not an export of model.export"
            )
    used = {name for node in kept for name in node.input}
    initializers = [tensor for tensor in graph.initializer if tensor.name in used]
    initializers += [numpy_helper.from_array(value, name) for name, value in folded.items() if name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.value_info[:]  # shapes and types of removed tensors; re-inferred by quantisation
    onnx.checker.check_model(qdq_model)
    return qdq_model


def _without_quantisation(
    graph: onnx.GraphProto, constants: dict[str, np.ndarray]
) -> tuple[list[onnx.NodeProto], dict[str, str], dict[str, np.ndarray]]:
    """The graph's nodes less its Q/DQ nodes (a ReLU for each that was one); which tensor each removed
    activation Q/DQ output stands for; and each dequantised constant by the name of its DequantizeLinear
    output."""
    producers = {tensor: node.op_type for node in graph.node for tensor in node.output}
    kept: list[onnx.NodeProto] = []
    renamed: dict[str, str] = {}
    folded: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in constants:
            axis = next((attribute.i for attribute in node.attribute if attribute.name == "axis"), 1)
            quantized, scale = constants[node.input[0]], constants[node.input[1]]
            zero_point = constants[node.input[2]] if len(node.input) > 2 else np.zeros_like(scale)
            folded[node.output[0]] = dequantize_constant(quantized, scale, zero_point, axis)
        elif node.op_type == "QuantizeLinear" and clips_at_zero(node, constants, producers):
            kept.append(onnx.helper.make_node("Relu", [node.input[0]], [node.output[0]], name=node.name))
        elif node.op_type in {"QuantizeLinear", "DequantizeLinear"}:
            # An activation's Q/DQ pair: `float_graph` follows DQ output -> Q output -> the float tensor.
            renamed[node.output[0]] = node.input[0]
        else:
            kept.append(node)
    return kept, renamed, folded


def requantize(model_path: Path, out_path: Path, data_path: Path, calibration: int) -> dict[str, Any]:
    """Rebuild `model_path` as today's int8 recipe; write it and its card to `out_path`. The new card."""
    card = read_card(model_path)
    splits, _ = load_dataset(data_path)
    if "train" not in splits or "test" not in splits:
        raise MalformedDataError(f"{data_path}: needs a training split to calibrate on and a test split")
    open_session(model_path)  # an UnusableModelError now, rather than onnx's own error from deep inside
    source_sha256 = file_sha256(model_path)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as scratch:
        fp32_path, int8_path = Path(scratch) / "fp32.onnx", Path(scratch) / "int8.onnx"
        onnx.save(float_graph(onnx.load(str(model_path))), str(fp32_path))
        metrics, int8 = quantize_and_measure(fp32_path, int8_path, splits, calibration, data_path)
        card.update(
            metrics=metrics,
            int8=int8,
            bytes=int8_path.stat().st_size,
            rebuilt_from={
                "sha256": source_sha256,
                "how": "each int8 weight and int32 bias dequantised back to float, activation "
                "quantisation removed, then quantised again with model.quantize",
            },
        )
        install(int8_path, card, out_path)
    return card


def main(arguments: list[str] | None = None) -> None:
    parser = rewrite_parser(
        "python -m model.requantize",
        __doc__,
        "an int8 .onnx from export",
        "FER2013 to calibrate and measure on",
    )
    add_calibration_option(parser)
    options = parser.parse_args(arguments)
    card, out_path = rewrite(
        options, lambda model, out: requantize(model, out, options.data, options.calibration)
    )
    print(
        f"wrote {out_path} ({card['bytes'] / 1e6:.2f} MB); test accuracy {card['metrics']['accuracy']:.4f}, "
        f"float graph {card['int8']['fp32_accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
