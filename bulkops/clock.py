"""The one place in the library that reads time or sleeps.

Library code takes a :class:`Clock` instead of calling ``time``/``anyio.sleep`` directly, so tests can
drive it with :class:`FakeClock`: sleeps return once the fake time has been advanced past their deadline.
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Protocol

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def wall(self) -> float:
        """Unix time in seconds (for timestamps written to reports and checkpoints)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: ``time.monotonic`` and ``anyio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """Virtual time for tests. ``await advance(dt)`` moves time forward and wakes due sleepers in order.

    ``sleep`` blocks until the fake time reaches its deadline; nothing waits on the real clock.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return 1_700_000_000.0 + self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), event))
        await event.wait()

    @property
    def pending(self) -> int:
        """How many sleepers are waiting."""
        return len(self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper at its own deadline, in order."""
        await _settle()  # let tasks that were just started reach their sleep first
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            event.set()
            await _settle()
        self._now = target
        await _settle()

    async def run_until_idle(self, limit: float = 3600.0) -> None:
        """Advance to each next deadline until no sleeper is left (or ``limit`` seconds pass)."""
        end = self._now + limit
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= end:
            await self.advance(self._sleepers[0][0] - self._now)


async def _settle(rounds: int = 20) -> None:
    """Let woken tasks run until they block again."""
    for _ in range(rounds):
        await anyio.lowlevel.checkpoint()
