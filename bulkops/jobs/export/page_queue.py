"""The export's page queue: listed pages wait here until a fetch worker is free to take a batch."""

from __future__ import annotations

from collections import deque

import anyio

from bulkops.clock import Clock
from bulkops.jobs.export.commits import PageSlice

__all__ = ["PageQueue"]


class PageQueue:
    """Listed pages waiting for a fetch. ``take`` hands a free worker up to 1000 IDs of whole pages.

    A worker waits a little (``linger``) for a fuller batch while fewer than ``min_ids`` are queued:
    fetch has its own budget (100 req/s) and small fetches would waste it.
    """

    def __init__(self, clock: Clock, *, capacity: int, min_ids: int, linger: float) -> None:
        self._clock = clock
        self._pages: deque[tuple[PageSlice, float]] = deque()
        self._ids = 0
        self._capacity = capacity
        self._min_ids = min_ids
        self._linger = linger
        self._closed = False
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def put(self, piece: PageSlice) -> None:
        while self._ids >= self._capacity:
            await self._changed.wait()
        self._pages.append((piece, self._clock.now()))
        self._ids += len(piece.ids)
        self._notify()

    def close(self) -> None:
        self._closed = True
        self._notify()

    async def take(self, max_ids: int) -> list[PageSlice] | None:
        while True:
            if not self._pages:
                if self._closed:
                    return None
                await self._changed.wait()
                continue
            age = self._clock.now() - self._pages[0][1]
            if self._ids >= self._min_ids or self._closed or age >= self._linger:
                break
            with anyio.move_on_after(self._linger - age):
                await self._changed.wait()
        taken: list[PageSlice] = []
        count = 0
        while self._pages and (not taken or count + len(self._pages[0][0].ids) <= max_ids):
            page, _ = self._pages.popleft()
            taken.append(page)
            count += len(page.ids)
        self._ids -= count
        self._notify()
        return taken
