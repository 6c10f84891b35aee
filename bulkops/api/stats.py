"""Request statistics: counters, a frozen snapshot, and events for progress bars.

The library never prints. The pipeline and the CLI either poll :meth:`StatsRecorder.snapshot` (a frozen
:class:`RequestStats`) or subscribe a callback that receives a :class:`RequestEvent` when a request
completes, fails, is rate limited, or is about to be retried. Callbacks run inline on the event loop,
so they must be quick; an exception in one is logged and swallowed so a progress bar cannot break a job.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["EventKind", "RequestEvent", "RequestStats", "StatsRecorder", "Subscriber"]

log = logging.getLogger("bulkops.api")

EventKind = Literal["completed", "failed", "rate_limited", "retry"]


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One thing that happened to one request attempt.

    ``completed``: a 2xx answer. ``failed``: the request gave up (the error is about to be raised).
    ``rate_limited``: a 429 arrived (a retry event usually follows). ``retry``: the request will be sent
    again after ``delay`` seconds.
    """

    kind: EventKind
    operation: str
    attempt: int
    status: int | None = None
    elapsed: float = 0.0
    delay: float = 0.0
    records: int = 0
    error: str | None = None
    scopes: tuple[str, ...] = ()


Subscriber = Callable[[RequestEvent], None]


def _frozen(counter: Counter[str]) -> Mapping[str, int]:
    return MappingProxyType(dict(counter))


@dataclass(frozen=True, slots=True)
class RequestStats:
    """A point-in-time copy of a client's counters. ``rates`` maps a scope (``op/kind:name/unit``) to
    its current adaptive rate in units per second."""

    requests: Mapping[str, int] = field(default_factory=dict)
    """Attempts sent, per operation."""
    succeeded: Mapping[str, int] = field(default_factory=dict)
    failed: Mapping[str, int] = field(default_factory=dict)
    """Requests that gave up with an error, per operation."""
    rate_limited: Mapping[str, int] = field(default_factory=dict)
    """429 answers, per operation."""
    retries: Mapping[str, int] = field(default_factory=dict)
    statuses: Mapping[int, int] = field(default_factory=dict)
    """Answers per HTTP status; a gRPC status counts as its HTTP family's (OK 200, UNAVAILABLE 503, ...)."""
    transport_errors: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    records: int = 0
    """Records carried by successful requests (IDs deleted or fetched, vectors upserted)."""
    in_flight: int = 0
    wait_seconds: float = 0.0
    """Total time requests spent waiting in rate limiters."""
    rates: Mapping[str, float] = field(default_factory=dict)
    retry_budget: float = 0.0
    transports: Mapping[str, str] = field(default_factory=dict)
    """The data-plane transport picked for each index host (``grpc`` or ``rest``)."""

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def total_rate_limited(self) -> int:
        return sum(self.rate_limited.values())

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())


class StatsRecorder:
    """Mutable counters behind :class:`RequestStats`, plus the subscriber list."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.succeeded: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.transport_errors = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.records = 0
        self.in_flight = 0
        self.wait_seconds = 0.0
        self.transports: dict[str, str] = {}
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every :class:`RequestEvent`; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: RequestEvent) -> None:
        for callback in tuple(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("a stats subscriber raised; ignoring it")

    def snapshot(self, *, rates: Mapping[str, float], retry_budget: float) -> RequestStats:
        return RequestStats(
            requests=_frozen(self.requests),
            succeeded=_frozen(self.succeeded),
            failed=_frozen(self.failed),
            rate_limited=_frozen(self.rate_limited),
            retries=_frozen(self.retries),
            statuses=MappingProxyType(dict(self.statuses)),
            transport_errors=self.transport_errors,
            bytes_sent=self.bytes_sent,
            bytes_received=self.bytes_received,
            records=self.records,
            in_flight=self.in_flight,
            wait_seconds=self.wait_seconds,
            rates=MappingProxyType(dict(rates)),
            retry_budget=retry_budget,
            transports=MappingProxyType(dict(self.transports)),
        )
