"""Names for the files a command writes: one per input, never two inputs' files under one name."""

from __future__ import annotations

from pathlib import Path

from service.vision.images import PHOTO_SUFFIXES


class OutputNames:
    """Hands out stems unique within a run, numbered on repeats (day1/talk.mp4 and day2/talk.mp4 become
    `talk` and `talk-2`), case-blind since macOS and Windows file systems are."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def stem(self, path: Path) -> str:
        base = path.stem or "input"
        stem, number = base, 1
        while stem.casefold() in self._taken:
            number += 1
            stem = f"{base}-{number}"
        self._taken.add(stem.casefold())
        return stem

    def photo(self, path: Path) -> str:
        """A file name for an image made from the photo at `path`: its own format where OpenCV writes it
        (the photo formats we read), JPEG otherwise."""
        suffix = path.suffix if path.suffix.lower() in PHOTO_SUFFIXES else ".jpg"
        return self.stem(path) + suffix
