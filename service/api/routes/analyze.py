"""POST /analyze: a short video clip in, JSON Lines out: one object per analysed frame, then the summary.

The clip is read into memory (never to disk), decoded by OpenCV's FFmpeg from an in-memory file, and
analysed through the stream path as `moodfeed analyze` does; lines are sent as frames are analysed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from service.api.deps import SettingsDep, VideoUploadsDep, VisionDep, client_of
from service.api.shares import ClientShares
from service.api.uploads import BINARY_SCHEMA, GENERIC_MEDIA_TYPE, read_capped
from service.api.vision import Vision
from service.config import Settings
from service.frames import AnalysedFrame
from service.timeline import Summary, frame_json
from service.video import (
    VIDEO_KINDS,
    VIDEO_TYPES,
    OpenedVideo,
    VideoError,
    VideoOverLimit,
    analyze_video,
    open_video,
    video_in_memory,
)
from service.vision.images import media_type_essence

router = APIRouter(tags=["vision"])

ACCEPTED_VIDEO_TYPES = frozenset({*VIDEO_TYPES, GENERIC_MEDIA_TYPE})  # a browser's unknown type


@router.post(
    "/analyze",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "One JSON object per frame, then the summary",
        },
        400: {"description": "Not a video FFmpeg can read, or no frame in it"},
        413: {"description": "More bytes, seconds or pixels a frame than the limits"},
        415: {"description": "Not a video type"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"video/mp4": {"schema": BINARY_SCHEMA}}}},
)
async def analyze(
    request: Request,
    vision: VisionDep,
    video_uploads: VideoUploadsDep,
    settings: SettingsDep,
    every: Annotated[
        float | None, Query(gt=0, le=60, description="seconds of video between analysed frames")
    ] = None,
) -> StreamingResponse:
    """Analyse a short clip (the raw body, with its video Content-Type): tracked faces and mood per frame.

    Each line is `{"source", "time_s", "frame", "faces", "mood"}` as in `moodfeed analyze`'s JSON Lines;
    the last is `{"summary": {...}}`.
    """
    media_type = media_type_essence(request.headers.get("content-type", ""))
    if media_type not in ACCEPTED_VIDEO_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send a video ({VIDEO_KINDS}) as the body, not {media_type or 'no type'}",
        )
    client = client_of(request)
    held = AsyncExitStack()  # the upload slot, the clip and its decoder, until the last line is sent
    try:
        video, frames, first = await _first_frame(
            request, client, vision, video_uploads, settings, every, held
        )
    except BaseException as error:
        await held.aclose()
        if isinstance(error, VideoOverLimit):
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, error.reason) from None
        if isinstance(error, VideoError):
            reason = f"the data is not a video with a frame that can be read: {error.reason}"
            raise HTTPException(status.HTTP_400_BAD_REQUEST, reason) from None
        raise
    lines = _lines(first, frames, video.info.duration_s, vision, client)
    return ReleasingStreamingResponse(lines, held)


async def _first_frame(
    request: Request,
    client: str,
    vision: Vision,
    video_uploads: ClientShares,
    settings: Settings,
    every: float | None,
    held: AsyncExitStack,
) -> tuple[OpenedVideo, Iterator[AnalysedFrame], AnalysedFrame]:
    """The clip read and opened, its frames' iterator and its first frame analysed, with what they hold on
    to in `held`; `VideoError` (or `VideoOverLimit`) for a clip that is not one, or is over a limit."""
    # The clip stays in memory while it is analysed, so it keeps its slot as long.
    await held.enter_async_context(video_uploads.slot(client))
    data = await read_capped(request, settings.max_video_bytes, "video")
    path = held.enter_context(video_in_memory(data))
    del data  # the in-memory file holds the clip now
    video = await to_thread.run_sync(open_video, path)  # FFmpeg probes the container: off the loop
    held.callback(video.release)
    max_s, max_pixels = settings.max_video_seconds, settings.max_video_frame_pixels
    video.info.check("upload", max_s, max_pixels)
    frames = analyze_video(video, every, vision.engine, max_s=max_s, max_pixels=max_pixels)
    # The first frame is analysed before the answer starts, so a clip without one gets its 400.
    first = await vision.next_frame(client, frames)
    if first is None:
        raise VideoError("upload", "no frame could be decoded")
    return video, frames, first


class ReleasingStreamingResponse(StreamingResponse):
    """JSON Lines that release what they were read from once the response is over, however it ends: a
    client gone before the first line never starts the lines' generator, so its own cleanup would never
    run."""

    def __init__(self, lines: AsyncIterator[str], held: AsyncExitStack):
        super().__init__(lines, media_type="application/x-ndjson")
        self.held = held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.held.aclose()


async def _lines(
    first: AnalysedFrame, frames: Iterator[AnalysedFrame], duration_s: float, vision: Vision, client: str
) -> AsyncIterator[str]:
    """The first frame's line, then each next frame's as it is analysed (on a vision worker, in the
    client's share), then the summary."""
    summary = Summary("upload", duration_s)
    frame: AnalysedFrame | None = first
    try:
        while frame is not None:
            summary.add(frame)
            yield json.dumps({**frame_json(frame), "source": "upload"}) + "\n"
            frame = await vision.next_frame(client, frames)
    except VideoError as error:
        yield json.dumps({"error": error.reason}) + "\n"
    yield json.dumps({"summary": summary.as_json()}) + "\n"
