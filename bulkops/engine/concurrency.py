"""How many requests to keep in flight: Little's law, ``in flight = rate × latency``.

A rate limit only turns into throughput if enough requests are outstanding to cover the round trip:
at 200 req/s and 25 ms per request, about 5 must be in flight at any moment. The latency used is a low
percentile of recent samples, i.e. the round trip without queueing: the measured latency of a request
that waited in a rate limiter grows with the number in flight, and sizing from it would feed back into
ever more requests in flight.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["LatencyTracker", "RateMeter", "in_flight_for"]


class LatencyTracker:
    """A sliding window of request latencies; :attr:`service_time` is its low percentile."""

    def __init__(self, window: int = 256, percentile: float = 0.05, initial: float = 0.05) -> None:
        self._samples: deque[float] = deque(maxlen=window)
        self._percentile = percentile
        self._initial = initial

    def observe(self, seconds: float) -> None:
        self._samples.append(max(0.0, seconds))

    @property
    def count(self) -> int:
        return len(self._samples)

    @property
    def service_time(self) -> float:
        """Seconds one request takes without queueing (the initial guess until a sample exists)."""
        if not self._samples:
            return self._initial
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * self._percentile))]


def in_flight_for(
    rate: float | None, latency: float, *, headroom: float = 1.5, minimum: int = 1, maximum: int = 64
) -> int:
    """Requests to keep in flight to sustain ``rate`` per second at ``latency`` seconds each.

    ``rate`` None (no limit known) gives ``maximum``. ``headroom`` covers latency jitter.
    """
    if rate is None:
        return maximum
    wanted = math.ceil(rate * latency * headroom)
    return max(minimum, min(maximum, wanted))


class RateMeter:
    """Completions per second over the last ``window`` seconds (None until a full window has passed).

    Little's law sizes from latency; this checks the result: once the achieved rate is at the limit,
    more requests in flight would only queue in the rate limiter.
    """

    def __init__(self, window: float = 1.0) -> None:
        self._window = window
        self._times: deque[float] = deque()
        self._first: float | None = None

    def mark(self, now: float) -> None:
        if self._first is None:
            self._first = now
        self._times.append(now)
        while self._times and self._times[0] < now - self._window:
            self._times.popleft()

    def rate(self, now: float) -> float | None:
        if self._first is None or now - self._first < self._window:
            return None
        while self._times and self._times[0] < now - self._window:
            self._times.popleft()
        return len(self._times) / self._window
