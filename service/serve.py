"""`moodfeed serve`: serve the page and the API (settings: MOODFEED_* variables, see the README).

--host and --port override MOODFEED_HOST and MOODFEED_PORT.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket

import uvicorn

from service.config import MAX_PORT, Settings
from service.console import say
from service.main import create_app
from service.news.sources import FeedListError
from service.server import uvicorn_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The defaults are the settings' (MOODFEED_HOST, MOODFEED_PORT), read when serving: reading them here
    # would make every command, `moodfeed --version` too, fail on a bad serve setting.
    fields = Settings.model_fields
    parser.add_argument(
        "--host", help=f"address to listen on, MOODFEED_HOST if set (default: {fields['host'].default})"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        help=f"port to listen on, MOODFEED_PORT if set (default: {fields['port'].default})",
    )


def run(arguments: argparse.Namespace) -> int:
    given = {"host": arguments.host, "port": arguments.port}
    settings = Settings(**{name: value for name, value in given.items() if value is not None})
    # Checked before loading the model or starting the feeds, so a busy port costs nothing and says so.
    if problem := port_problem(settings.host, settings.port):
        say(problem)
        return 2
    try:
        app = create_app(settings)
    except FeedListError as error:
        say(f"MOODFEED_FEEDS: {error}")
        return 2
    logging.captureWarnings(True)  # library warnings become log records (JSON lines), not stray stderr text
    uvicorn.Server(uvicorn_config(app, settings)).run()
    return 0


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_PORT}") from None
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_PORT}")
    return port


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
