"""Fair shares of a scarce resource (vision workers, upload buffers) among client addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import CapacityLimiter

from service.api.client_counts import ClientCounts


class ClientShares:
    """A pool of `total` slots of which one client address may hold at most `per_client` at once.

    A client's requests beyond its share wait on that client's own limiter, outside the pool's queue, so
    a client sending many requests at once queues behind itself instead of ahead of everyone else.
    """

    def __init__(self, total: int, per_client: int | None = None) -> None:
        """`per_client` by default: half the pool, so that no one address can take all of it."""
        self.per_client = min(per_client or max(1, total // 2), total)
        self._pool = CapacityLimiter(total)
        self._by_client: dict[str, CapacityLimiter] = {}
        self._users = ClientCounts()

    def clients_holding_or_waiting(self) -> int:
        """Client addresses holding or waiting for a slot now."""
        return len(self._users)

    @asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        """Hold one of the pool's slots, and one of `client`'s, for the duration of the block."""
        limiter = self._by_client.setdefault(client, CapacityLimiter(self.per_client))
        self._users.add(client)
        try:
            async with limiter, self._pool:
                yield
        finally:
            if self._users.remove(client):  # no one of this client holds or waits: forget it
                del self._by_client[client]
