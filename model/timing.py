"""Timing for the benchmarks: wall and CPU milliseconds of each call after a warm-up, and their figures."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class CallTimes:
    """Milliseconds of each timed call: wall clock, and this thread's CPU time (which a busy machine does
    not inflate)."""

    wall_ms: list[float]
    cpu_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.wall_ms)

    def percentile_ms(self, share: float) -> float:
        """The wall time below which `share` (0-1) of the calls finished."""
        return percentile(self.wall_ms, share)

    @property
    def cpu_median_ms(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def cpu_mean_ms(self) -> float:
        return statistics.fmean(self.cpu_ms)


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` (0.01-0.99) of `values` lie, interpolated between the values; the one
    value where there is one."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def time_each(call: Callable[[Item], object], items: Iterable[Item], warmup: int = 1) -> CallTimes:
    """Time `call(item)` for each item, after `warmup` untimed calls on the first: first-call allocations
    are not what a running server pays."""
    items = list(items)
    for _ in range(warmup):
        call(items[0])
    wall, cpu = [], []
    for item in items:
        wall_started, cpu_started = time.perf_counter(), time.thread_time()
        call(item)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - wall_started) * 1000)
    return CallTimes(wall, cpu)


def time_repeated(call: Callable[[], object], repeats: int, warmup: int = 1) -> CallTimes:
    """Time `call()` `repeats` times after `warmup` untimed calls."""
    return time_each(lambda _: call(), range(repeats), warmup)
