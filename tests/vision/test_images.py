"""Decoding untrusted image bytes: what is taken, what is refused, and why."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from service.vision.annotate import upright_bgr
from service.vision.images import (
    CostlyImage,
    ImageLimits,
    ImageTooLarge,
    TooManyPixels,
    UndecodableImage,
    UnsupportedImageType,
    check_media_type,
    decode_grey,
    read_photo_file,
)
from tests.vision.frames import astronaut_grey, encode, png_header_only, with_orientation

LIMITS = ImageLimits(max_bytes=8 * 1024 * 1024, max_pixels=40_000_000)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_decodes_jpeg_png_and_webp_to_the_grey_picture(image_format: str) -> None:
    grey = decode_grey(encode(astronaut_grey(), image_format, quality=95), LIMITS)
    assert grey.shape == (512, 512) and grey.dtype == np.uint8
    assert np.abs(grey.astype(int) - astronaut_grey()).mean() < 3


def test_colour_images_become_grey() -> None:
    rgb = np.dstack([astronaut_grey()] * 3)
    assert decode_grey(encode(rgb, "PNG"), LIMITS).shape == (512, 512)


def test_16_bit_greys_are_scaled_down_not_clipped() -> None:
    deep = (astronaut_grey().astype(np.uint16) * 257).astype(np.uint16)
    assert np.array_equal(decode_grey(encode(deep, "PNG"), LIMITS), astronaut_grey())


def test_the_colour_copy_to_draw_on_keeps_a_16_bit_grey_photo_as_it_looks() -> None:
    deep = (astronaut_grey().astype(np.uint16) * 257).astype(np.uint16)
    colour = upright_bgr(encode(deep, "PNG"))
    assert colour.shape == (512, 512, 3) and np.array_equal(colour[..., 1], astronaut_grey())


def test_a_pixel_limit_above_pillows_own_cap_is_ours_to_apply() -> None:
    limits = ImageLimits(max_bytes=1 << 20, max_pixels=300_000_000)
    with pytest.raises(UndecodableImage):  # read past the header, where Pillow alone would refuse it
        decode_grey(png_header_only(19_000, 10_000), limits)
    with pytest.raises(TooManyPixels, match="19000x20000 pixels"):
        decode_grey(png_header_only(19_000, 20_000), limits)


def test_exif_orientation_is_applied_so_boxes_match_what_a_viewer_sees() -> None:
    wide = np.zeros((100, 300), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    assert decode_grey(encode(wide, "JPEG", exif=exif), LIMITS).shape == (300, 100)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_exif_orientation_turns_the_image_as_pillow_does(orientation: int) -> None:
    corner = np.zeros((60, 90), np.uint8)
    corner[:20, :30] = 255  # a bright top-left corner, to see where it goes
    data = with_orientation(corner, orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("L"))
    np.testing.assert_array_equal(decode_grey(data, LIMITS), expected)


def test_a_corrupt_exif_block_still_gives_the_upright_photo() -> None:
    wide = np.zeros((100, 300), np.uint8)
    data = with_orientation(wide, 6, corrupt=True)
    with pytest.raises(TypeError):  # what Pillow's own exif_transpose does with it
        ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert decode_grey(data, LIMITS).shape == (300, 100)
    assert upright_bgr(data).shape == (300, 100, 3)


def test_refuses_more_bytes_than_the_limit() -> None:
    data = encode(astronaut_grey(), "PNG")
    with pytest.raises(ImageTooLarge, match="limit"):
        decode_grey(data, ImageLimits(max_bytes=len(data) - 1, max_pixels=LIMITS.max_pixels))


def test_refuses_a_decompression_bomb_from_its_header() -> None:
    bomb = png_header_only(30_000, 30_000)
    assert len(bomb) < 200
    with pytest.raises(TooManyPixels):
        decode_grey(bomb, LIMITS)


def test_refuses_an_image_over_the_configured_pixel_limit() -> None:
    with pytest.raises(TooManyPixels, match="512x512"):
        decode_grey(
            encode(astronaut_grey(), "PNG"), ImageLimits(max_bytes=LIMITS.max_bytes, max_pixels=500 * 500)
        )


def test_refuses_a_truncated_jpeg() -> None:
    data = encode(astronaut_grey(), "JPEG")
    with pytest.raises(UndecodableImage, match="truncated"):
        decode_grey(data[: len(data) // 2], LIMITS)


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"\xff\xd8\xff" + bytes(100)])
def test_refuses_bytes_that_are_not_an_image(data: bytes) -> None:
    with pytest.raises(UndecodableImage):
        decode_grey(data, LIMITS)


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_refuses_real_images_of_other_types(image_format: str) -> None:
    with pytest.raises(UnsupportedImageType, match=image_format):
        decode_grey(encode(astronaut_grey(), image_format), LIMITS)


def test_declared_media_types_image_jpeg_png_and_webp_are_taken_with_parameters_and_any_case() -> None:
    for media_type in ("image/jpeg", "IMAGE/PNG", "image/webp; q=1"):
        check_media_type(media_type)


@pytest.mark.parametrize("media_type", ["text/plain", "image/gif", "application/json", ""])
def test_other_declared_media_types_are_refused(media_type: str) -> None:
    with pytest.raises(UnsupportedImageType):
        check_media_type(media_type)


def scan_bomb(width: int, height: int, extra_scans: int) -> bytes:
    """A progressive JPEG whose last scan is repeated: tiny on the wire, one full decode pass per scan."""
    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, "JPEG", progressive=True, quality=80)
    data = buffer.getvalue()
    last_scan = data[data.rindex(b"\xff\xda") : -2]
    return data[:-2] + last_scan * extra_scans + b"\xff\xd9"


def test_a_progressive_jpeg_with_thousands_of_scans_is_refused_before_decoding() -> None:
    bomb = scan_bomb(1920, 1080, extra_scans=2000)
    assert len(bomb) < 2 * 1024 * 1024  # inside the stream's frame limit

    with pytest.raises(CostlyImage, match="2006 scans"):
        decode_grey(bomb, ImageLimits(4 * 1024 * 1024, 1920 * 1080))


def test_an_ordinary_progressive_jpeg_is_decoded() -> None:
    grey = decode_grey(scan_bomb(640, 480, extra_scans=0), ImageLimits(4 * 1024 * 1024, 640 * 480))
    assert grey.shape == (480, 640)


def test_a_scan_bomb_hidden_behind_stray_bytes_between_its_scans_is_still_counted() -> None:
    # A decoder skips stray bytes to the next marker and decodes on; so must the count.
    bomb = scan_bomb(1920, 1080, extra_scans=0)
    last_scan = bomb[bomb.rindex(b"\xff\xda") : -2]
    hidden = bomb[:-2] + (b"\x17" * 8 + last_scan) * 100 + b"\xff\xd9"

    with pytest.raises(CostlyImage, match="106 scans"):
        decode_grey(hidden, ImageLimits(4 * 1024 * 1024, 1920 * 1080))


def test_a_scan_bomb_behind_a_tables_only_stream_is_still_counted() -> None:
    # SOI EOI first: a decoder takes that for a stream of tables only and decodes the image after it.
    hidden = b"\xff\xd8\xff\xd9" + scan_bomb(1920, 1080, extra_scans=100)

    with pytest.raises(CostlyImage, match="106 scans"):
        decode_grey(hidden, ImageLimits(4 * 1024 * 1024, 1920 * 1080))


def test_data_after_the_jpeg_is_not_counted_as_its_scans() -> None:
    # A phone's Motion Photo: a JPEG with a video (here, more progressive JPEGs) appended after its end.
    photo = scan_bomb(640, 480, extra_scans=0)
    motion_photo = photo + photo * 20

    assert decode_grey(motion_photo, ImageLimits(4 * 1024 * 1024, 640 * 480)).shape == (480, 640)


def test_a_multi_picture_jpeg_is_read_as_its_first_picture() -> None:
    buffer = io.BytesIO()
    first = Image.fromarray(astronaut_grey())
    first.save(buffer, "MPO", save_all=True, append_images=[Image.new("L", (64, 64))])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"

    grey = decode_grey(buffer.getvalue(), LIMITS)

    assert grey.shape == (512, 512) and abs(float(grey.mean()) - float(astronaut_grey().mean())) < 2


def test_a_photo_file_that_is_a_pipe_or_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(UndecodableImage, match="not a regular file"):
            read_photo_file(path)


def test_a_photo_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(encode(astronaut_grey()))

    with pytest.raises(ImageTooLarge):
        read_photo_file(big, ImageLimits(max_bytes=1024, max_pixels=LIMITS.max_pixels))
    assert read_photo_file(big) == big.read_bytes()


def test_a_decompression_bomb_is_refused_quoting_our_limit_not_pillows() -> None:
    with pytest.raises(TooManyPixels) as refused:
        decode_grey(png_header_only(20_000, 10_000), ImageLimits(8 * 1024 * 1024, 1_000_000))
    assert "1000000" in str(refused.value) and "178956970" not in str(refused.value)
