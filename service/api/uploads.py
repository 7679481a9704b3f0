"""Read an uploaded image from a request, in memory and no further than the size limit.

`POST /predict` takes the image either as the raw body (`Content-Type: image/jpeg|png|webp`) or as the
multipart form field `file`. Starlette's own form parsing would spill parts over 1 MB to a temporary
file; frames and photos must never touch the disk, so the part is kept in memory here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable

from fastapi import HTTPException, Request, status
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from service.vision.images import (
    CostlyImage,
    ImageError,
    ImageLimits,
    ImageTooLarge,
    TooManyPixels,
    UndecodableImage,
    UnsupportedImageType,
    check_byte_count,
    check_media_type,
)

FORM_FIELD = "file"
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the image
GENERIC_MEDIA_TYPE = "application/octet-stream"  # what a form sends for a file it cannot name; we sniff it
BINARY_SCHEMA = {"type": "string", "format": "binary"}  # OpenAPI's schema of a body (or field) of raw bytes

# The HTTP answer to each reason an image is refused.
STATUS_BY_IMAGE_ERROR: dict[type[ImageError], int] = {
    ImageTooLarge: status.HTTP_413_CONTENT_TOO_LARGE,
    TooManyPixels: status.HTTP_413_CONTENT_TOO_LARGE,
    CostlyImage: status.HTTP_413_CONTENT_TOO_LARGE,
    UnsupportedImageType: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    UndecodableImage: status.HTTP_400_BAD_REQUEST,
}


def http_error(error: ImageError) -> HTTPException:
    """The refusal as an HTTP error whose `detail` is the engine's reason."""
    return HTTPException(STATUS_BY_IMAGE_ERROR.get(type(error), status.HTTP_400_BAD_REQUEST), str(error))


class UploadAborted(Exception):
    """The client went away before sending the whole body: nobody is left to answer."""


async def read_image_upload(request: Request, limits: ImageLimits) -> bytes:
    """The image's bytes from the body or the form field `file`; `HTTPException` (413/415/400) if not,
    `UploadAborted` if the client disconnects first."""
    media_type = request.headers.get("content-type", "")
    try:
        if media_type.lower().startswith("multipart/form-data"):
            return await _read_form_file(request, limits)
        check_media_type(media_type)
    except ImageError as error:
        raise http_error(error) from None
    except ClientDisconnect:
        raise UploadAborted from None
    return await read_capped(request, limits.max_bytes, "image")


async def _read_form_file(request: Request, limits: ImageLimits) -> bytes:
    # Boundaries and part headers come on top of the image.
    if (declared := declared_length(request)) is not None:
        check_byte_count(declared - MULTIPART_OVERHEAD_BYTES, limits)  # refused before a byte is read
    body = _capped(request.stream(), lambda total: check_byte_count(total - MULTIPART_OVERHEAD_BYTES, limits))
    parser = MultiPartParser(request.headers, body, max_files=1, max_fields=8)
    parser.spool_max_size = limits.max_bytes + MULTIPART_OVERHEAD_BYTES  # so no part rolls over to a file
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unreadable form: {error.message}") from None
    upload = form.get(FORM_FIELD)
    if not isinstance(upload, UploadFile):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the form has no file field '{FORM_FIELD}'; send the image as that field, or as the raw body "
            "with an image Content-Type",
        )
    if upload.content_type and upload.content_type.lower() != GENERIC_MEDIA_TYPE:
        check_media_type(upload.content_type)
    data = await upload.read()
    await form.close()
    check_byte_count(len(data), limits)
    return data


async def _capped(
    chunks: AsyncIterator[bytes], check_total: Callable[[int], None]
) -> AsyncGenerator[bytes, None]:
    """Pass the body through, calling `check_total` with the bytes so far, which refuses it once too large."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        check_total(total)
        yield chunk


def declared_length(request: Request) -> int | None:
    """The body's length as its Content-Length says, if it says one."""
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None


async def read_capped(request: Request, max_bytes: int, what: str) -> bytes:
    """A raw body of at most `max_bytes` (413 past it, before more is read); `UploadAborted` if the client
    leaves first. `what` names the body in the refusal ("video")."""

    def check_total(total: int) -> None:
        if total > max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"the {what} is larger than the limit of {max_bytes} bytes"
            )

    if (declared := declared_length(request)) is not None:
        check_total(declared)
    try:
        return b"".join([chunk async for chunk in _capped(request.stream(), check_total)])
    except ClientDisconnect:
        raise UploadAborted from None
