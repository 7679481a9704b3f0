"""The vision engine as the routes use it: off the event loop, in fair shares, observed in the metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from anyio import CapacityLimiter, to_thread

from service.api.shares import ClientShares
from service.config import Settings
from service.frames import AnalysedFrame
from service.observability import (
    DETECTION_DURATION,
    FACES_PER_FRAME,
    INFERENCE_DURATION,
    INFERENCE_PATH,
    INFERENCE_PATH_DIFFERENCE,
)
from service.vision.engine import StreamSession, VisionEngine
from service.vision.results import Analysis, Face, Timings

Result = TypeVar("Result")


class Observable(Protocol):
    """What the metrics read from an analysed image: its stage timings and its faces."""

    @property
    def timings(self) -> Timings: ...

    @property
    def faces(self) -> Sequence[Face]: ...


Observed = TypeVar("Observed", bound=Observable)


class Vision:
    """The vision engine as the routes use it: off the event loop, a bounded number of images at once.

    Analyses run on worker threads so that one stream never stalls another; at most `vision_workers`
    run together, so a burst of requests queues instead of oversubscribing the cores, and one client
    address holds at most its share of them, so it cannot starve the others. Each analysis's
    timings and face count go to the Prometheus metrics. The threads are their own, not anyio's default
    pool, which the synchronous routes and dependencies (health probes among them) run on.
    """

    def __init__(self, engine: VisionEngine, workers: int, workers_per_client: int | None):
        self.engine = engine
        self.workers = ClientShares(workers, workers_per_client)
        self._threads = CapacityLimiter(workers)

    @classmethod
    async def open(cls, settings: Settings) -> Vision:
        """Load the model and cascades off the event loop; raises `ModelError` if the model is unusable."""
        engine = await to_thread.run_sync(VisionEngine.from_settings, settings)
        kernels = engine.classifier.kernel_check
        for path in ("optimised", "reference"):
            INFERENCE_PATH.labels(path).set(1 if path == kernels.path else 0)
        INFERENCE_PATH_DIFFERENCE.set(kernels.max_probability_difference)
        return cls(engine, settings.vision_workers, settings.vision_workers_per_client)

    async def analyse_photo(
        self, client: str, data: bytes, detect: bool, min_face_px: int | None
    ) -> Analysis:
        return self._observed(await self._run(client, self.engine.analyse_photo, data, detect, min_face_px))

    async def analyse_frame(self, client: str, session: StreamSession, data: bytes) -> Analysis:
        return self._observed(await self._run(client, session.analyse_frame, data))

    async def next_frame(self, client: str, frames: Iterator[AnalysedFrame]) -> AnalysedFrame | None:
        """A clip's next analysed frame, or None after its last."""
        frame = await self._run(client, next, frames, None)
        return None if frame is None else self._observed(frame)

    async def _run(self, client: str, function: Callable[..., Result], *args: Any) -> Result:
        async with self.workers.slot(client):
            return await to_thread.run_sync(function, *args, limiter=self._threads)

    @staticmethod
    def _observed(result: Observed) -> Observed:
        """`result`, its timings and face count recorded in the metrics."""
        DETECTION_DURATION.observe(result.timings.detect_ms / 1000)
        INFERENCE_DURATION.observe(result.timings.classify_ms / 1000)
        FACES_PER_FRAME.observe(len(result.faces))
        return result
