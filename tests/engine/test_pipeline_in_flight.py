"""The pipeline keeps as many requests in flight as Little's law asks for (rate × latency), no fewer."""

from __future__ import annotations

from collections.abc import Sequence

from bulkops.engine.concurrency import in_flight_for
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdsSource
from bulkops.testing import FakeClock


async def test_workers_in_flight_reach_the_littles_law_target() -> None:
    latency, rate = 0.02, 1000.0
    clock = FakeClock(autojump=True)
    target = in_flight_for(rate, latency)  # 30: well above what a small fixed pool would give
    ids = [f"id-{i:06d}" for i in range(120_000)]
    active = peak = 0
    sizes: list[int] = []

    async def work(batch: Sequence[str]) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        sizes.append(len(batch))
        await clock.sleep(latency)
        active -= 1

    stats = await run_pipeline(IdsSource(ids, page_size=1000), work, rate=rate, max_workers=32, clock=clock)
    assert stats.processed == len(ids)
    assert sizes == [1000] * 120  # full batches: the batcher never cuts a flowing source short
    assert peak >= target
    assert stats.max_workers_used >= target
