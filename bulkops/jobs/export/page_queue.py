"""The export's page queue: listed pages of every namespace being exported wait here for a fetch worker.

A fetch names one namespace, so a worker takes whole pages of one namespace, up to 1000 IDs. The queue
holds pages of every active namespace (at most ``lanes`` of them): ``put`` waits while a namespace has
``capacity`` IDs queued, or while the whole queue holds ``total_capacity`` and the namespace does not
hold the pen (its records could not be written yet anyway); ``take`` hands out the oldest namespace's
pages that are ready and that ``admit`` lets through (see :mod:`bulkops.jobs.export.pen`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import anyio

from bulkops.clock import Clock
from bulkops.jobs.export.commits import PageSlice

__all__ = ["PageQueue"]

Admit = Callable[[str, int], int | None]  # (namespace, IDs) -> buffer room taken, or None: not now
# A namespace this close to the end of its linger is taken now. A shorter wait is a spin: its timeout
# (on the event loop's clock) has passed before the wait starts; and with a fake job clock, which
# moves only while every task waits, it spun for good (found by tests/jobs/test_schedules.py).
_DUE_WITHIN = 0.001


class PageQueue:
    """Listed pages waiting for a fetch (see the module docstring).

    A worker waits a little (``linger``) for a fuller batch while a namespace has fewer than ``min_ids``
    queued and may list more: fetch has its own budget (100 req/s) and small fetches would waste it. A
    namespace whose listing is over (``close``) is taken at once, however few IDs it has.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        capacity: int,
        total_capacity: int,
        min_ids: int,
        linger: float,
        pen: Callable[[str], bool],
    ) -> None:
        self._clock = clock
        self._pages: dict[str, deque[tuple[PageSlice, float]]] = {}
        self._ids: dict[str, int] = {}
        self._closed: set[str] = set()
        self._total = 0
        self._capacity = capacity
        self._total_capacity = total_capacity
        self._min_ids = min_ids
        self._linger = linger
        self._holds_pen = pen
        self._finished = False
        self._changed = anyio.Event()

    def notify(self) -> None:
        """Something a waiting ``put`` or ``take`` depends on changed (also the pen, or buffer room)."""
        self._changed.set()
        self._changed = anyio.Event()

    def open(self, namespace: str) -> None:
        self._pages[namespace] = deque()
        self._ids[namespace] = 0

    async def put(self, namespace: str, piece: PageSlice) -> None:
        while self._ids[namespace] >= self._capacity or (
            self._total >= self._total_capacity and not self._holds_pen(namespace)
        ):
            await self._changed.wait()
        self._pages[namespace].append((piece, self._clock.now()))
        self._ids[namespace] += len(piece.ids)
        self._total += len(piece.ids)
        self.notify()

    def close(self, namespace: str) -> None:
        """Its listing is over: no more pages will come."""
        self._closed.add(namespace)
        self.notify()

    def drained(self, namespace: str) -> bool:
        """Its listing is over and every page was taken."""
        return namespace in self._closed and not self._pages.get(namespace)

    def forget(self, namespace: str) -> None:
        self._pages.pop(namespace, None)
        self._ids.pop(namespace, None)
        self._closed.discard(namespace)

    def finish(self) -> None:
        """No namespace will be opened any more: ``take`` returns None once the queue is empty."""
        self._finished = True
        self.notify()

    async def take(self, max_ids: int, admit: Admit) -> tuple[str, list[PageSlice], int] | None:
        """Up to ``max_ids`` IDs of whole pages of one namespace, with the buffer room ``admit`` took
        for them; None when everything is taken and no namespace will be opened any more."""
        while True:
            wait: float | None = None
            now = self._clock.now()
            queued = sorted(
                ((pages[0][1], ns) for ns, pages in self._pages.items() if pages), key=lambda t: t[0]
            )
            for since, namespace in queued:
                age = now - since
                if not (
                    self._ids[namespace] >= self._min_ids
                    or namespace in self._closed
                    or age >= self._linger - _DUE_WITHIN
                ):
                    left = self._linger - age
                    wait = left if wait is None else min(wait, left)
                    continue
                pages, count = self._batch(namespace, max_ids)
                reserved = admit(namespace, count)
                if reserved is None:
                    continue
                return namespace, self._pop(namespace, pages, count), reserved
            if not queued and self._finished:
                return None
            if wait is None:
                await self._changed.wait()
            else:
                with anyio.move_on_after(wait):
                    await self._changed.wait()

    def _batch(self, namespace: str, max_ids: int) -> tuple[int, int]:
        """How many of the namespace's first pages make the next batch, and their IDs."""
        pages = count = 0
        for piece, _ in self._pages[namespace]:
            if pages and count + len(piece.ids) > max_ids:
                break
            pages += 1
            count += len(piece.ids)
        return pages, count

    def _pop(self, namespace: str, pages: int, count: int) -> list[PageSlice]:
        queued = self._pages[namespace]
        taken = [queued.popleft()[0] for _ in range(pages)]
        self._ids[namespace] -= count
        self._total -= count
        self.notify()
        return taken
