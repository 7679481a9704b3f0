"""The `moodfeed` command: serve the app, or run the engine on photos from the shell."""

from __future__ import annotations

import argparse
import errno
import io
import logging
import os
import signal
import socket
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import uvicorn
from pydantic import ValidationError

from service import affect_lines, analyze, bench
from service.config import MAX_PORT, Settings
from service.exits import BROKEN_PIPE, INTERRUPTED
from service.main import create_app
from service.news.sources import FeedListError
from service.photos import FORMATS, predict_photos
from service.server import uvicorn_config
from service.vision.engine import VisionEngine
from service.vision.errors import ModelError
from service.vision.faces import MAX_FACE_PX, WINDOW_PX
from service.vision.images import PHOTO_KINDS


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (in use, not ours to take), or None if it can."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is already in use (another moodfeed?); stop it or pick --port"
        return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def serve(arguments: argparse.Namespace) -> int:
    # Checked before loading the model or starting the feeds, so a busy port costs nothing and says so.
    if problem := port_problem(arguments.host, arguments.port):
        print(f"moodfeed: {problem}", file=sys.stderr)
        return 2
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
    """Print the faces and emotions of each photo; exit 1 if any could not be analysed."""
    if arguments.annotate is not None and arguments.annotate.exists() and not arguments.annotate.is_dir():
        print(f"moodfeed: --annotate {arguments.annotate}: not a folder", file=sys.stderr)
        return 2
    engine = VisionEngine.from_settings(Settings())
    style = arguments.format or ("table" if sys.stdout.isatty() else "jsonl")
    return predict_photos(
        engine,
        arguments.images,
        style=style,
        detect=not arguments.no_detect,
        min_face=arguments.min_face,
        annotate_dir=arguments.annotate,
    )


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_PORT}")
    return port


def face_size(text: str) -> int:
    size = int(text)
    if not WINDOW_PX <= size <= MAX_FACE_PX:
        raise argparse.ArgumentTypeError(
            f"must be from {WINDOW_PX} pixels (the smallest face Haar can see) to {MAX_FACE_PX}"
        )
    return size


def package_version() -> str:
    try:
        return version("moodfeed")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class Command(Protocol):
    """A module that is one subcommand: its docstring describes it, and it adds its arguments and runs."""

    __doc__: str | None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, arguments: argparse.Namespace) -> int: ...


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, module: Command, summary: str
) -> None:
    parser = commands.add_parser(
        name, help=summary, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    module.add_arguments(parser)
    parser.set_defaults(run=module.run)


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="moodfeed", description=__doc__)
    parser.add_argument("--version", action="version", version=f"moodfeed {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve_parser = commands.add_parser(
        "serve",
        help="serve the web page and the API",
        description="Serve the page and the API (settings: MOODFEED_* variables, see the README).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve_parser.add_argument("--host", default=defaults.host, help="address to listen on (MOODFEED_HOST)")
    serve_parser.add_argument(
        "--port", type=port_number, default=defaults.port, help="port to listen on (MOODFEED_PORT)"
    )
    serve_parser.set_defaults(run=serve)
    predict_parser = commands.add_parser(
        "predict",
        help="print the faces and emotions in photos",
        description="Find the faces in photos and read each one's emotion.",
    )
    predict_parser.add_argument(
        "images",
        nargs="+",
        metavar="PHOTO",
        help=f"{PHOTO_KINDS} files, folders (searched recursively) or globs",
    )
    predict_parser.add_argument("--no-detect", action="store_true", help="read each whole image as one face")
    predict_parser.add_argument("--min-face", type=face_size, help="smallest face to look for, in pixels")
    predict_parser.add_argument(
        "--format",
        choices=FORMATS,
        help="table (the default on a terminal), jsonl (one /predict answer a line, "
        "the default otherwise) or csv (a row per face with every score)",
    )
    predict_parser.add_argument(
        "--annotate",
        type=Path,
        metavar="DIR",
        help="write a copy of each photo with its faces boxed and labelled here",
    )
    predict_parser.set_defaults(run=predict)
    add_command(
        commands, "analyze", analyze, "turn videos and photos into emotion timelines (CSV, JSON Lines, plot)"
    )
    add_command(
        commands, "affect", affect_lines, "score text lines as the news feed scores stories (JSON Lines)"
    )
    add_command(commands, "bench", bench, "time the vision engine here, naive pipeline vs ours")
    return parser


def main(argv: list[str] | None = None) -> int:
    # File names in another encoding than UTF-8 are printed with their odd bytes escaped, not refused.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        parser = build_parser()
        arguments = parser.parse_args(argv)
        if arguments.command is None:
            parser.print_help(sys.stderr)
            print("\nmoodfeed: choose a command, e.g. moodfeed serve", file=sys.stderr)
            return 2
        if arguments.run is not serve:  # the server stops on SIGTERM its own way
            signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C: outputs stay valid
        return int(arguments.run(arguments))
    except ValidationError as error:  # a MOODFEED_* variable that is not a valid setting
        print(f"moodfeed: {settings_problem(error)}", file=sys.stderr)
        return 2
    except ModelError as error:  # the model or a cascade is missing or unusable: every command needs them
        print(f"moodfeed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmoodfeed: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`moodfeed predict ... | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet
        return BROKEN_PIPE


def settings_problem(error: ValidationError) -> str:
    """Which MOODFEED_* variables are wrong and why, one per line, in the words a shell user set them."""
    return "\n".join(
        f"MOODFEED_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors()
    )


if __name__ == "__main__":
    sys.exit(main())
