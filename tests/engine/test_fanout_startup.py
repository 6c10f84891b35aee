"""When carving starts: a page's ID density lets a big walk fan out after its first page, exactly."""

from __future__ import annotations

import random

from bulkops.engine.fanout import Chain
from bulkops.engine.sources import ListSource, counter_digits, estimated_stem_pages
from bulkops.limits import PROFILES, ScopedLimiter
from bulkops.models import IdPage
from bulkops.testing import FakeClock, FakeDataPlane
from tests.engine.fakes import collect_pages


def test_decimal_counters_multiply_the_estimate() -> None:
    page = [f"doc-00000{i:02d}" for i in range(100)]
    assert estimated_stem_pages(page, 6) == 100  # "doc-000" holds "doc-000" + 2 digits of pages
    assert estimated_stem_pages(page, 8) == 1  # "doc-00000": just this page
    assert estimated_stem_pages(page, 4) == 10_000


def test_letters_count_as_counters_and_other_characters_do_not() -> None:
    # 'a', '#', 'k' between the level and the counter; the page covers 1..9 of the last digit's 0..9
    assert estimated_stem_pages(["t-a#k1", "t-a#k9"], 1) == 26 * 1 * 26 / 0.9
    assert estimated_stem_pages(["t-a#k1", "t-a#k9"], 2) == 1 * 26 / 0.9


def test_counter_digits_widen_what_varies_to_its_class() -> None:
    assert counter_digits(["x-0a", "x-1f"]) == "0123456789abcdef"  # hex: no letter past f
    assert counter_digits(["x-0a", "x-1g"]) == "0123456789abcdefghijklmnopqrstuvwxyz"
    assert counter_digits(["k-07", "k-15"]) == "0123456789"  # the constant "k-" is no counter
    assert counter_digits(["A-x", "B!y"]) == "!-ABCDEFabcdefghijklmnopqrstuvwxyz"  # other characters as seen
    assert counter_digits(["only"]) == ""


def _hex_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return sorted(f"acme#{rng.getrandbits(48):012x}" for _ in range(count))


def test_a_hex_page_estimates_its_sibling_by_its_density() -> None:
    # 100,000 random hex IDs: "acme#0" holds ~6,250 of them, 62 pages of 100. The page's first and last
    # IDs, read as hex numbers, say how much of it the first page covers (digit classes alone said 10).
    ids = _hex_ids(100_000, seed=7)
    pages_in_sibling = sum(1 for i in ids if i.startswith("acme#0")) / 100
    estimate = estimated_stem_pages(ids[:100], 5)
    assert pages_in_sibling / 2 < estimate < pages_in_sibling * 2


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


class _FirstRequests(FakeDataPlane):
    """Records when each list request was sent and counts likely children's first requests in flight."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.answered: set[str] = set()
        self.first_sent: dict[str, float] = {}
        self.sent: list[float] = []
        self.probing = 0
        self.max_likely_probing = 0

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        prefix = prefix or ""
        first = token is None and prefix not in self.answered
        likely = first and prefix[-1:] in "0123456789abcdef"
        if likely:
            self.probing += 1
            self.max_likely_probing = max(self.max_likely_probing, self.probing)
        try:
            page = await super().list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)
        finally:
            if likely:
                self.probing -= 1
        sent_at = self.clock.now() - self.latency
        self.sent.append(sent_at)
        if first:
            self.first_sent[prefix] = sent_at
            self.answered.add(prefix)
        return page


async def test_carved_children_likely_populated_first_and_unlikely_ones_on_spare_budget() -> None:
    ids = _hex_ids(100_000, seed=11)
    clock = FakeClock(autojump=True)
    budget = ScopedLimiter(PROFILES["default"], index_name="idx", clock=clock)  # list: 200 requests/s
    dp = _FirstRequests({"ns": ids}, page_cap=100, latency=0.025, limiter=budget, clock=clock)
    source = ListSource(dp, namespace="ns", prefix="acme#", list_rate=200.0, clock=clock)
    pages = await collect_pages(source)
    got = [i for p in pages for i in p.ids]
    assert sorted(got) == ids
    assert len(got) == len(set(got))
    # The root carved after its first page (its density shows "acme#0" holds ~60 pages), and the
    # children likely to hold IDs (the page's hex digits) went first.
    children = sorted(dp.first_sent, key=lambda prefix: dp.first_sent[prefix])[1:]
    hex_children = [f"acme#{c}" for c in "123456789abcdef"]
    assert children[: len(hex_children)] == hex_children
    assert set(children[len(hex_children) :]) >= {"acme#:", "acme#A", "acme#g", "acme#\x7f"}
    assert source.carved >= 78
    # The likely children's first requests went out together: one round trip, not a queue of them.
    assert dp.max_likely_probing == len(hex_children)
    # The unlikely ones waited for budget the walkers left: while 16 walkers kept it busy, none went,
    # so the walk's pages were not delayed by them; they were sent as the walkers ran out.
    unlikely_at = [dp.first_sent[p] for p in children[len(hex_children) :]]
    pages_before = sum(1 for t in dp.sent if t < min(unlikely_at))
    assert pages_before > 0.8 * len(dp.sent)
    # And the budget stayed busy the whole time: every request at the full rate, nothing idle.
    assert clock.now() < len(dp.sent) / 200.0 * 1.05 + 0.1


def _under(stem: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return sorted({f"{stem}{rng.getrandbits(40):010x}" for _ in range(count)})


async def _walk_with_budget(ids: list[str], prefix: str) -> tuple[ListSource, _FirstRequests]:
    clock = FakeClock(autojump=True)
    budget = ScopedLimiter(PROFILES["default"], index_name="idx", clock=clock)
    dp = _FirstRequests({"ns": ids}, page_cap=100, latency=0.025, limiter=budget, clock=clock)
    source = ListSource(dp, namespace="ns", prefix=prefix, list_rate=200.0, clock=clock)
    pages = await collect_pages(source)
    got = [i for p in pages for i in p.ids]
    assert sorted(got) == ids
    assert len(got) == len(set(got))
    return source, dp


async def test_no_carve_past_the_last_digit_of_a_small_sibling() -> None:
    # Every ID is under "acme#5f" (20 pages): nothing above "f" is likely, and 20 pages do not pay for
    # the 25 probes a carve would cost. (Near the end of a job every chain reaches its "…f" at once.)
    source, dp = await _walk_with_budget(_under("acme#5f", 2_000, seed=3), "acme#5")
    assert source.carved == 0
    assert set(dp.first_sent) == {"acme#5"}


async def test_a_big_sibling_past_the_last_digit_is_carved_to_reach_its_digits() -> None:
    # Every ID is under "acme#f" (200 pages): the carve above "f" gains no walker itself, but moves the
    # walk to the next level, where the 16 hex digits are, and they fan out.
    source, dp = await _walk_with_budget(_under("acme#f", 20_000, seed=5), "acme#")
    digit_chains = {p for p in dp.first_sent if len(p) == len("acme#f0") and p[-1] in "0123456789abcdef"}
    assert len(digit_chains) >= 8
    assert source.requests < 200 + 2 * 127  # the pages, and at most the probes of the two carves


async def _walk_counted(ids: list[str], records: int | None) -> ListSource:
    clock = FakeClock(autojump=True)
    budget = ScopedLimiter(PROFILES["default"], index_name="idx", clock=clock)
    dp = FakeDataPlane({"ns": ids}, page_cap=100, latency=0.025, limiter=budget, clock=clock)
    source = ListSource(dp, namespace="ns", list_rate=200.0, records=records, clock=clock)
    pages = await collect_pages(source)
    got = [i for p in pages for i in p.ids]
    assert sorted(got) == ids
    assert len(got) == len(set(got))
    return source


async def test_a_small_namespace_with_a_known_count_walks_alone() -> None:
    # "doc-000000".."doc-001999": every level's estimate reads the whole counter range as in use, so
    # without the count the walk carves level after level of empty prefixes (20 pages, 300+ requests).
    ids = [f"doc-{i:06d}" for i in range(2_000)]
    blind = await _walk_counted(ids, None)
    assert blind.carved > 100
    counted = await _walk_counted(ids, 2_000)
    assert counted.carved == 0
    assert counted.requests == 20


async def test_a_count_that_lags_the_namespace_still_lists_every_id() -> None:
    ids = _hex_ids(20_000, seed=9)
    source = await _walk_counted(ids, 300)  # the stats said 300: listing passes it and stops trusting it
    assert source.requests >= 200


async def test_a_big_namespace_with_its_count_still_fans_out() -> None:
    ids = _hex_ids(100_000, seed=13)
    blind = await _walk_counted(ids, None)
    counted = await _walk_counted(ids, 100_000)
    assert counted.carved >= 78  # at least the carve at the hex digits: 15 likely children, 63 unlikely
    assert counted.requests <= blind.requests
