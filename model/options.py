"""`--name=value` overrides of a training script's `config` dict, each typed like its default."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any


def apply_overrides(
    arguments: Sequence[str], defaults: dict[str, Any], *, usage: str | None, flags: Sequence[str] = ()
) -> tuple[dict[str, Any], set[str]]:
    """The defaults with the arguments' overrides applied, and which of `flags` (e.g. --resume) were given.

    `-h`/`--help` prints `usage` and every option with its default, then exits; an unknown option or a
    value that does not read as its default's type exits with a message.
    """
    settings, given = dict(defaults), set()
    for argument in arguments:
        if argument in ("-h", "--help"):
            defaults_text = "\n".join(f"  --{name}={value!r}" for name, value in defaults.items())
            print(f"{usage or ''}\nOptions and their defaults:\n{defaults_text}")
            raise SystemExit(0)
        if argument in flags:
            given.add(argument)
            continue
        name, separator, text = argument.removeprefix("--").partition("=")
        if not argument.startswith("--") or not separator or name not in settings:
            options = [*flags, *(f"--{key}=" for key in settings)]
            raise SystemExit(f"unknown option {argument!r}; options: " + ", ".join(options))
        default = settings[name]
        if isinstance(default, str):
            settings[name] = text
            continue
        try:
            value = ast.literal_eval(text)
            if isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, int):
                raise TypeError  # 2.5 epochs would quietly become 2
            settings[name] = type(default)(value)
        except (ValueError, SyntaxError, TypeError) as error:
            raise SystemExit(f"--{name}: {text!r} is not a {type(default).__name__}") from error
    return settings, given
