"""The pipeline: batches ≤ 1000, every ID once, watermarks only over acknowledged pages, resume."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkops.engine.batcher import Batch, WatermarkTracker, batch_pages
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.fanout import Chain
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdsSource, ListSource, Page
from bulkops.errors import ServerError
from bulkops.testing import FakeClock, FakeDataPlane, settle


def test_watermark_moves_only_over_contiguous_acknowledged_pages() -> None:
    chain = Chain(0, "")
    tracker = WatermarkTracker(lambda _: chain)
    for i in range(3):
        tracker.add_page(Page(0, ("a", "b"), f"p{i}", i == 2))
    assert tracker.ack(((0, 1, 2),)) == []  # page 1 done, page 0 not yet
    assert chain.position is None
    assert tracker.ack(((0, 0, 1),)) == []
    assert tracker.ack(((0, 0, 1),)) == [chain]
    assert chain.position == "p1"
    assert not chain.done
    tracker.ack(((0, 2, 2),))
    assert chain.done
    assert tracker.unacknowledged_ids == 0


async def test_batcher_splits_pages_and_carries_empty_ones() -> None:
    chains = {0: Chain(0, ""), 1: Chain(1, "x")}
    tracker = WatermarkTracker(chains.__getitem__)
    page_send, page_receive = anyio.create_memory_object_stream[Page](10)
    batch_send, batch_receive = anyio.create_memory_object_stream[Batch](10)
    await page_send.send(Page(0, tuple(f"a{i}" for i in range(700)), "t1", False))
    await page_send.send(Page(1, (), None, True))
    await page_send.send(Page(0, tuple(f"b{i}" for i in range(700)), None, True))
    page_send.close()
    await batch_pages(page_receive, batch_send, tracker, max_ids=1000)
    batches = [b async for b in batch_receive]
    assert [len(b.ids) for b in batches] == [1000, 400]
    assert batches[0].parts == ((0, 0, 700), (1, 0, 0), (0, 1, 300))
    for batch in batches:
        tracker.ack(batch.parts)
    assert chains[0].done
    assert chains[1].done


async def test_pipeline_deletes_everything_under_the_prefix_once(tmp_path: Path) -> None:
    ids = [f"doc#{i:05d}" for i in range(5000)] + ["keep1", "doc", "dod"]
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": ids}, latency=0.001, clock=clock)
    source = ListSource(dp, namespace="ns", prefix="doc#", target_chains=8, clock=clock)

    async def work(batch: Sequence[str]) -> None:
        await dp.delete_ids(batch, namespace="ns")

    with Checkpoint.open(tmp_path / "c", kind="purge", spec={"p": "doc#"}) as cp:
        stats = await run_pipeline(
            source, work, checkpoint=cp, scope="ns", counter="deleted", rate=100.0, clock=clock
        )
        assert stats.processed == 5000
        assert cp.counters()["deleted"] == 5000
        assert all(c.done for c in cp.chains("ns"))
        assert len(cp.chains("ns")) > 1
        assert cp.in_flight() == []
    assert dp.namespaces["ns"] == ["doc", "dod", "keep1"]
    assert all(len(b) <= 1000 for b in dp.deleted_batches)
    deleted = [i for b in dp.deleted_batches for i in b]
    assert len(deleted) == len(set(deleted)) == 5000


async def test_a_failure_leaves_a_checkpoint_that_resumes_exactly(tmp_path: Path) -> None:
    ids = [f"k{i:05d}" for i in range(6000)]
    dp = FakeDataPlane({"ns": [*ids, "z"]}, fail_every=4)
    path = tmp_path / "c"

    async def work(batch: Sequence[str]) -> None:
        await dp.delete_ids(batch, namespace="ns")

    runs = 0
    while True:
        runs += 1
        with Checkpoint.open(path, kind="purge", spec={"p": "k"}) as cp:
            source = ListSource(dp, namespace="ns", prefix="k", chains=cp.chains("ns"), target_chains=4)
            try:
                await run_pipeline(source, work, checkpoint=cp, scope="ns", counter="deleted", batch_size=300)
                break
            except* ServerError:
                assert runs < 50
    assert runs > 1
    assert dp.namespaces["ns"] == ["z"]


async def test_cancellation_keeps_in_flight_batches_for_the_next_run(tmp_path: Path) -> None:
    ids = [f"c{i:04d}" for i in range(3000)]
    dp = FakeDataPlane({"ns": ids})
    path = tmp_path / "c"
    calls = 0

    async def slow_work(batch: Sequence[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            await anyio.sleep_forever()
        await dp.delete_ids(batch, namespace="ns")

    with Checkpoint.open(path, kind="purge", spec={}) as cp:
        source = ListSource(dp, namespace="ns", prefix="c", target_chains=1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_pipeline(
                    source, slow_work, checkpoint=cp, scope="ns", max_workers=1, batch_size=500
                )
            )
            await settle()  # the second batch hangs; everything else waits on it
            assert calls == 2
            tg.cancel_scope.cancel()
        assert len(cp.in_flight()) == 1
        watermark = cp.chains("ns")[0]
        assert watermark.position is not None
        assert not watermark.done

    async def work(batch: Sequence[str]) -> None:
        await dp.delete_ids(batch, namespace="ns")

    with Checkpoint.open(path, kind="purge", spec={}) as cp:
        source = ListSource(dp, namespace="ns", prefix="c", chains=cp.chains("ns"))
        stats = await run_pipeline(source, work, checkpoint=cp, scope="ns", batch_size=500)
        assert stats.redone == 500
        assert cp.in_flight() == []
    assert dp.namespaces["ns"] == []


async def test_ids_source_resumes_after_consumed_ids(tmp_path: Path) -> None:
    ids = [f"i{i}" for i in range(2500)]
    chain = Chain(0, "", position="1200")
    source = IdsSource(ids, chains=[chain], page_size=1000)
    seen: list[str] = []

    async def work(batch: Sequence[str]) -> None:
        seen.extend(batch)

    await run_pipeline(source, work)
    assert seen == ids[1200:]
    assert chain.done


@pytest.mark.parametrize("rate", [None, 50.0])
async def test_workers_follow_littles_law(rate: float | None) -> None:
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": [f"w{i:05d}" for i in range(20000)]}, latency=0.02, clock=clock)
    in_flight = 0
    levels: list[tuple[int, int]] = []  # (in flight once this call started, calls finished before it)
    finished = 0

    async def work(batch: Sequence[str]) -> None:
        nonlocal in_flight, finished
        in_flight += 1
        levels.append((in_flight, finished))
        await clock.sleep(0.02)
        in_flight -= 1
        finished += 1

    source = ListSource(dp, namespace="ns", prefix="w", target_chains=16, clock=clock)
    await run_pipeline(source, work, rate=rate, max_workers=12, batch_size=100, clock=clock)
    assert len(levels) == 200
    if rate is None:
        assert max(level for level, _ in levels) == 12  # no rate known: the whole pool
    else:
        # Little's law on the measured 20 ms: ceil(50/s × 0.02 s × 1.5) = 2 in flight, never more, and
        # reached once the listing feeds batches fast enough (no rate-limited pool starves).
        assert max(level for level, _ in levels) == 2
        assert [level for level, done in levels if done >= 4].count(2) >= 90


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=st.lists(st.text(st.sampled_from("\x01/09Aaz\x7f"), min_size=1, max_size=5), max_size=150),
    fail_every=st.integers(2, 6),
    target=st.integers(1, 40),
    batch=st.integers(1, 7),
)
def test_failures_and_resumes_end_exact(ids: list[str], fail_every: int, target: int, batch: int) -> None:
    """Whatever fails when, resuming until done deletes exactly the IDs under the prefix."""

    async def scenario(path: Path) -> None:
        dp = FakeDataPlane({"ns": ids}, fail_every=fail_every, page_cap=2)
        keep = sorted(i for i in set(ids) if not i.startswith("0"))

        async def work(chunk: Sequence[str]) -> None:
            await dp.delete_ids(chunk, namespace="ns")

        for _ in range(400):
            with Checkpoint.open(path, kind="purge", spec={}) as cp:
                source = ListSource(
                    dp, namespace="ns", prefix="0", chains=cp.chains("ns"), target_chains=target
                )
                try:
                    await run_pipeline(
                        source, work, checkpoint=cp, scope="ns", batch_size=batch, max_workers=3
                    )
                    break
                except* ServerError:
                    pass
        assert dp.namespaces["ns"] == keep

    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(scenario, Path(tmp) / "c")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=st.lists(st.text(st.sampled_from("\x01/09Aaz\x7f5bZ"), min_size=1, max_size=6), max_size=200),
    prefix=st.sampled_from(["", "0", "a", "9Z"]),
    fail_every=st.integers(2, 8),
    target=st.integers(1, 40),
    batch=st.integers(1, 9),
)
def test_delegation_with_failures_and_resumes_deletes_exactly_the_prefix(
    ids: list[str], prefix: str, fail_every: int, target: int, batch: int
) -> None:
    """Delegating fan-out (purge): whatever fails when, the end state is exact and nothing is sent twice
    within one run."""

    async def scenario(path: Path) -> None:
        dp = FakeDataPlane({"ns": ids}, fail_every=fail_every, page_cap=2)
        keep = sorted(i for i in set(ids) if not i.startswith(prefix))

        async def work(chunk: Sequence[str]) -> None:
            assert len(set(chunk)) == len(chunk)
            await dp.delete_ids(chunk, namespace="ns")

        for _ in range(400):
            with Checkpoint.open(path, kind="purge", spec={}) as cp:

                def persist(parent: Chain, children: list[Chain], cp: Checkpoint = cp) -> None:
                    with cp.step() as step:
                        step.save_chains("ns", [parent, *children])

                chains = cp.chains("ns")
                source = ListSource(
                    dp,
                    namespace="ns",
                    prefix=prefix,
                    chains=chains,
                    target_chains=target,
                    delegate=True,
                    on_carve=persist,
                )
                try:
                    await run_pipeline(
                        source, work, checkpoint=cp, scope="ns", batch_size=batch, max_workers=3
                    )
                    break
                except* ServerError:
                    pass
        assert dp.namespaces["ns"] == keep

    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(scenario, Path(tmp) / "c")


async def test_delegation_hands_out_few_chains_and_lists_each_id_once() -> None:
    ids = [f"t#doc-{d:04d}#c{c}" for d in range(800) for c in range(5)] + ["t#", "t#zz", "t#doc-~"]
    dp = FakeDataPlane({"ns": [*ids, "u1"]}, page_cap=20)
    sent: list[str] = []

    async def work(chunk: Sequence[str]) -> None:
        sent.extend(chunk)
        await dp.delete_ids(chunk, namespace="ns")

    source = ListSource(dp, namespace="ns", prefix="t#", target_chains=12, delegate=True)
    await run_pipeline(source, work, batch_size=50)
    assert sorted(sent) == sorted(ids)
    assert len(sent) == len(set(sent))
    assert dp.namespaces["ns"] == ["u1"]

    twin = FakeDataPlane({"ns": ids}, page_cap=20)
    carving = ListSource(twin, namespace="ns", prefix="t#", target_chains=12)
    await run_pipeline(carving, work, batch_size=50)
    assert 9 <= source.carved < carving.carved / 3  # digit siblings only, not every ASCII character
