"""Turn untrusted image bytes into a grey frame, refusing what is too big, not an image, or not ours to take.

The size is checked from the header before a single pixel is decoded, so a small file that claims a
huge canvas (a decompression bomb) costs nothing. Nothing is written to disk.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError


@dataclass(frozen=True, slots=True)
class PhotoFormat:
    """A photo format we take: its name as people know it, its media type, its file name suffixes and
    Pillow's names for it."""

    name: str
    media_type: str
    suffixes: tuple[str, ...]
    pillow_formats: tuple[str, ...]
    other_media_types: tuple[str, ...] = ()  # labels in use beside the registered one, taken as it


# MPO is a JPEG with more images after the first (phones write them, with depth or HDR maps); its first
# image is the photo.
PHOTO_FORMATS = (
    PhotoFormat("JPEG", "image/jpeg", (".jpg", ".jpeg"), ("JPEG", "MPO"), ("image/jpg", "image/pjpeg")),
    PhotoFormat("PNG", "image/png", (".png",), ("PNG",)),
    PhotoFormat("WebP", "image/webp", (".webp",), ("WEBP",)),
)
MEDIA_TYPE_BY_FORMAT = {name: kind.media_type for kind in PHOTO_FORMATS for name in kind.pillow_formats}
ACCEPTED_MEDIA_TYPES = frozenset(MEDIA_TYPE_BY_FORMAT.values())  # as the API documents them
TAKEN_MEDIA_TYPES = ACCEPTED_MEDIA_TYPES | {
    other for kind in PHOTO_FORMATS for other in kind.other_media_types
}
PHOTO_KINDS = ", ".join(kind.name for kind in PHOTO_FORMATS[:-1]) + f" or {PHOTO_FORMATS[-1].name}"
PHOTO_SUFFIXES = tuple(suffix for kind in PHOTO_FORMATS for suffix in kind.suffixes)  # predict, analyze
# What a JPEG may take to decode: ordinary progressive files have about ten scans; scans x pixels is
# capped so that a 40-megapixel photo gets ten (about 2 s of decoding at worst) and a 1080p frame 40.
MAX_JPEG_SCANS = 40
MAX_SCAN_PIXELS = 400_000_000

# The pixel limit is ours (ImageLimits), checked from the header before decoding. Pillow's own cap (a
# warning, then an error past 179 megapixels) would override a larger limit, such as a local file's.
Image.MAX_IMAGE_PIXELS = None


class ImageError(ValueError):
    """An image the engine will not analyse; the message says why, in words a caller can act on."""


class ImageTooLarge(ImageError):
    """More bytes than the configured limit."""


class TooManyPixels(ImageError):
    """A canvas larger than the configured pixel limit (or a decompression bomb)."""


class UnsupportedImageType(ImageError):
    """A real image, or a declared media type, that is not one we take (`PHOTO_KINDS`)."""


class CostlyImage(ImageError):
    """An image whose decoding would cost far more than its size suggests (a progressive-JPEG scan bomb)."""


class UndecodableImage(ImageError):
    """Bytes that are not an image, or an image that is truncated or corrupt."""


@dataclass(frozen=True)
class ImageLimits:
    """How much an image may weigh (bytes) and hold (width x height) before it is refused."""

    max_bytes: int
    max_pixels: int


# The limits for a local file (`moodfeed predict`, `moodfeed analyze`): it is the user's own, so no upload
# limit, only what memory allows (a 250-megapixel photo).
LOCAL_FILE_LIMITS = ImageLimits(max_bytes=1 << 30, max_pixels=250_000_000)


def read_photo_file(path: Path, limits: ImageLimits = LOCAL_FILE_LIMITS) -> bytes:
    """A photo file's bytes, refusing before reading what is not a regular file (a pipe would wait for a
    writer, a device never end) or weighs more than the limit; OSError if it cannot be read."""
    # Opened without waiting (a pipe would wait for a writer here), then judged by what was opened, so it
    # cannot be swapped for something else in between.
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise UndecodableImage("not a regular file, so not a photo")
        check_byte_count(status.st_size, limits)
        data = handle.read(limits.max_bytes + 1)  # the file may have grown since
    check_byte_count(len(data), limits)
    return data


def media_type_essence(content_type: str) -> str:
    """A Content-Type's media type alone, lower-cased, without its parameters ("" for none)."""
    return content_type.split(";", 1)[0].strip().lower()


def check_media_type(media_type: str) -> None:
    """Refuse a declared media type we do not take (an empty one too: a raw body must say what it is)."""
    essence = media_type_essence(media_type)
    if essence not in TAKEN_MEDIA_TYPES:
        accepted = ", ".join(sorted(ACCEPTED_MEDIA_TYPES))
        raise UnsupportedImageType(f"images of type {essence or '(empty)'} are not accepted; send {accepted}")


def check_byte_count(byte_count: int, limits: ImageLimits) -> None:
    """Refuse an image heavier than the limit; callers streaming a body call it before reading it all."""
    if byte_count > limits.max_bytes:
        raise ImageTooLarge(f"the image is larger than the limit of {limits.max_bytes} bytes")


def check_decode_cost(jpeg: bytes, pixels: int) -> None:
    """Refuse a JPEG whose scans would take far longer to decode than its pixel count suggests.

    A progressive JPEG is decoded once per scan; ordinary ones have about ten. Each scan starts with an SOS
    marker (FF DA), which cannot occur inside entropy-coded data (an FF there is followed by 00), so
    counting the markers in the first image counts its scans (and any in its metadata: on the safe side)
    before any is decoded. 124 KB with 2,000 scans took 60 s.
    """
    scans = jpeg.count(b"\xff\xda", 0, first_image_end(jpeg))
    allowed = min(MAX_JPEG_SCANS, max(1, MAX_SCAN_PIXELS // max(pixels, 1)))
    if scans > allowed:
        raise CostlyImage(
            f"the JPEG has {scans} scans; at most {allowed} are decoded for an image of {pixels} pixels "
            "(save it as a baseline JPEG)"
        )


# Where the walk below looks next: an FF followed by a marker that has a segment, or by EOI (D9). What it
# passes over in C: stuffed FF 00 and restarts (D0-D7) in entropy-coded data, fill bytes (FF FF), markers
# without a segment (01, D8) and stray data, all of which a decoder skips too.
_SEGMENT_OR_END = re.compile(rb"\xff[\x02-\xcf\xd9-\xfe]")
MAX_JPEG_SEGMENTS = 10_000  # no real JPEG has this many; past it, the whole data counts (on the safe side)


def first_image_end(jpeg: bytes) -> int:
    """Where the first image of a JPEG ends: after the first EOI marker that follows a scan, found by
    walking the markers as a decoder does; the end of the data if it has none.

    The walk skips what segments carry (an EXIF thumbnail is a JPEG of its own, with its own EOI), and an
    EOI before any scan ends only a tables-only stream, after which the decoder reads on. Phones append
    more after the image (a Motion Photo's video, an MPO's second image, a gain map), which the decoder
    never reads (measured: 3,000 scans after EOI cost nothing), so their scans are no cost.
    """
    at, scanned, segments = 2, False, 0  # after SOI
    while found := _SEGMENT_OR_END.search(jpeg, at):
        at, marker = found.start(), jpeg[found.start() + 1]
        if marker == 0xD9:  # EOI
            if scanned:
                return at + 2
            at += 2
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            break
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")  # the marker and its segment
        scanned |= marker == 0xDA  # SOS: its entropy-coded data follows, up to the next marker
    return len(jpeg)


def decode_grey(data: bytes, limits: ImageLimits) -> np.ndarray:
    """The image as an upright uint8 grey array (height x width), or an `ImageError` saying why not.

    EXIF orientation is applied, so boxes refer to the image as a viewer sees it. JPEGs are decoded
    straight to luma, which skips the colour work the detector and the model do not need.
    """
    check_byte_count(len(data), limits)
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UndecodableImage("the data is not an image we can read") from None
    if image.format not in MEDIA_TYPE_BY_FORMAT:
        raise UnsupportedImageType(f"{image.format} images are not accepted; send {PHOTO_KINDS}")
    width, height = image.size
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"the image is {width}x{height} pixels, more than the limit of {limits.max_pixels} pixels"
        )
    if MEDIA_TYPE_BY_FORMAT[image.format] == "image/jpeg":
        check_decode_cost(data, width * height)
    try:
        image.draft("L", image.size)
        grey = _to_grey(upright(image))
    except (OSError, ValueError, SyntaxError, EOFError):
        raise UndecodableImage("the image is truncated or corrupt") from None
    return np.asarray(grey)


# How to turn an image stored with each EXIF orientation (2-8; 1 is upright) to show it as a viewer does.
TURN_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def upright(image: Image.Image) -> Image.Image:
    """`image` turned as its EXIF orientation says, so that boxes refer to the image a viewer sees.

    Only the orientation tag is read: Pillow's `ImageOps.exif_transpose` also rewrites the rest of the
    EXIF block, and raises TypeError or struct.error on a corrupt one, in photos that open and show fine.
    An orientation that cannot be read leaves the image as it is stored.
    """
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # Pillow's TIFF reader can raise almost anything on corrupt EXIF; it is a nicety
        orientation = 1
    turn = TURN_FOR_ORIENTATION.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(turn) if turn is not None else image


def eight_bit(image: Image.Image) -> Image.Image:
    """`image` with 8 bits a channel: 16-bit grey keeps its top 8 bits (Pillow's own conversion to grey or
    colour would clip it white); other images as they are."""
    if image.mode.startswith("I;16"):
        return Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
    return image


def _to_grey(image: Image.Image) -> Image.Image:
    return eight_bit(image).convert("L")
