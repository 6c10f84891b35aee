"""Structural guards for delegating fan-out (purge): enough chains to the end, few requests per page.

The 735be5c regression (hex IDs walked at a sixth of the bound once the digit ranges were gone) was a
shape problem, not a speed one: the ``a-f`` ranges waited for every digit descendant and were then
walked by a few chains. These tests count chains and requests on the in-memory double, never time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import anyio

from bulkops.engine.delegation import delegate, page_alphabet
from bulkops.engine.fanout import Chain
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import ListSource
from bulkops.models import IdPage
from bulkops.testing import FakeDataPlane, settle

PREFIX = "acme#"
PAGE = 20
TARGET = 8


class RoundsDataPlane(FakeDataPlane):
    """List requests complete in *rounds*: all those in flight answer together, once every task is
    blocked. ``rounds`` is then the job's length in round trips, whatever the machine's speed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.rounds = 0
        self.sizes: list[int] = []  # list requests answered in each round
        self._waiting = 0
        self._tick = anyio.Event()

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        self._waiting += 1
        await self._tick.wait()
        return await super().list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)

    async def ticker(self) -> None:
        while True:
            await settle()
            if not self._waiting:
                await anyio.sleep(0.001)  # parked chains poll; nothing to answer yet
                continue
            self.rounds += 1
            self.sizes.append(self._waiting)
            self._waiting = 0
            tick, self._tick = self._tick, anyio.Event()
            tick.set()


def _hex_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{PREFIX}{rng.getrandbits(48):012x}" for _ in range(count)]


async def _purge(ids: list[str], others: list[str]) -> tuple[RoundsDataPlane, ListSource, list[str]]:
    dp = RoundsDataPlane({"ns": [*ids, *others]}, page_cap=PAGE)
    sent: list[str] = []

    async def work(chunk: Sequence[str]) -> None:
        sent.extend(chunk)
        await dp.delete_ids(chunk, namespace="ns")

    source = ListSource(dp, namespace="ns", prefix=PREFIX, target_chains=TARGET, delegate=True)
    async with anyio.create_task_group() as tg:
        tg.start_soon(dp.ticker)
        await run_pipeline(source, work, batch_size=100)
        tg.cancel_scope.cancel()
    return dp, source, sent


def _assert_shape(dp: RoundsDataPlane, source: ListSource, pages: float) -> None:
    # Every list request costs budget: empty probes and re-walks stay a small share of the pages.
    assert source.requests <= 1.2 * pages, (source.requests, pages)
    # Round trips: about pages ÷ chains wanted. With the character-class rule, hex IDs took 110
    # rounds here (the a-f ranges walked by one to ten chains at the end); now 24.
    assert dp.rounds <= 1.25 * pages / TARGET, (dp.rounds, dp.sizes)


async def test_hex_ids_keep_enough_chains_listing_until_the_end() -> None:
    ids = _hex_ids(6000, seed=7)
    others = [f"t{i:03d}#{n:012x}" for i in range(3) for n in range(50)]
    dp, source, sent = await _purge(ids, others)
    assert sorted(sent) == sorted(set(ids))
    assert dp.namespaces["ns"] == sorted(others)
    _assert_shape(dp, source, len(set(ids)) / PAGE)


async def test_decimal_ids_keep_enough_chains_listing_until_the_end() -> None:
    ids = [f"{PREFIX}doc-{d:05d}#chunk-{c:02d}" for d in range(1500) for c in range(4)]
    dp, source, sent = await _purge(ids, ["zz"])
    assert sorted(sent) == sorted(ids)
    assert dp.namespaces["ns"] == ["zz"]
    _assert_shape(dp, source, len(ids) / PAGE)


def test_hex_siblings_are_handed_out_together() -> None:
    page = sorted(_hex_ids(100, seed=3))
    alphabet = page_alphabet(page)
    assert alphabet == set("0123456789abcdef")
    plan = delegate(Chain(0, PREFIX), f"{PREFIX}3a0000000000", alphabet)
    assert plan is not None
    assert plan.children == tuple(PREFIX + c for c in "456789abcdef")
    assert plan.skips == ((PREFIX + "4", PREFIX + ":"), (PREFIX + "a", PREFIX + "g"))
    assert plan.bound == PREFIX + "4"


def test_constant_parts_are_not_guessed_and_no_child_prefix_has_a_space() -> None:
    page = [f"t#doc {d:03d}#chunk" for d in range(100, 200)]
    assert page_alphabet(page) == set("0123456789")  # not c, h, u, n, k: constant columns
    # Siblings of the space itself are fine (``t#doc0``...); every deeper level would send a prefix
    # containing the space: no delegation there.
    plan = delegate(Chain(0, "t#", level=5), "t#doc 150", set("0123456789"))
    assert plan is not None
    assert plan.children[0] == "t#doc0"
    assert plan.level == 6
    assert delegate(Chain(0, "t#", level=6), "t#doc 150", set("0123456789abc")) is None
    plan = delegate(Chain(0, "t#"), "t#doc-150", {"1", "e", "f"})
    assert plan is not None
    assert plan.children == ("t#e", "t#f")
