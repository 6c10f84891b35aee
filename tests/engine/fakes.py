"""Helpers for the engine tests. The in-memory data plane itself is ``bulkops.testing.FakeDataPlane``."""

from __future__ import annotations

import anyio

from bulkops.engine.sources import ListSource, Page

__all__ = ["collect_pages"]


async def collect_pages(source: ListSource) -> list[Page]:
    """Run ``source`` to the end and return every page it produced, in arrival order."""
    send, receive = anyio.create_memory_object_stream[Page](4)
    pages: list[Page] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(source.run, send)
        async with receive:
            async for page in receive:
                pages.append(page)
    return pages
