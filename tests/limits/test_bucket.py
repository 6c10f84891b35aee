"""AdaptiveBucket on a fake clock: exact release times, bursts, AIMD, holds, cancellation."""

from __future__ import annotations

import pytest

from bulkops.limits.bucket import AdaptiveBucket, AdaptiveTuning
from bulkops.testing import FakeClock

PACED = AdaptiveTuning(burst_seconds=0.0)


def test_paces_requests_at_the_rate() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    releases = [bucket.reserve().release_at for _ in range(4)]
    assert releases == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_idle_bucket_bursts_about_rate_times_burst_seconds_then_paces() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(100, clock=clock, tuning=AdaptiveTuning(burst_seconds=0.1))
    releases = [bucket.reserve().release_at for _ in range(12)]
    assert releases[:10] == [0.0] * 10
    assert releases[10:] == pytest.approx([0.01, 0.02])


def test_low_rate_bucket_never_bursts_more_than_one_request() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(5, clock=clock, tuning=AdaptiveTuning(burst_seconds=0.1))
    assert [bucket.reserve().release_at for _ in range(3)] == pytest.approx([0.0, 0.2, 0.4])


def test_weight_larger_than_the_burst_is_admitted_and_paid_for() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(5000, clock=clock, tuning=PACED)
    assert bucket.reserve(1000).release_at == 0.0
    assert bucket.reserve(1000).release_at == pytest.approx(0.2)
    assert bucket.reserve(500).release_at == pytest.approx(0.4)
    assert bucket.reserve(1).release_at == pytest.approx(0.5)


async def test_idle_time_is_not_banked_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    bucket.reserve()
    await clock.advance(5.0)
    assert [bucket.reserve().release_at for _ in range(2)] == pytest.approx([5.0, 5.1])


def test_429_halves_the_rate_once_per_cooldown_and_respects_the_floor() -> None:
    clock = FakeClock()
    tuning = AdaptiveTuning(burst_seconds=0.0, decrease=0.5, floor_fraction=0.2, cooldown=1.0)
    bucket = AdaptiveBucket(100, clock=clock, tuning=tuning)
    assert bucket.on_rate_limited() is True
    assert bucket.rate == 50
    assert bucket.on_rate_limited() is False  # same overload: in-flight requests all see 429
    assert bucket.rate == 50
    clock.jump(1.0)
    assert bucket.on_rate_limited() is True
    assert bucket.rate == 25
    clock.jump(1.0)
    bucket.on_rate_limited()
    assert bucket.rate == 20  # floor = 100 * 0.2


def test_successes_regrow_the_rate_linearly_up_to_the_ceiling() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(100, clock=clock, tuning=AdaptiveTuning(regrow_seconds=10.0, cooldown=0.0))
    bucket.on_rate_limited()
    assert bucket.rate == 50
    clock.jump(1.0)
    bucket.on_success()
    assert bucket.rate == pytest.approx(60)
    clock.jump(2.0)
    bucket.on_success()
    assert bucket.rate == pytest.approx(80)
    clock.jump(27.0)
    bucket.on_success()
    assert bucket.rate == 100


def test_a_cut_rate_paces_new_reservations_slower() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    assert bucket.reserve().release_at == 0.0
    bucket.on_rate_limited()
    # the slot already booked drains at the old rate (0.1 s); the next ones at 5/s
    assert [bucket.reserve().release_at for _ in range(2)] == pytest.approx([0.1, 0.3])


def test_hold_admits_nothing_until_retry_after() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    bucket.hold(2.0)
    assert bucket.reserve().release_at == pytest.approx(2.0)
    assert bucket.reserve().release_at == pytest.approx(2.1)


def test_cancelling_the_last_reservation_gives_the_slot_back() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    bucket.reserve()
    second = bucket.reserve()
    bucket.cancel(second)
    assert bucket.reserve().release_at == pytest.approx(0.1)


def test_cancelling_an_older_reservation_changes_nothing() -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(10, clock=clock, tuning=PACED)
    first = bucket.reserve()
    bucket.reserve()
    bucket.cancel(first)
    assert bucket.reserve().release_at == pytest.approx(0.2)


@pytest.mark.parametrize(
    "kwargs", [{"decrease": 0.0}, {"decrease": 1.5}, {"floor_fraction": 0.0}, {"regrow_seconds": 0.0}]
)
def test_bad_tuning_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        AdaptiveTuning(**kwargs)


def test_non_positive_rate_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptiveBucket(0, clock=FakeClock())
