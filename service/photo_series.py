"""A series of photos analysed as one stream: each scanned for all its faces as `/predict` scans a photo,
its faces tracked into the next (see `VisionEngine.open_stream`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from service.config import Settings
from service.frames import AnalysedFrame
from service.vision.annotate import upright_bgr
from service.vision.engine import VisionEngine
from service.vision.images import LOCAL_FILE_LIMITS, ImageError, decode_grey, read_photo_file

# A series of photos is put this far apart on its timeline: a photo's time_s is its place in the series,
# and a summary's duration and stretches count photos.
PHOTO_SPACING_S = 1.0
PHOTO_TIME_AXIS = "photo, in name order (the first is 0)"  # what a photo's time_s counts, for a plot's axis


def series_length_s(photos: int) -> float:
    """A series' length on its timeline: each photo holds its place for `PHOTO_SPACING_S`, so a summary's
    duration counts the photos."""
    return photos * PHOTO_SPACING_S


def analyze_photos(
    paths: Sequence[Path],
    engine: VisionEngine | None = None,
    with_images: bool = False,
) -> Iterator[AnalysedFrame | tuple[Path, ImageError | OSError]]:
    """Photos as a series, `PHOTO_SPACING_S` apart on its timeline (see `VisionEngine.open_stream`;
    `with_images`: each with its colour image, upright as its boxes are); an unreadable photo is yielded
    as (path, error) and skipped."""
    engine = engine or VisionEngine.from_settings(Settings())
    session = engine.open_stream(of_photos=True)
    for index, path in enumerate(paths):
        try:
            data = read_photo_file(path)
            grey = decode_grey(data, LOCAL_FILE_LIMITS)
        except (ImageError, OSError) as error:
            yield path, error
            continue
        time_s = index * PHOTO_SPACING_S
        analysis = session.analyse_grey(grey, now_s=time_s)
        image = upright_bgr(data) if with_images else None
        yield AnalysedFrame.of(str(path), index, time_s, analysis, image)
