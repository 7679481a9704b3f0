"""Turn untrusted image bytes into a grey frame, refusing what is too big, not an image, or not ours to take.

The size is checked from the header before a single pixel is decoded, so a small file that claims a
huge canvas (a decompression bomb) costs nothing. Nothing is written to disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's names for the formats we decode, and the media types they travel under.
MEDIA_TYPE_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPTED_MEDIA_TYPES = frozenset(MEDIA_TYPE_BY_FORMAT.values())
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
    """A real image, or a declared media type, that is not JPEG, PNG or WebP."""


class CostlyImage(ImageError):
    """An image whose decoding would cost far more than its size suggests (a progressive-JPEG scan bomb)."""


class UndecodableImage(ImageError):
    """Bytes that are not an image, or an image that is truncated or corrupt."""


@dataclass(frozen=True)
class ImageLimits:
    """How much an image may weigh (bytes) and hold (width x height) before it is refused."""

    max_bytes: int
    max_pixels: int


# The file names `moodfeed predict` and `moodfeed analyze` take for photos, and the limits for a local file:
# it is the user's own, so no upload limit, only what memory allows (a 250-megapixel photo).
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
LOCAL_FILE_LIMITS = ImageLimits(max_bytes=1 << 30, max_pixels=250_000_000)


def check_media_type(media_type: str) -> None:
    """Refuse a declared media type we do not take (an empty one too: a raw body must say what it is)."""
    essence = media_type.split(";", 1)[0].strip().lower()
    if essence not in ACCEPTED_MEDIA_TYPES:
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
    counting the markers counts the scans before any is decoded. 124 KB with 2,000 scans took 60 s.
    """
    scans = jpeg.count(b"\xff\xda")
    allowed = min(MAX_JPEG_SCANS, max(1, MAX_SCAN_PIXELS // max(pixels, 1)))
    if scans > allowed:
        raise CostlyImage(
            f"the JPEG has {scans} scans; at most {allowed} are decoded for an image of {pixels} pixels "
            "(save it as a baseline JPEG)"
        )


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
        raise UnsupportedImageType(f"{image.format} images are not accepted; send JPEG, PNG or WebP")
    width, height = image.size
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"the image is {width}x{height} pixels, more than the limit of {limits.max_pixels} pixels"
        )
    if image.format == "JPEG":
        check_decode_cost(data, width * height)
    try:
        image.draft("L", image.size)
        grey = _to_grey(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, EOFError):
        raise UndecodableImage("the image is truncated or corrupt") from None
    return np.asarray(grey)


def eight_bit(image: Image.Image) -> Image.Image:
    """`image` with 8 bits a channel: 16-bit grey keeps its top 8 bits (Pillow's own conversion to grey or
    colour would clip it white); other images as they are."""
    if image.mode.startswith("I;16"):
        return Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
    return image


def _to_grey(image: Image.Image) -> Image.Image:
    return eight_bit(image).convert("L")
