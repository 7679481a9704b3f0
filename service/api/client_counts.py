"""How many of something (connections, streams, slots) each client address holds."""

from __future__ import annotations

from collections import Counter


class ClientCounts:
    """Counts per client address that forget an address once it holds none, so the table holds only the
    addresses using the server now, not every address ever seen."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def __getitem__(self, client: str) -> int:
        return self._counts[client]  # 0 for an address holding nothing, without storing it

    def __len__(self) -> int:
        return len(self._counts)

    def add(self, client: str) -> None:
        self._counts[client] += 1

    def remove(self, client: str) -> bool:
        """Take one away; whether the address now holds none (and is forgotten)."""
        self._counts[client] -= 1
        if self._counts[client] > 0:
            return False
        del self._counts[client]
        return True
