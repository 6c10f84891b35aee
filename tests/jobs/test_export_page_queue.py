"""The export's page queue (bulkops.jobs.export.page_queue): a worker waits for a fuller batch for at
most the linger, and never spins while it waits."""

from __future__ import annotations

import anyio
import pytest

from bulkops.clock import FakeClock
from bulkops.engine.sources import Page
from bulkops.jobs.export.commits import PageSlice
from bulkops.jobs.export.page_queue import PageQueue


def _slice(ids: tuple[str, ...]) -> PageSlice:
    return PageSlice(Page(0, ids, ids[-1], False), 0, ids)


@pytest.mark.parametrize("early", [0.0, 64e-9, 0.0004])
async def test_a_few_ids_are_taken_when_their_linger_is_over_even_a_hair_early(early: float) -> None:
    # Seen under a fake clock: 64 ns of linger left made a timeout that had passed before its wait
    # began; the worker spun, and the fake clock (which moves only while every task waits) never moved.
    clock = FakeClock()
    queue = PageQueue(
        clock, capacity=10_000, total_capacity=10_000, min_ids=500, linger=0.02, pen=lambda _: True
    )
    queue.open("ns")
    await queue.put("ns", _slice(("a", "b")))
    clock.jump(0.02 - early)
    with anyio.fail_after(1):  # real seconds: a spin never ends
        taken = await queue.take(1000, lambda _ns, _ids: 0)
    assert taken is not None
    namespace, slices, _ = taken
    assert (namespace, [s.ids for s in slices]) == ("ns", [("a", "b")])


async def test_a_few_ids_wait_while_their_linger_is_not_over() -> None:
    clock = FakeClock()
    queue = PageQueue(
        clock, capacity=10_000, total_capacity=10_000, min_ids=500, linger=0.02, pen=lambda _: True
    )
    queue.open("ns")
    await queue.put("ns", _slice(("a", "b")))
    clock.jump(0.01)
    with anyio.move_on_after(0.005):  # real seconds, less than the 10 ms of linger left
        await queue.take(1000, lambda _ns, _ids: 0)
        pytest.fail("taken before the linger was over")
