"""Pages → batches of at most ``max_ids`` IDs, and the bookkeeping that turns acks into watermarks.

Batches finish out of order, and a page may be split across two batches. :class:`WatermarkTracker`
counts, per page, the IDs not yet acknowledged; a chain's watermark moves to a page's position only
when that page and every earlier page of the chain are fully acknowledged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.engine.fanout import Chain
from bulkops.engine.sources import Page
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["Batch", "WatermarkTracker", "batch_pages"]


@dataclass(frozen=True, slots=True)
class Batch:
    """IDs to handle in one request. ``parts``: (chain, page number, IDs of that page in here)."""

    seq: int
    ids: tuple[str, ...]
    parts: tuple[tuple[int, int, int], ...]


@dataclass(slots=True)
class _PendingPage:
    number: int
    remaining: int
    position: str | None
    last: bool


@dataclass(slots=True)
class _ChainPages:
    pages: deque[_PendingPage] = field(default_factory=deque)
    by_number: dict[int, _PendingPage] = field(default_factory=dict)
    next_number: int = 0


class WatermarkTracker:
    """Per chain, the pages handed out and not yet fully acknowledged."""

    def __init__(self, chain_of: Callable[[int], Chain]) -> None:
        self._chain_of = chain_of
        self._chains: dict[int, _ChainPages] = {}
        self.unacknowledged_ids = 0

    def add_page(self, page: Page) -> int:
        """Register ``page``; returns its number within its chain."""
        state = self._chains.setdefault(page.chain, _ChainPages())
        pending = _PendingPage(state.next_number, len(page.ids), page.position, page.last)
        state.next_number += 1
        state.pages.append(pending)
        state.by_number[pending.number] = pending
        self.unacknowledged_ids += len(page.ids)
        return pending.number

    def ack(self, parts: tuple[tuple[int, int, int], ...]) -> list[Chain]:
        """Acknowledge a batch; returns the chains whose watermark (position or done) moved."""
        moved: dict[int, Chain] = {}
        for chain_id, number, count in parts:
            state = self._chains[chain_id]
            pending = state.by_number.get(number)
            if pending is None:  # an empty page, already retired once the pages before it were
                continue
            pending.remaining -= count
            self.unacknowledged_ids -= count
            while state.pages and state.pages[0].remaining == 0:
                page = state.pages.popleft()
                del state.by_number[page.number]
                chain = self._chain_of(chain_id)
                if page.last:
                    chain.done = True
                else:
                    chain.position = page.position
                moved[chain_id] = chain
        return list(moved.values())


async def batch_pages(
    receive: MemoryObjectReceiveStream[Page],
    send: MemoryObjectSendStream[Batch],
    tracker: WatermarkTracker,
    *,
    max_ids: int = MAX_IDS_PER_REQUEST,
    linger: float = 0.05,
) -> None:
    """Cut pages into batches of ≤ ``max_ids``; send a partial batch once no page came for ``linger`` s.

    Empty pages (a chain's end) ride along in the next batch, which may carry no ID at all.
    """
    ids: list[str] = []
    parts: list[tuple[int, int, int]] = []
    seq = 0

    async def flush() -> None:
        nonlocal ids, parts, seq
        if ids or parts:
            await send.send(Batch(seq, tuple(ids), tuple(parts)))
            seq += 1
            ids, parts = [], []

    async with receive, send:
        while True:
            page: Page | None = None
            if ids or parts:
                with anyio.move_on_after(linger):
                    page = await _next(receive)
                if page is None:
                    await flush()
                    page = await _next(receive)
            else:
                page = await _next(receive)
            if page is None:
                break
            number = tracker.add_page(page)
            offset = 0
            if not page.ids:
                parts.append((page.chain, number, 0))
            while offset < len(page.ids):
                take = min(max_ids - len(ids), len(page.ids) - offset)
                ids.extend(page.ids[offset : offset + take])
                parts.append((page.chain, number, take))
                offset += take
                if len(ids) >= max_ids:
                    await flush()
        await flush()


async def _next(receive: MemoryObjectReceiveStream[Page]) -> Page | None:
    try:
        return await receive.receive()
    except anyio.EndOfStream:
        return None
