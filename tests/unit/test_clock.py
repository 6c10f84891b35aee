from __future__ import annotations

import anyio

from bulkops.clock import FakeClock


async def test_fake_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

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
