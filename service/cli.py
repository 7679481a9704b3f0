"""The `moodfeed` command: serve the app, or run the engine on images from the shell."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from service.config import Settings
from service.main import create_app
from service.news.sources import FeedListError
from service.observability import logging_config


def serve(arguments: argparse.Namespace) -> int:
    settings = Settings(host=arguments.host, port=arguments.port)
    try:
        app = create_app(settings)
    except FeedListError as error:
        print(f"moodfeed: MOODFEED_FEEDS: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_format, settings.log_level),
        access_log=False,  # the app writes its own access line, with route and latency
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="moodfeed", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the web page and the API")
    serve_parser.add_argument("--host", default=defaults.host)
    serve_parser.add_argument("--port", type=int, default=defaults.port)
    serve_parser.set_defaults(run=serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return int(arguments.run(arguments))


if __name__ == "__main__":
    sys.exit(main())
