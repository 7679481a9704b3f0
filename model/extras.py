"""Say in one line what to install when a model/ command runs without the packages it needs."""

from __future__ import annotations

import sys
from pathlib import Path


def missing_extra(error: ModuleNotFoundError, extra: str = "train") -> str:
    """The message for SystemExit: which command, which package, and the pip command that brings it."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None  # python -m model.x: .../model/x.py
    command = f"python -m {script.parent.name}.{script.stem}" if script else "this command"
    return f"{command} needs {error.name}: pip install -e '.[{extra}]'"
