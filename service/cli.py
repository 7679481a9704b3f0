"""The `moodfeed` command: serve the app, or run the engine on photos from the shell."""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from pydantic import ValidationError

from service import affect_lines, analyze, bench, photos, serve
from service.config import ENV_PREFIX, Settings
from service.console import say
from service.exits import BROKEN_PIPE, INTERRUPTED
from service.vision.errors import ModelError


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
    parser = argparse.ArgumentParser(prog="moodfeed", description=__doc__)
    parser.add_argument("--version", action="version", version=f"moodfeed {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_command(commands, "serve", serve, "serve the web page and the API")
    add_command(commands, "predict", photos, "print the faces and emotions in photos")
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
        Settings()  # a MOODFEED_* variable that is not a valid setting stops every command alike
        if arguments.run is not serve.run:  # the server stops on SIGTERM its own way
            signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C: outputs stay valid
        return int(arguments.run(arguments))
    except ValidationError as error:  # a MOODFEED_* variable that is not a valid setting
        say(settings_problem(error))
        return 2
    except ModelError as error:  # the model or a cascade is missing or unusable: every command needs them
        say(str(error))
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
        f"{ENV_PREFIX}{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors()
    )


if __name__ == "__main__":
    sys.exit(main())
