"""WS /ws/stream: binary JPEG frames in, one JSON answer per analysed frame out.

Frames are read as fast as they arrive, but only the newest unanalysed one is kept: when the server
falls behind, older frames are skipped (and counted in `dropped`) rather than queued, so answers stay
current and memory stays flat. A frame that cannot be analysed gets `{"seq", "error", "dropped"}` and
the stream carries on.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from service.api.deps import (
    SettingsDep,
    client_of,
    loaded_vision,
    vision_load_error,
    vision_unavailable_reason,
)
from service.api.schemas import FrameErrorOut, FrameOut
from service.api.vision import Vision
from service.observability import FRAMES_DROPPED
from service.vision.images import PHOTO_KINDS, ImageError

router = APIRouter(tags=["vision"])

TEXT_FRAME_ERROR = f"send each frame as a binary WebSocket message holding a {PHOTO_KINDS} image"
MAX_CLOSE_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, the code's two among them


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry: bytes of UTF-8, not characters (a model path may be
    in any script)."""
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class LatestFrame:
    """A one-place mailbox: a frame put while another still waits replaces it, and that one is dropped.

    A frame is its sequence number and its bytes; None for a text message, which holds no image."""

    def __init__(self) -> None:
        self.dropped = 0
        self.closed = False
        self._frame: tuple[int, bytes | None] | None = None
        self._arrived = anyio.Event()

    def put(self, seq: int, payload: bytes | None) -> None:
        if self._frame is not None:
            self.dropped += 1
            FRAMES_DROPPED.inc()
        self._frame = (seq, payload)
        self._arrived.set()

    def close(self) -> None:
        self.closed = True
        self._arrived.set()

    async def take(self) -> tuple[int, bytes | None] | None:
        """The newest frame once there is one; None when the stream has closed."""
        while self._frame is None and not self.closed:
            self._arrived = anyio.Event()
            await self._arrived.wait()
        frame, self._frame = self._frame, None
        return frame


@router.websocket("/ws/stream")
async def stream(websocket: WebSocket, settings: SettingsDep) -> None:
    """Analyse a webcam stream: track faces, read their emotions, and answer with the stream's mood."""
    await websocket.accept()
    vision = loaded_vision(websocket.app)
    if vision is None:  # 1011 if the model cannot be loaded, 1013 (try again later) while it loads
        failed = vision_load_error(websocket.app) is not None
        code = status.WS_1011_INTERNAL_ERROR if failed else status.WS_1013_TRY_AGAIN_LATER
        await websocket.close(code, close_reason(vision_unavailable_reason(websocket.app)))
        return
    mailbox = LatestFrame()
    idle_timeout_s = settings.stream_idle_timeout_s
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_answer_frames, websocket, vision, mailbox)
        await _receive_frames(websocket, mailbox, idle_timeout_s)
        tasks.cancel_scope.cancel()


async def _receive_frames(websocket: WebSocket, mailbox: LatestFrame, idle_timeout_s: float) -> None:
    seq = 0
    while True:
        with anyio.move_on_after(idle_timeout_s) as idle:
            message = await websocket.receive()
        if idle.cancelled_caught:  # a stream slot is not for holding: free it for someone who streams
            mailbox.close()
            await websocket.close(status.WS_1000_NORMAL_CLOSURE, f"no frame for {idle_timeout_s:g} s")
            return
        if message["type"] == "websocket.disconnect":
            mailbox.close()
            return
        seq += 1
        mailbox.put(seq, message.get("bytes"))


async def _answer_frames(websocket: WebSocket, vision: Vision, mailbox: LatestFrame) -> None:
    session = vision.engine.open_stream()
    while (frame := await mailbox.take()) is not None:
        seq, payload = frame
        answer: FrameOut | FrameErrorOut
        try:
            if payload is None:
                answer = FrameErrorOut(seq=seq, error=TEXT_FRAME_ERROR, dropped=mailbox.dropped)
            else:
                analysis = await vision.analyse_frame(client_of(websocket), session, payload)
                answer = FrameOut.of(seq, analysis, mailbox.dropped)
        except ImageError as error:
            answer = FrameErrorOut(seq=seq, error=str(error), dropped=mailbox.dropped)
        try:
            await websocket.send_text(answer.model_dump_json())
        except WebSocketDisconnect:
            return
