"""When carving starts: a page's ID density lets a big walk fan out after its first page, exactly."""

from __future__ import annotations

from bulkops.engine.fanout import Chain
from bulkops.engine.sources import ListSource, estimated_stem_pages
from bulkops.testing import FakeClock, FakeDataPlane
from tests.engine.fakes import collect_pages


def test_decimal_counters_multiply_the_estimate() -> None:
    page = [f"doc-00000{i:02d}" for i in range(100)]
    assert estimated_stem_pages(page, 6) == 100  # "doc-000" holds "doc-000" + 2 digits of pages
    assert estimated_stem_pages(page, 8) == 1  # "doc-00000": just this page
    assert estimated_stem_pages(page, 4) == 10_000


def test_letters_count_as_counters_and_other_characters_do_not() -> None:
    assert estimated_stem_pages(["t-a#k1", "t-a#k9"], 1) == 26 * 1 * 26  # 'a', '#', 'k'
    assert estimated_stem_pages(["t-a#k1", "t-a#k9"], 2) == 1 * 26


def test_a_page_across_siblings_gives_no_estimate() -> None:
    assert estimated_stem_pages(["a1", "b2"], 0) == 0
    assert estimated_stem_pages([], 0) == 0
    assert estimated_stem_pages(["ab", "ab"], 2) == 0  # the last ID ends at the level


async def test_a_dense_walk_fans_out_after_its_first_page_and_stays_exact() -> None:
    ids = [f"doc-{i:05d}" for i in range(3000)] + ["doc-~", "doc-0\x7f", "dod"]
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": ids}, page_cap=10, latency=0.002, clock=clock)
    requests_at_first_carve: list[int] = []

    def on_carve(parent: Chain, children: list[Chain]) -> None:
        if children and not requests_at_first_carve:
            requests_at_first_carve.append(dp.calls.get("list", 0))

    source = ListSource(
        dp, namespace="ns", prefix="doc-0", list_rate=1000.0, page_limit=10, on_carve=on_carve, clock=clock
    )
    pages = await collect_pages(source)
    got = [i for p in pages for i in p.ids]
    assert len(got) == len(set(got)), "an ID was listed twice"
    assert sorted(got) == sorted(i for i in ids if i.startswith("doc-0"))
    assert requests_at_first_carve == [1]
    assert len({p.chain for p in pages if p.ids}) > 1


async def test_a_sparse_first_page_does_not_carve_at_once() -> None:
    ids = [f"{c}{d}" for c in "abcdefghij" for d in "0123456789"]
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": ids}, page_cap=25, latency=0.002, clock=clock)
    carves: list[int] = []

    def on_carve(parent: Chain, children: list[Chain]) -> None:
        carves.append(dp.calls.get("list", 0))

    source = ListSource(dp, namespace="ns", list_rate=1000.0, page_limit=25, on_carve=on_carve, clock=clock)
    pages = await collect_pages(source)
    assert sorted(i for p in pages for i in p.ids) == sorted(ids)
    assert 1 not in carves  # the first page spans "a".."c": no evidence the siblings are big


class _RecordingDataPlane(FakeDataPlane):
    """Remembers every prefix sent to list."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.prefixes: list[str] = []

    async def list_page(self, *, namespace: str, prefix: str | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        self.prefixes.append(prefix or "")
        return await super().list_page(namespace=namespace, prefix=prefix, **kwargs)  # type: ignore[arg-type]


async def test_rate_driven_carving_sends_no_prefix_with_a_space_and_stays_exact() -> None:
    ids = [f"doc {i:04d}" for i in range(600)]  # a space right after the prefix
    ids += [f"doc-{i:04d}" for i in range(600)]
    ids += ["doc", "doc\x01a", "doc\x1fz"] + [f"doc-0001{c}" for c in "\x01\x02 !"]
    clock = FakeClock(autojump=True)
    dp = _RecordingDataPlane({"ns": ids}, page_cap=10, latency=0.01, clock=clock)
    source = ListSource(dp, namespace="ns", prefix="doc", list_rate=1000.0, page_limit=10, clock=clock)
    pages = await collect_pages(source)
    got = [i for p in pages for i in p.ids]
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(set(ids))
    assert source.carved > 0, "fan-out did not happen"
    assert not [p for p in dp.prefixes if " " in p or any(ord(c) < 32 for c in p)]
