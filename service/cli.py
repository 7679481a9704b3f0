"""The `moodfeed` command: serve the app, or run the engine on images from the shell."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import uvicorn

from service import bench
from service.api.schemas import PredictOut
from service.config import Settings
from service.main import create_app
from service.news.sources import FeedListError
from service.server import uvicorn_config
from service.vision.classifier import ModelError
from service.vision.engine import VisionEngine
from service.vision.faces import MAX_FACE_PX, WINDOW_PX
from service.vision.images import ImageError, check_byte_count


def serve(arguments: argparse.Namespace) -> int:
    settings = Settings(host=arguments.host, port=arguments.port)
    try:
        app = create_app(settings)
    except FeedListError as error:
        print(f"moodfeed: MOODFEED_FEEDS: {error}", file=sys.stderr)
        return 2
    logging.captureWarnings(True)  # library warnings become log records (JSON lines), not stray stderr text
    uvicorn.Server(uvicorn_config(app, settings)).run()
    return 0


def predict(arguments: argparse.Namespace) -> int:
    """Print /predict's JSON for each image, one line each; exit 1 if any image could not be analysed."""
    try:
        engine = VisionEngine.from_settings(Settings())
    except ModelError as error:
        print(f"moodfeed: {error}", file=sys.stderr)
        return 2
    failures = 0
    for path in arguments.images:
        try:
            check_byte_count(path.stat().st_size, engine.photo.limits)
            analysis = engine.analyse_photo(path.read_bytes(), not arguments.no_detect, arguments.min_face)
        except (OSError, ImageError) as error:
            print(f"moodfeed: {path}: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
            failures += 1
            continue
        print(json.dumps({"file": str(path), **PredictOut.of(analysis).model_dump()}))
    return 1 if failures else 0


def face_size(text: str) -> int:
    size = int(text)
    if not WINDOW_PX <= size <= MAX_FACE_PX:
        raise argparse.ArgumentTypeError(
            f"must be from {WINDOW_PX} pixels (the smallest face Haar can see) to {MAX_FACE_PX}"
        )
    return size


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="moodfeed", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the web page and the API")
    serve_parser.add_argument("--host", default=defaults.host)
    serve_parser.add_argument("--port", type=int, default=defaults.port)
    serve_parser.set_defaults(run=serve)
    predict_parser = commands.add_parser(
        "predict", help="print the faces and emotions in image files as JSON"
    )
    predict_parser.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="JPEG, PNG or WebP files"
    )
    predict_parser.add_argument("--no-detect", action="store_true", help="read each whole image as one face")
    predict_parser.add_argument("--min-face", type=face_size, help="smallest face to look for, in pixels")
    predict_parser.set_defaults(run=predict)
    bench_parser = commands.add_parser("bench", help="time the vision engine here, naive pipeline vs ours")
    bench.add_arguments(bench_parser)
    bench_parser.set_defaults(run=bench.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return int(arguments.run(arguments))


if __name__ == "__main__":
    sys.exit(main())
