"""ScopedLimiter on a fake clock: per-scope pacing, record weighting, several scopes, AIMD per scope."""

from __future__ import annotations

import functools
import itertools

import anyio
import pytest

from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import (
    PROFILES,
    Limit,
    NamedLimit,
    Profile,
    format_rate_limit_message,
    parse_rate_limit_message,
)
from bulkops.limits.scoped import ScopedLimiter, ScopeKey, spare_budget_only
from bulkops.testing import FakeClock

PACED = AdaptiveTuning(burst_seconds=0.0, cooldown=0.0, regrow_seconds=10.0)


def limiter(*limits: Limit, clock: FakeClock) -> ScopedLimiter:
    return ScopedLimiter(Profile("test", limits), index_name="idx", clock=clock, tuning=PACED)


async def release_times(
    scoped: ScopedLimiter, clock: FakeClock, requests: list[tuple[str, str, int]]
) -> list[tuple[str, float]]:
    """Start every (operation, namespace, records) request at t=0 in order; return (label, send time)."""
    sent: list[tuple[str, float]] = []

    async def one(label: str, operation: str, namespace: str, records: int) -> None:
        await scoped.acquire(operation, namespace=namespace, records=records)
        sent.append((label, clock.now()))

    async with anyio.create_task_group() as tg:
        for number, (operation, namespace, records) in enumerate(requests):
            tg.start_soon(one, f"{namespace}{number}", operation, namespace, records)
            await anyio.lowlevel.checkpoint()  # start them in order
        await clock.run_until_idle()
    return sorted(sent, key=lambda item: item[1])


async def acquire_on_fake_time(scoped: ScopedLimiter, clock: FakeClock, operation: str) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(scoped.acquire, operation, namespace=""))
        await clock.run_until_idle()


async def test_one_namespace_is_paced_at_its_rate() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("delete", "namespace", "requests", 2), clock=clock)
    sent = await release_times(scoped, clock, [("delete", "a", 1)] * 4)
    assert [t for _, t in sent] == pytest.approx([0.0, 0.5, 1.0, 1.5])


async def test_namespaces_are_paced_independently() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("delete", "namespace", "requests", 2), clock=clock)
    sent = await release_times(scoped, clock, [("delete", "a", 1), ("delete", "b", 1)] * 2)
    assert sorted(t for _, t in sent) == pytest.approx([0.0, 0.0, 0.5, 0.5])


async def test_records_weight_a_delete() -> None:
    clock = FakeClock()
    scoped = limiter(
        Limit("delete", "namespace", "records", 1000),
        Limit("delete", "namespace", "requests", 5000),
        clock=clock,
    )
    batches = [("delete", "a", 500)] * 3 + [("delete", "a", 1000), ("delete", "a", 1)]
    sent = await release_times(scoped, clock, batches)
    # the last request waits for the 1000-record batch to drain: 1.5 + 1.0
    assert [t for _, t in sent] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.5])


async def test_requests_without_records_skip_the_records_bucket() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("delete", "namespace", "records", 1), clock=clock)
    sent = await release_times(scoped, clock, [("delete", "a", 0)] * 3)  # deleteAll carries no count
    assert [t for _, t in sent] == [0.0, 0.0, 0.0]


async def test_namespace_and_index_scopes_apply_at_once() -> None:
    clock = FakeClock()
    scoped = limiter(
        Limit("delete", "namespace", "requests", 2),
        Limit("delete", "index", "requests", 3),
        clock=clock,
    )
    sent = await release_times(scoped, clock, [("delete", "a", 1), ("delete", "b", 1)] * 3)
    # index bucket: one every 1/3 s; each namespace: never closer than 1/2 s
    assert [t for _, t in sent] == pytest.approx([0, 1 / 3, 2 / 3, 1, 4 / 3, 5 / 3])
    for ns in "ab":
        times = [t for label, t in sent if label.startswith(ns)]
        assert all(later - earlier >= 0.5 - 1e-9 for earlier, later in itertools.pairwise(times))


async def test_other_operations_do_not_share_buckets() -> None:
    clock = FakeClock()
    fetch, list_ = Limit("fetch", "index", "requests", 1), Limit("list", "index", "requests", 1)
    scoped = limiter(fetch, list_, clock=clock)
    sent = await release_times(scoped, clock, [("fetch", "a", 0), ("list", "a", 0), ("fetch", "a", 0)])
    assert [t for _, t in sent] == pytest.approx([0.0, 0.0, 1.0])


async def test_an_operation_without_limits_never_waits() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 1), clock=clock)
    assert await scoped.acquire("describe_namespace", namespace="a") == 0.0
    assert scoped.rates() == {}


async def test_429_cuts_only_the_named_scope() -> None:
    clock = FakeClock()
    scoped = limiter(
        Limit("delete", "namespace", "requests", 2),
        Limit("delete", "index", "requests", 100),
        clock=clock,
    )
    await release_times(scoped, clock, [("delete", "a", 1), ("delete", "b", 1)])
    cut = scoped.on_rate_limited(
        "delete", namespace="a", named=NamedLimit("delete", "namespace", "a", "requests")
    )
    assert cut == [ScopeKey("delete", "namespace", "a", "requests")]
    rates = scoped.rates()
    assert rates[ScopeKey("delete", "namespace", "a", "requests")] == 1.0
    assert rates[ScopeKey("delete", "namespace", "b", "requests")] == 2.0
    assert rates[ScopeKey("delete", "index", "idx", "requests")] == 100.0
    # namespace a now paces at 1/s (its booked slot at 0.5 stays), b still at 2/s
    sent = await release_times(scoped, clock, [("delete", "a", 1), ("delete", "a", 1), ("delete", "b", 1)])
    assert sorted(sent, key=lambda x: x[0]) == [
        ("a0", pytest.approx(0.5)),
        ("a1", pytest.approx(1.5)),
        ("b2", pytest.approx(0.51)),  # b's own slot is 0.5; the index bucket (100/s) adds 0.01
    ]


async def test_429_naming_the_index_cuts_the_index_bucket_whatever_its_spelling() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 100), clock=clock)
    await scoped.acquire("fetch", namespace="")
    message = format_rate_limit_message(Limit("fetch", "index", "requests", 100), "my-index")
    named = parse_rate_limit_message(message)
    cut = scoped.on_rate_limited("fetch", namespace="", named=named, message=message)
    assert cut == [ScopeKey("fetch", "index", "idx", "requests")]
    assert scoped.rates()[cut[0]] == 50.0


async def test_429_on_records_unit_cuts_the_records_bucket_only() -> None:
    clock = FakeClock()
    scoped = ScopedLimiter(PROFILES["strict"], index_name="idx", clock=clock, tuning=PACED)
    await scoped.acquire("delete", namespace="a", records=1000)
    scoped.on_rate_limited(
        "delete", namespace="a", named=NamedLimit("delete", "namespace", "a", "records"), records=1000
    )
    rates = scoped.rates()
    assert rates[ScopeKey("delete", "namespace", "a", "records")] == 2500.0
    assert rates[ScopeKey("delete", "namespace", "a", "requests")] == 100.0
    assert rates[ScopeKey("delete", "index", "idx", "records")] == 5000.0


async def test_unnamed_429_cuts_every_bucket_the_request_used() -> None:
    clock = FakeClock()
    scoped = limiter(
        Limit("delete", "namespace", "requests", 10),
        Limit("delete", "index", "requests", 100),
        Limit("fetch", "index", "requests", 100),
        clock=clock,
    )
    cut = scoped.on_rate_limited("delete", namespace="a", named=None, message="Too many requests")
    assert sorted(str(k) for k in cut) == ["delete/index:idx/requests", "delete/namespace:a/requests"]
    assert ScopeKey("fetch", "index", "idx", "requests") not in scoped.rates()


async def test_429_for_a_limit_the_profile_lacks_learns_a_bucket_from_the_message() -> None:
    clock = FakeClock()
    scoped = ScopedLimiter(PROFILES["none"], index_name="idx", clock=clock, tuning=PACED)
    message = format_rate_limit_message(Limit("delete", "namespace", "requests", 100), "a")
    named = parse_rate_limit_message(message)
    cut = scoped.on_rate_limited("delete", namespace="a", named=named, message=message)
    assert cut == [ScopeKey("delete", "namespace", "a", "requests")]
    assert scoped.rates()[cut[0]] == 50.0
    # from now on delete requests in namespace a are paced at the learned rate
    sent = await release_times(scoped, clock, [("delete", "a", 1)] * 3)
    assert [t for _, t in sent] == pytest.approx([0.0, 0.02, 0.04])


async def test_successes_regrow_the_cut_scope_to_the_ceiling() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("list", "index", "requests", 200), clock=clock)
    await scoped.acquire("list", namespace="")
    scoped.on_rate_limited("list", namespace="", named=None)
    key = ScopeKey("list", "index", "idx", "requests")
    assert scoped.rates()[key] == 100.0
    await clock.advance(2.5)
    scoped.on_success("list", namespace="")
    assert scoped.rates()[key] == pytest.approx(150.0)
    await clock.advance(10.0)
    scoped.on_success("list", namespace="")
    assert scoped.rates()[key] == 200.0


async def test_retry_after_holds_the_scope() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 100), clock=clock)
    await scoped.acquire("fetch", namespace="")
    scoped.on_rate_limited("fetch", namespace="", named=None, retry_after=3.0)
    await acquire_on_fake_time(scoped, clock, "fetch")
    assert clock.now() == pytest.approx(3.0)


async def test_cancelled_waiter_returns_its_slot() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 1), clock=clock)
    await scoped.acquire("fetch", namespace="")
    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(scoped.acquire, "fetch", namespace=""))
        await clock.advance(0.1)
        tg.cancel_scope.cancel()
    await acquire_on_fake_time(scoped, clock, "fetch")
    assert clock.now() == pytest.approx(1.0)


async def test_requests_already_queued_slow_down_after_a_cut() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 10), clock=clock)
    sent: list[float] = []

    async def one() -> None:
        await scoped.acquire("fetch", namespace="")
        sent.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)  # booked at 0, 0.1, 0.2, 0.3, 0.4
        await clock.advance(0.05)
        scoped.on_rate_limited("fetch", namespace="", named=None)  # 10/s -> 5/s at t=0.05
        await clock.run_until_idle()
    # the first left at 0; the others wake at their old slots, see the cut and book again at 5/s
    assert sent == pytest.approx([0.0, 0.25, 0.45, 0.65, 0.85])


async def test_requests_already_queued_wait_out_a_retry_after_hold() -> None:
    clock = FakeClock()
    scoped = limiter(Limit("fetch", "index", "requests", 10), clock=clock)
    sent: list[float] = []

    async def one() -> None:
        await scoped.acquire("fetch", namespace="")
        sent.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one)
        await clock.advance(0.05)
        bucket = scoped.bucket(ScopeKey("fetch", "index", "idx", "requests"))
        assert bucket is not None
        bucket.hold(1.0)
        await clock.run_until_idle()
    assert sent == pytest.approx([0.0, 1.05, 1.15])


async def test_spare_budget_requests_wait_for_every_queued_request_and_never_delay_one() -> None:
    clock = FakeClock(autojump=True)
    scoped = limiter(Limit("list", "index", "requests", 100), clock=clock)  # one request per 10 ms
    sent: list[tuple[str, float]] = []

    async def one(label: str, spare: bool, start: float) -> None:
        await clock.sleep(start)
        if spare:
            with spare_budget_only():
                await scoped.acquire("list", namespace="ns")
        else:
            await scoped.acquire("list", namespace="ns")
        sent.append((label, round(clock.now(), 6)))

    async with anyio.create_task_group() as tg:
        for i in range(3):  # queued at t=0: sent at 0, 10, 20 ms
            tg.start_soon(one, f"fg{i}", False, 0.0)
        tg.start_soon(one, "spare0", True, 0.001)
        tg.start_soon(one, "spare1", True, 0.001)
        tg.start_soon(one, "fg3", False, 0.015)  # arrives while the spares wait: goes before them
    assert sent == [
        ("fg0", 0.0),
        ("fg1", 0.01),
        ("fg2", 0.02),
        ("fg3", 0.03),
        ("spare0", 0.04),  # the bucket's bookings ran out at 40 ms
        ("spare1", 0.05),  # one at a time, then at the full rate while nobody else asks
    ]


async def test_a_spare_request_on_an_idle_bucket_goes_at_once_and_keeps_the_burst() -> None:
    clock = FakeClock(autojump=True)
    tuning = AdaptiveTuning(burst_seconds=0.05, cooldown=0.0, regrow_seconds=10.0)
    profile = Profile("test", (Limit("list", "index", "requests", 100),))
    scoped = ScopedLimiter(profile, index_name="idx", clock=clock, tuning=tuning)
    with spare_budget_only():
        assert await scoped.acquire("list", namespace="ns") == 0.0
    # A request right behind it still has the idle bucket's burst: it is not held back by the spare one.
    assert await scoped.acquire("list", namespace="ns") == 0.0
    assert await scoped.acquire("list", namespace="ns") == 0.0
