"""What the commands say to people on the terminal: messages on stderr and table cells, with any control
character in them (a file name can hold an escape sequence) shown as an escape, not obeyed."""

from __future__ import annotations

import re
import sys
from typing import TextIO

# C0 controls but tab and newline (messages break lines on purpose), DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """`text` with its control characters written as `\\xNN`."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def say(message: str, program: str = "moodfeed", to: TextIO | None = None) -> None:
    """Print `program: message` on stderr (or `to`), shown safe for a terminal."""
    print(f"{program}: {shown(message)}", file=to or sys.stderr)
