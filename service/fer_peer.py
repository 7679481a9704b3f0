"""The `fer` package as the benches' peer: its runners in scripts/, run by a Python that has it (its own venv,
since it needs tensorflow)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"  # the fer runners live in the checkout
FER_MIN_FACE_PX = 50  # the fer package's default smallest face


def run_fer_script(python: Path, script: str, arguments: Sequence[str]) -> list[dict[str, Any]]:
    """The JSON lines a script of scripts/ prints when run by the Python that has fer (its own venv)."""
    done = subprocess.run(
        [str(python), str(SCRIPTS / script), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"fer's run failed: {done.stderr.strip().splitlines()[-1:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def fer_version(python: Path) -> str:
    """The version of the fer package that Python has, to name beside its figures."""
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('fer'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.stdout.strip() or "(version unknown)"
