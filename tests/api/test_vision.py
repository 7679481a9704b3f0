"""`service.api.vision.Vision`, the engine as the routes use it: off the event loop, on its own threads."""

from __future__ import annotations

from pathlib import Path

import anyio
from anyio import to_thread

from service.api.vision import Vision
from tests.support import PATIENCE_S, vision_settings
from tests.vision.frames import encode, webcam_frame


def test_an_analysis_takes_no_thread_from_the_pool_the_probes_and_synchronous_routes_share(
    tiny_model: Path, tmp_path: Path
) -> None:
    async def scenario() -> int:
        vision = await Vision.open(vision_settings(tiny_model, tmp_path))
        shared = to_thread.current_default_thread_limiter()
        shared.total_tokens = 1
        taken, finished = anyio.Event(), anyio.Event()

        async def take_the_shared_pool() -> None:
            async with shared:
                taken.set()
                await finished.wait()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(take_the_shared_pool)
            await taken.wait()  # every thread of the shared pool is taken now
            with anyio.fail_after(PATIENCE_S):  # were the analysis on that pool, it would wait for ever
                analysis = await vision.analyse_photo("203.0.113.5", encode(webcam_frame()), True, None)
            finished.set()
        return len(analysis.faces)

    assert anyio.run(scenario) == 1
