"""Names for the files a command writes: one per input, never two inputs' files under one name, never an
input's own file, and always a name OpenCV can write."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from service.vision.images import PHOTO_SUFFIXES


def opencv_name(path: Path) -> str:
    """`path` as OpenCV takes file names: UTF-8 text. OpenCV crashes the process on a Python string that is
    not (a file name in another encoding, which Python holds as escaped bytes), so that is an OSError here."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise OSError(f"{path}: OpenCV reads and writes only file names in UTF-8; rename it") from None
    return name


def readable_name(name: str) -> str:
    """`name` with any byte that is not UTF-8 (Python's escaped bytes) shown as U+FFFD, so it can be printed,
    written into CSV and given to OpenCV."""
    return os.fsencode(name).decode("utf-8", "replace")


def own_stem(path: Path) -> str:
    """The stem an input's outputs are named after, unless a run must number it (`OutputNames.stem`)."""
    return readable_name(path.stem) or "input"


class OutputNames:
    """Hands out stems unique within a run, numbered on repeats (day1/talk.mp4 and day2/talk.mp4 become
    `talk` and `talk-2`), case-blind since macOS and Windows file systems are, and past the names whose
    files are already there (an earlier run's results are never replaced); and refuses to let an output
    replace any of the run's inputs (a photo analysed with `--out` its own folder, say)."""

    def __init__(self, inputs: Iterable[Path] = ()) -> None:
        self._taken: set[str] = set()
        self._inputs = {_real(path) for path in inputs}

    def add_input(self, path: Path) -> None:
        """Count `path` (a file the run reads) among the inputs that no output may replace."""
        self._inputs.add(_real(path))

    def stem(self, path: Path, on_disk: Callable[[str], bool] = lambda stem: False) -> str:
        """The input's own stem, or the first of `stem-2`, `stem-3`... not handed out in this run and whose
        files are not `on_disk` already."""
        base = own_stem(path)
        stem, number = base, 1
        while stem.casefold() in self._taken or on_disk(stem):
            number += 1
            stem = f"{base}-{number}"
        self._taken.add(stem.casefold())
        return stem

    def photo(self, path: Path, folder: Path) -> str:
        """A file name in `folder` for an image made from the photo at `path`, not yet there: its own format
        where OpenCV writes it (the photo formats we read), JPEG otherwise."""
        suffix = path.suffix if path.suffix.lower() in PHOTO_SUFFIXES else ".jpg"

        def on_disk(stem: str) -> bool:  # an input is not passed by: `check` refuses to write over it
            target = folder / f"{stem}{suffix}"
            return target.exists() and not self.is_input(target)

        return self.stem(path, on_disk) + suffix

    def is_input(self, path: Path) -> bool:
        return _real(path) in self._inputs

    def check(self, out_path: Path) -> Path:
        """`out_path`, unless writing it would replace one of the run's inputs (OSError then)."""
        if self.is_input(out_path):
            raise OSError(f"{out_path} would replace one of the inputs; choose another output folder")
        return out_path


def _real(path: Path) -> str:
    """Where `path` leads, case-blind as macOS and Windows file systems are (on the safe side elsewhere)."""
    return os.path.realpath(path).casefold()


@dataclass(frozen=True, slots=True)
class OutputFiles:
    """Where one input's files go, each named after its stem: the one place that spells the names."""

    folder: Path
    stem: str

    def written_before(self, is_input: Callable[[Path], bool]) -> bool:
        """Whether the folder already holds a file a run writes for this stem (an earlier run's), or its
        folder of annotated photos. An input is not counted: a run refuses to write over one instead."""
        made = [self.rows("csv"), self.rows("jsonl"), self.summary, self.plot, self.annotated_video]
        made += self.folder.glob(f"{glob.escape(self.stem)}.annotated.*")  # one photo's annotated copy
        earlier = any(path.is_file() and not is_input(path) for path in made)
        return earlier or (self.folder / f"{self.stem}.annotated").is_dir()

    def rows(self, kind: str) -> Path:
        """Its rows in `kind` (csv, jsonl)."""
        return self.folder / f"{self.stem}.{kind}"

    @property
    def summary(self) -> Path:
        return self.folder / f"{self.stem}.summary.json"

    @property
    def plot(self) -> Path:  # not NAME.png: an input photo of that name in the folder stays
        return self.folder / f"{self.stem}.plot.png"

    @property
    def annotated_video(self) -> Path:
        return self.folder / f"{self.stem}.annotated.mp4"

    def annotated_photo(self, input_path: Path, photo_path: Path) -> Path:
        """A photo's annotated copy: beside the other files for a photo given alone, or under
        `<stem>.annotated/` at its place in the folder given."""
        if photo_path == input_path:
            return self.folder / f"{self.stem}.annotated{photo_path.suffix}"
        return self.folder / f"{self.stem}.annotated" / photo_path.relative_to(input_path)
