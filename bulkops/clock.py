"""The one place in the library that reads time or sleeps.

Library code takes a :class:`Clock` instead of calling ``time``/``anyio.sleep`` directly, so tests can
drive it with :class:`FakeClock` (public as ``bulkops.testing.FakeClock``): sleeps return once the fake
time has been moved past their deadline, by hand (``jump``/``advance``) or automatically (``autojump``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Protocol

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock", "settle"]


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

# Plain checkpoints before anyio's exact wait (which polls every 0.1 s of real time once it has to wait):
# at least _MIN_ROUNDS, so that socket I/O with a server in the same loop gets a few selector passes,
# then on until every task is seen blocked.
_MIN_ROUNDS = 20
_MAX_ROUNDS = 500


async def settle() -> None:
    """Return once every other task of the event loop is blocked (waiting on something).

    Deterministic, unlike a fixed number of checkpoints: a woken task that needs many rounds to block
    again is never missed. Checkpoints until the tasks are seen blocked (asyncio: the test anyio's
    ``wait_all_tasks_blocked`` makes, without its 0.1 s sleeps), then anyio's wait as the last word.
    A task blocked on real I/O or on a worker thread counts as blocked.
    """
    for done in range(1, _MAX_ROUNDS + 1):
        await anyio.lowlevel.checkpoint()
        if done >= _MIN_ROUNDS and _others_blocked():
            break
    await anyio.wait_all_tasks_blocked()


def _others_blocked() -> bool:
    """Whether every asyncio task but the current one waits on an unfinished future (False elsewhere)."""
    try:
        me = asyncio.current_task()
    except RuntimeError:  # not in an asyncio loop (trio): let anyio decide
        return False
    for task in asyncio.all_tasks():
        waiter = getattr(task, "_fut_waiter", None)
        if task is not me and (waiter is None or waiter.done()):
            return False
    return True


@dataclass(eq=False, slots=True)
class _Sleeper:
    deadline: float
    event: anyio.Event = field(default_factory=anyio.Event)
    cancelled: bool = False
    promoted: bool = False  # woken to take over driving the auto-jump


class FakeClock:
    """Virtual time for tests; nothing ever waits on the real clock.

    ``sleep`` blocks until the fake time reaches its deadline. Time moves only when the test moves it:

    - :meth:`jump` (synchronous): add seconds now; sleepers whose deadline has passed are woken.
    - :meth:`advance` (async): move forward, waking each sleeper *at its own deadline*, in order, and
      letting it run before time moves on; :meth:`run_until_idle` advances until nobody sleeps.
    - ``autojump=True``: whenever every task is blocked and someone sleeps on this clock, time jumps
      to the earliest deadline (trio's autojump clock, with no real-time threshold). Code under test
      then runs as fast as the machine allows and every duration it measures is exact. Do not use it
      with tasks that wait on real I/O: a jump may happen while an answer is on its way.

    Every requested sleep is recorded in :attr:`sleeps`, in call order.
    """

    def __init__(self, start: float = 0.0, *, autojump: bool = False) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, _Sleeper]] = []
        self._seq = itertools.count()
        self._autojump = autojump
        self._driver: _Sleeper | None = None
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return 1_700_000_000.0 + self._now

    @property
    def autojump(self) -> bool:
        return self._autojump

    @property
    def pending(self) -> int:
        """How many sleepers are waiting."""
        return sum(1 for _, _, sleeper in self._sleepers if not sleeper.cancelled)

    def next_deadline(self) -> float | None:
        """The earliest deadline anyone sleeps until, or None."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        sleeper = _Sleeper(self._now + seconds)
        heapq.heappush(self._sleepers, (sleeper.deadline, next(self._seq), sleeper))
        try:
            if self._autojump:
                await self._sleep_autojumping(sleeper)
            else:
                await sleeper.event.wait()
        except BaseException:
            sleeper.cancelled = True
            if self._driver is sleeper or (sleeper.promoted and self._driver is None):
                self._driver = None
                self._promote_next()
            raise

    def jump(self, seconds: float) -> None:
        """Move time forward by ``seconds`` at once; every sleeper whose deadline is now past is woken.

        Synchronous: usable in plain (non-async) tests. Woken tasks run at the caller's next checkpoint
        and all see the new time.
        """
        if seconds < 0:
            raise ValueError(f"time only moves forward: jump({seconds}) is negative")
        self._now += seconds
        self._wake_due()

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper at its own deadline, in order."""
        if seconds < 0:
            raise ValueError(f"time only moves forward: advance({seconds}) is negative")
        await settle()  # let tasks that were just started reach their sleep first
        target = self._now + seconds
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            self._now = max(self._now, deadline)
            self._wake_due()
            await settle()
        self._now = target
        await settle()

    async def run_until_idle(self, limit: float = 3600.0) -> None:
        """Advance to each next deadline until no sleeper is left (or ``limit`` seconds pass)."""
        end = self._now + limit
        await settle()
        while (deadline := self.next_deadline()) is not None and deadline <= end:
            await self.advance(deadline - self._now)

    # -- internals ---------------------------------------------------------------------------------
    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].cancelled:
            heapq.heappop(self._sleepers)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            sleeper = heapq.heappop(self._sleepers)[2]
            if not sleeper.cancelled:
                sleeper.event.set()

    async def _sleep_autojumping(self, sleeper: _Sleeper) -> None:
        """Wait for ``sleeper``'s deadline; meanwhile, if no other sleeper does, drive the clock.

        One sleeper at a time drives: it waits until every other task is blocked and then jumps to the
        earliest deadline. When its own deadline has come it hands the role to the earliest sleeper left.
        """
        while sleeper.deadline > self._now:
            if self._driver is None:
                self._driver = sleeper
                sleeper.promoted = False
            if self._driver is sleeper:
                await settle()
                deadline = self.next_deadline()
                if deadline is not None:
                    self.jump(max(0.0, deadline - self._now))
            else:
                await sleeper.event.wait()
                if sleeper.deadline > self._now:  # woken only to take over driving
                    sleeper.event = anyio.Event()
        if self._driver is sleeper:
            self._driver = None
            self._promote_next()

    def _promote_next(self) -> None:
        """Wake the earliest live sleeper so that it drives the auto-jump (its deadline stays)."""
        self._drop_cancelled()
        if self._sleepers:
            nxt = self._sleepers[0][2]
            nxt.promoted = True
            nxt.event.set()
