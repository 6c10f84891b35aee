"""Prefix fan-out never misses or invents an ID: adversarial sets and property tests vs one chain."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkops.engine.fanout import Chain, carve
from bulkops.engine.sources import ListSource, Page, list_all
from bulkops.testing import FakeClock, FakeDataPlane
from tests.engine.fakes import collect_pages


async def fan_out(dp: FakeDataPlane, prefix: str, *, target: int, page_cap: int = 100) -> list[Page]:
    dp.page_cap = page_cap
    return await collect_pages(ListSource(dp, namespace="ns", prefix=prefix, target_chains=target))


async def assert_exact(ids: list[str], prefix: str, *, target: int = 1000, page_cap: int = 3) -> list[Page]:
    dp = FakeDataPlane({"ns": ids}, page_cap=page_cap)
    expected = await list_all(FakeDataPlane({"ns": ids}, page_cap=page_cap), namespace="ns", prefix=prefix)
    assert expected == sorted(i for i in set(ids) if i.startswith(prefix))
    pages = await fan_out(dp, prefix, target=target, page_cap=page_cap)
    got = [i for p in pages for i in p.ids]
    assert len(got) == len(set(got)), "an ID was listed twice"
    assert sorted(got) == expected
    for page in pages:  # each chain's pages come in order
        assert list(page.ids) == sorted(page.ids)
    return pages


def test_carve_hands_out_everything_above_the_last_id() -> None:
    chain = Chain(0, "p")
    cut = carve(chain, "pab")
    assert cut is not None
    assert cut.children == tuple("p" + chr(c) for c in range(ord("a") + 1, 128))
    assert cut.bound == "pb"
    assert cut.level == 2
    assert not cut.finished


def test_carve_at_the_last_ids_length_finishes_the_parent() -> None:
    chain = Chain(0, "p", bound="pac", level=3)
    cut = carve(chain, "pab")
    assert cut is not None
    assert cut.finished
    assert cut.children[0] == "pab\x01"
    assert cut.children[-1] == "pab\x7f"


def test_carve_waits_while_a_resumed_chain_is_below_its_carve_point() -> None:
    chain = Chain(0, "k", bound="k04", level=3)  # carved at level 2 after "k0380"
    assert carve(chain, "k0299") is None  # "k03..." up to the bound would be stranded
    cut = carve(chain, "k0350")
    assert cut is not None
    assert cut.bound == "k036"


def test_carve_refuses_non_ascii_and_foreign_ids() -> None:
    assert carve(Chain(0, "p"), "p\u00e9") is None
    assert carve(Chain(0, "p"), "q1") is None


async def test_id_equal_to_prefix_is_listed_once() -> None:
    await assert_exact(["doc", "doc1", "doc2", "doc#a", "doc#b", "doa", "doe"] * 2, "doc")


async def test_every_ascii_character_after_the_prefix() -> None:
    ids = ["t" + chr(c) for c in range(1, 128)] + ["t" + chr(c) + "x" for c in range(1, 128)] + ["t"]
    pages = await assert_exact(ids, "t", page_cap=5)
    assert len({p.chain for p in pages}) > 10, "fan-out did not happen"


async def test_one_enormous_child() -> None:
    ids = ["p/a", "p/c"] + [f"p/b{i:05d}" for i in range(3000)]
    pages = await assert_exact(ids, "p/", page_cap=50)
    assert len({p.chain for p in pages if p.ids}) > 5


async def test_deep_shared_prefixes() -> None:
    stem = "tenant#" + "x" * 60
    ids = [stem + f"{i:04d}" for i in range(500)] + [stem[:30] + "y", stem + "0000#deep"]
    await assert_exact(ids, "tenant#", page_cap=7)


async def test_empty_children_and_an_empty_prefix() -> None:
    await assert_exact(["a1", "a\x7f", "b"], "a", page_cap=1)
    await assert_exact(["a1", "b"], "zz", page_cap=1)
    await assert_exact([], "", page_cap=1)


async def test_ids_sorting_between_children() -> None:
    # "k" < "k\x01" < "k!" < "k0" < "k0\x01": an ID ends where siblings begin.
    ids = ["k", "k\x01", "k!", "k0", "k0\x01", "k0!", "k00", "k\x7f", "k\x7f\x7f", "l", "j\x7f"]
    await assert_exact(ids * 3, "k", page_cap=1)
    await assert_exact(ids, "", page_cap=2)


async def test_sequential_walk_with_target_one_uses_one_chain() -> None:
    ids = [f"x{i}" for i in range(250)]
    pages = await assert_exact(ids, "x", target=1, page_cap=10)
    assert {p.chain for p in pages} == {0}


async def test_fan_out_sizes_itself_from_rate_and_latency() -> None:
    ids = [f"n{i:05d}" for i in range(4000)]
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": ids}, latency=0.01, clock=clock)
    source = ListSource(dp, namespace="ns", prefix="n", list_rate=1000.0, max_chains=16, clock=clock)
    got = [i for page in await collect_pages(source) for i in page.ids]
    assert sorted(got) == ids
    assert source.target == 15  # Little's law: 1000/s × 10 ms × 1.5
    assert dp.max_in_flight > 1


ALPHABET = st.sampled_from(["\x01", "!", "/", "0", "1", "9", "A", "a", "b", "~", "\x7f", "#"])
IDS = st.lists(st.text(ALPHABET, min_size=1, max_size=6), max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=IDS, prefix=st.text(ALPHABET, max_size=2), page_cap=st.integers(1, 6), target=st.integers(1, 300))
def test_fan_out_equals_sequential_listing(ids: list[str], prefix: str, page_cap: int, target: int) -> None:
    anyio.run(lambda: assert_exact(ids, prefix, target=target, page_cap=page_cap))


@pytest.mark.parametrize("prefix", ["", "0", "a#"])
@settings(max_examples=40, deadline=None)
@given(ids=IDS)
def test_fan_out_from_a_resumed_parent(prefix: str, ids: list[str]) -> None:
    """A chain carved earlier (bound and level set, position mid-way) still lists exactly its share."""

    async def scenario() -> None:
        dp = FakeDataPlane({"ns": ids}, page_cap=2)
        expected = await list_all(dp, namespace="ns", prefix=prefix)
        first = await dp.list_page(namespace="ns", prefix=prefix or None, limit=2)
        if not first.next_token:
            return
        parent = Chain(0, prefix, position=first.next_token)
        cut = carve(parent, first.ids[-1])
        assert cut is not None
        parent.bound, parent.level = cut.bound, cut.level
        chains = [parent, *(Chain(i + 1, p) for i, p in enumerate(cut.children))]
        source = ListSource(dp, namespace="ns", chains=chains, target_chains=50)
        got = list(first.ids) + [i for page in await collect_pages(source) for i in page.ids]
        assert sorted(got) == expected
        assert len(got) == len(set(got))

    anyio.run(scenario)
