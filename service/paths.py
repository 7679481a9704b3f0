"""Which files a command's arguments name: files as they are, folders' photos, and globs the shell left
unexpanded; and what is said of a folder without photos or a file that cannot be read."""

from __future__ import annotations

import glob
from collections.abc import Iterator, Sequence
from pathlib import Path

from service.vision.images import PHOTO_SUFFIXES, ImageError


def no_photos_in(folder: Path) -> str:
    """What a folder without photos is told, by `predict` and `analyze` alike."""
    return f"{folder}: no photos ({', '.join(PHOTO_SUFFIXES)}) in this folder"


def os_error_text(error: OSError | ImageError) -> str:
    """Why a photo could not be read, in words: an OSError's own text without its errno and file name."""
    return str(getattr(error, "strerror", None) or error)


def photos_in(folder: Path) -> list[Path]:
    """The photos in `folder` and below, in name order: whatever has a photo's name and is no folder, so a
    broken link or a pipe of that name is reported when it is read, not passed over in silence."""
    return sorted(
        path for path in folder.rglob("*") if path.suffix.lower() in PHOTO_SUFFIXES and not path.is_dir()
    )


def glob_matches(argument: str) -> list[Path]:
    """What a pattern the shell left unexpanded (a quoted `'shots/*.png'`) matches, in name order; nothing
    for a name that exists as it is, or is no pattern."""
    if "\0" in argument or Path(argument).exists() or not glob.has_magic(argument):
        return []
    return [Path(match) for match in sorted(glob.glob(argument))]


def photo_paths(arguments: Sequence[str]) -> Iterator[Path]:
    """Each named file; each folder's photos, recursively, in name order; each unexpanded glob's matches.

    A name that matches nothing, or a folder without photos, is passed on as it is, so that its error is
    reported.
    """
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            yield from photos_in(path) or [path]
        elif matches := glob_matches(argument):
            yield from photo_paths([str(match) for match in matches])
        else:
            yield path
