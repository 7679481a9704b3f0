"""Fair shares: one client address cannot take every vision worker or upload slot from the others."""

from __future__ import annotations

import anyio
import pytest

from service.api.shares import ClientShares
from tests.support import PATIENCE_S


@pytest.mark.anyio
async def test_a_client_beyond_its_share_waits_while_another_client_gets_a_slot() -> None:
    shares = ClientShares(total=2, per_client=1)
    holding, released, order = anyio.Event(), anyio.Event(), []

    async def hog(index: int) -> None:
        async with shares.slot("hog"):
            order.append(f"hog {index}")
            holding.set()
            await released.wait()  # the hog's first request lasts until the other client has its slot

    async with anyio.create_task_group() as tasks:
        for index in range(4):
            tasks.start_soon(hog, index)
        await holding.wait()
        await anyio.wait_all_tasks_blocked()  # the hog's other three requests are waiting too
        # Were the second slot the hog's, this would wait for ever: the guard only ends a hung test.
        with anyio.fail_after(PATIENCE_S):
            async with shares.slot("other"):
                order.append("other")
        released.set()
    assert order[:2] == ["hog 0", "other"]


@pytest.mark.anyio
async def test_idle_clients_are_forgotten() -> None:
    shares = ClientShares(total=2, per_client=1)
    async with shares.slot("a"):
        pass
    assert shares.clients_holding_or_waiting() == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
