"""An adaptive, weighted rate bucket on :mod:`bulkops.clock` (GCRA with AIMD on top).

Why not aiolimiter (docs/decisions/0001): ``AsyncLimiter`` reads ``loop.time()`` and wakes
waiters with ``loop.call_at``, so it cannot run on :class:`bulkops.clock.FakeClock` and tests could not
assert exact release times; it refuses a single acquire larger than its capacity, so a 1000-record
delete against a bucket bounded to ``rate/10`` would raise; and its rate is fixed at construction, while
this bucket's rate moves after every 429 and success. The algorithm here is small enough to own.

The bucket is GCRA (the "virtual scheduling" form of a leaky bucket). It keeps one number, the
theoretical arrival time ``tat``: when the bucket would be empty again if every admitted unit drained
at ``rate``. A request of weight ``w`` arriving at ``t`` is released at ``max(t, tat - tolerance)`` and
moves ``tat`` to ``max(tat, t) + w / rate``. Reservations are made at call time, so waiters are served
first come, first served, and every release time is exact arithmetic that a fake clock can check.

``tolerance`` bounds bursts: an idle bucket admits about ``rate * burst_seconds`` units at once
(never less than one request), then paces. Weights larger than that are allowed and simply take
longer to drain, so a 1000-record delete never deadlocks a 500-record burst.

Adaptive rate (AIMD): :meth:`AdaptiveBucket.on_rate_limited` multiplies the rate by ``decrease``
(at most once per ``cooldown`` seconds, because one overload produces a burst of 429s from requests
already in flight), never below ``floor``; :meth:`AdaptiveBucket.on_success` adds back
``ceiling * elapsed / regrow_seconds`` so a full recovery takes ``regrow_seconds`` of successful traffic.

A cut or a hold (Retry-After) also applies to requests already queued: it bumps ``generation`` and
drops the slots booked ahead at the old pace; a waiter that wakes to find its reservation from an older
generation books again (see :meth:`bulkops.limits.scoped.ScopedLimiter.acquire`). Without this, a deep
queue booked at the old rate would keep hammering the server for seconds after the 429.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkops.clock import Clock

__all__ = ["AdaptiveBucket", "AdaptiveTuning", "Reservation"]


@dataclass(frozen=True, slots=True)
class AdaptiveTuning:
    """How buckets burst, back off after a 429 and grow back. Shared by every bucket of a client."""

    burst_seconds: float = 0.1
    """An idle bucket admits about ``rate * burst_seconds`` units at once (a tenth of a second's worth)."""
    decrease: float = 0.5
    """Multiplicative decrease applied to a scope's rate on a 429 naming it."""
    floor_fraction: float = 0.02
    """The rate never drops below ``ceiling * floor_fraction``."""
    regrow_seconds: float = 10.0
    """Successful traffic regrows the rate from zero to the ceiling in this many seconds."""
    cooldown: float = 0.5
    """429s within this many seconds of a cut are treated as the same overload (one cut)."""

    def __post_init__(self) -> None:
        if not 0 < self.decrease <= 1:
            raise ValueError("decrease must be in (0, 1]")
        if not 0 < self.floor_fraction <= 1:
            raise ValueError("floor_fraction must be in (0, 1]")
        if self.burst_seconds < 0 or self.regrow_seconds <= 0 or self.cooldown < 0:
            raise ValueError("burst_seconds and cooldown must be >= 0, regrow_seconds > 0")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A granted slot: ``release_at`` is when the caller may send. Kept to undo it on cancellation."""

    release_at: float
    tat_before: float
    tat_after: float
    generation: int = 0


class AdaptiveBucket:
    """One scope's bucket: ``ceiling`` units per second at most, currently ``rate``."""

    __slots__ = (
        "_clock",
        "_hold_until",
        "_last_cut",
        "_last_grow",
        "_tat",
        "ceiling",
        "generation",
        "rate",
        "tuning",
    )

    def __init__(self, ceiling: float, *, clock: Clock, tuning: AdaptiveTuning | None = None) -> None:
        if ceiling <= 0:
            raise ValueError(f"a bucket's rate must be positive, not {ceiling!r}")
        self.ceiling = float(ceiling)
        self.rate = float(ceiling)
        self.tuning = tuning or AdaptiveTuning()
        self._clock = clock
        now = clock.now()
        self._tat = now
        self._hold_until = float("-inf")
        self.generation = 0
        """Bumped by every cut and hold: a waiter whose reservation is older must book again."""
        self._last_cut = float("-inf")
        self._last_grow = now

    @property
    def floor(self) -> float:
        return self.ceiling * self.tuning.floor_fraction

    @property
    def tolerance(self) -> float:
        """Seconds of credit an idle bucket holds: one request always passes, then pacing starts."""
        return max(0.0, self.tuning.burst_seconds - 1.0 / self.rate)

    def reserve(self, weight: float = 1.0) -> Reservation:
        """Book ``weight`` units; returns when they may be sent. Never blocks, never refuses."""
        now = self._clock.now()
        before = self._tat
        release = max(now, before - self.tolerance)
        after = max(before, now) + max(0.0, weight) / self.rate
        self._tat = after
        return Reservation(release, before, after, self.generation)

    def backlog(self) -> float:
        """Seconds of requests booked ahead of now (0: the bucket has room nobody has claimed)."""
        return max(0.0, self._tat - self._clock.now())

    def cancel(self, reservation: Reservation) -> None:
        """Give back a reservation that was never used, if nothing was booked after it."""
        if self._tat == reservation.tat_after and self.generation == reservation.generation:
            self._tat = reservation.tat_before

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the server's Retry-After for this scope)."""
        if seconds > 0:
            self._hold_until = max(self._hold_until, self._clock.now() + seconds)
            self._tat = max(self._tat, self._hold_until + self.tolerance)
            self.generation += 1

    def on_rate_limited(self) -> bool:
        """A 429 named this scope: cut the rate. Returns False when inside the cooldown (no cut)."""
        now = self._clock.now()
        if now - self._last_cut < self.tuning.cooldown:
            return False
        self.rate = max(self.floor, self.rate * self.tuning.decrease)
        # Forget slots booked ahead at the old pace (their waiters book again, see generation), but
        # keep any hold and count one request as just sent.
        start = max(now, self._hold_until + self.tolerance)
        self._tat = min(self._tat, start + 1.0 / self.rate)
        self.generation += 1
        self._last_cut = now
        self._last_grow = now
        return True

    def on_success(self) -> None:
        """A request through this scope succeeded: grow the rate back towards the ceiling."""
        now = self._clock.now()
        if self.rate < self.ceiling:
            grown = self.ceiling * (now - self._last_grow) / self.tuning.regrow_seconds
            self.rate = min(self.ceiling, self.rate + grown)
        self._last_grow = now

    def __repr__(self) -> str:
        return f"AdaptiveBucket(rate={self.rate:g}, ceiling={self.ceiling:g})"
