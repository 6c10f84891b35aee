"""FakeClock: exact wake-up times by hand (jump, advance) and automatically (autojump); settle is exact."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from bulkops.testing import FakeClock, settle

Woke = list[tuple[str, float]]


def sleeper_on(clock: FakeClock, woke: Woke) -> Callable[[str, float], Coroutine[Any, Any, None]]:
    """A task body that sleeps ``seconds`` on ``clock`` and records (name, the time it woke)."""

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    return sleeper


async def test_fake_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = FakeClock()
    woke: Woke = []
    sleeper = sleeper_on(clock, woke)
    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "b", 2.0)
        tg.start_soon(sleeper, "a", 1.0)
        await clock.run_until_idle()
    assert woke == [("a", 1.0), ("b", 2.0)]


async def test_fake_clock_does_not_wake_early() -> None:
    clock = FakeClock()
    done = anyio.Event()

    async def sleeper() -> None:
        await clock.sleep(5.0)
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper)
        await clock.advance(4.5)
        assert not done.is_set()
        await clock.advance(0.5)
        assert done.is_set()


def test_jump_moves_time_without_an_event_loop() -> None:
    clock = FakeClock(start=10.0)
    clock.jump(1.5)
    clock.jump(0.0)
    assert clock.now() == 11.5
    assert clock.wall() == 1_700_000_000.0 + 11.5
    with pytest.raises(ValueError, match="forward"):
        clock.jump(-0.1)


async def test_jump_wakes_exactly_the_sleepers_whose_deadline_passed() -> None:
    clock = FakeClock()
    woke: Woke = []
    sleeper = sleeper_on(clock, woke)
    async with anyio.create_task_group() as tg:
        for name, seconds in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
            tg.start_soon(sleeper, name, seconds)
        await settle()
        assert clock.pending == 3
        clock.jump(1.999)
        await settle()
        assert woke == [("a", 1.999)]
        clock.jump(0.001)
        await settle()
        assert woke == [("a", 1.999), ("b", 2.0)]
        assert clock.next_deadline() == 3.0
        clock.jump(5.0)
    assert woke[-1] == ("c", 7.0)
    assert clock.pending == 0


async def test_advance_waits_for_tasks_that_need_many_rounds_to_reach_their_sleep() -> None:
    # A fixed number of checkpoints (the old settle: 20) would move time before these tasks sleep,
    # and they would wake a second late. 1000 rounds also goes past the quick rounds to anyio's wait.
    clock = FakeClock()
    woke: list[tuple[int, float]] = []

    async def busy_then_sleep(rounds: int) -> None:
        for _ in range(rounds):
            await anyio.lowlevel.checkpoint()
        await clock.sleep(1.0)
        woke.append((rounds, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(busy_then_sleep, 300)
        tg.start_soon(busy_then_sleep, 1000)
        await clock.advance(1.0)
        assert sorted(woke) == [(300, 1.0), (1000, 1.0)]


async def test_cancelled_sleepers_are_forgotten() -> None:
    clock = FakeClock()
    with anyio.move_on_after(0.01):
        await clock.sleep(100.0)
    assert clock.pending == 0
    await clock.run_until_idle()
    assert clock.now() == 0.0  # nothing left to advance to
    assert clock.sleeps == [100.0]


async def test_autojump_gives_every_sleeper_its_exact_deadline() -> None:
    clock = FakeClock(autojump=True)
    woke: list[tuple[str, float]] = []

    async def ticker(name: str, period: float, times: int) -> None:
        for _ in range(times):
            await clock.sleep(period)
            woke.append((name, round(clock.now(), 9)))

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker, "a", 0.3, 3)
        tg.start_soon(ticker, "b", 0.5, 2)
        tg.start_soon(ticker, "slow", 3600.0, 1)
    assert woke == [("a", 0.3), ("b", 0.5), ("a", 0.6), ("a", 0.9), ("b", 1.0), ("slow", 3600.0)]
    assert time.monotonic() - started < 5  # an hour of fake time, no real waiting


async def test_autojump_records_sequential_sleeps_like_an_instant_clock() -> None:
    clock = FakeClock(autojump=True)
    await clock.sleep(5)
    await clock.sleep(0)
    await clock.sleep(5)
    assert clock.now() == 10.0
    assert clock.sleeps == [5, 0, 5]


async def test_autojump_goes_on_when_the_sleeper_driving_it_is_cancelled() -> None:
    clock = FakeClock(autojump=True)
    woke: list[float] = []
    scope = anyio.CancelScope()

    async def first() -> None:
        with scope:
            await clock.sleep(100.0)  # the first sleeper drives the clock

    async def second() -> None:
        await clock.sleep(1.0)
        woke.append(clock.now())
        scope.cancel()  # cancel the driver while it waits
        await clock.sleep(2.0)
        woke.append(clock.now())

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        tg.start_soon(second)
    assert woke == [1.0, 3.0]
    assert scope.cancelled_caught


async def test_autojump_hands_driving_on_even_if_the_promoted_sleeper_is_cancelled() -> None:
    clock = FakeClock(autojump=True)
    woke: list[tuple[str, float]] = []
    scope = anyio.CancelScope()

    async def driver() -> None:
        await clock.sleep(1.0)
        woke.append(("driver", clock.now()))
        # Waking, the driver has just promoted the 2 s sleeper, which has not run yet: cancel it.
        scope.cancel()

    async def promoted() -> None:
        with scope:
            await clock.sleep(2.0)
        woke.append(("promoted", clock.now()))

    async def last() -> None:
        await clock.sleep(3.0)
        woke.append(("last", clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(driver)
        tg.start_soon(promoted)
        tg.start_soon(last)
    assert woke == [("driver", 1.0), ("promoted", 1.0), ("last", 3.0)]
    assert scope.cancelled_caught
