"""What every job report starts with: this run's requests, 429s, retries, time, rate and its bound.

Each job's report is a :class:`RunFigures` with the job's own fields added, so the figures have one
name and one meaning everywhere, and :meth:`RunFigures.to_json` is the one JSON form of any report
(the CLI prints it, a finished job stores it in its checkpoint). Request counts come from the
client's statistics (:class:`FiguresMeter`), never from counters the jobs keep by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.clock import Clock
from bulkops.jobs.target import Target

__all__ = ["FiguresMeter", "RunFigures", "json_value"]


def json_value(value: Any) -> Any:
    """A report value as JSON-able data: dataclasses as objects, paths as strings, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_json = getattr(value, "to_json", None)
        if callable(to_json):
            return to_json()
        return {f.name: json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFigures:
    """This run's figures (a resumed job's earlier runs are in the counts, not here).

    ``requests``: requests sent, per operation (empty when the job was given a bare data plane, which
    keeps no statistics). ``rate``: records (a purge: IDs) per second of this run's main phase.
    ``bound``: the rate the documented limits allow for this job (None: no limit applies).
    ``transport``: the wire the data plane used (``grpc`` / ``rest``; None for a test double);
    ``transport_requested``: what the run asked for (``auto``: the client picked ``transport`` by asking
    the index host; ``grpc`` / ``rest``: forced; None for a bare data plane).
    """

    requests: Mapping[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    retries: int = 0
    elapsed: float = 0.0
    rate: float = 0.0
    bound: float | None = None
    resumed: bool = False
    notes: tuple[str, ...] = ()
    transport: str | None = None
    transport_requested: str | None = None

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def rate_vs_bound(self) -> float | None:
        """``rate ÷ bound`` (None when no bound applies or nothing was done)."""
        return self.rate / self.bound if self.bound and self.rate else None

    def to_json(self) -> dict[str, Any]:
        doc = {f.name: json_value(getattr(self, f.name)) for f in dataclasses.fields(self)}
        doc["rate_vs_bound"] = self.rate_vs_bound
        return doc

    @staticmethod
    def figures_from_json(doc: Mapping[str, Any]) -> dict[str, Any]:
        """The :class:`RunFigures` fields of a stored report, as keyword arguments."""
        return {
            "requests": dict(doc.get("requests") or {}),
            "rate_limited": int(doc.get("rate_limited") or 0),
            "retries": int(doc.get("retries") or 0),
            "elapsed": float(doc.get("elapsed") or 0.0),
            "rate": float(doc.get("rate", doc.get("records_per_second", 0.0)) or 0.0),
            "bound": doc.get("bound"),
            "notes": tuple(doc.get("notes") or ()),
            "transport": doc.get("transport"),
            "transport_requested": doc.get("transport_requested"),
        }


class FiguresMeter:
    """Measures one run: started when the job starts, read when its report is written."""

    def __init__(self, target: Target, clock: Clock) -> None:
        self._target = target
        self._clock = clock
        self._before = target.stats()
        self.started = clock.now()

    def elapsed(self) -> float:
        return self._clock.now() - self.started

    def figures(
        self, *, done: int, seconds: float | None = None, bound: float | None, resumed: bool
    ) -> dict[str, Any]:
        """Keyword arguments for a report: ``done`` records in ``seconds`` (default: the whole run)."""
        elapsed = self.elapsed()
        seconds = elapsed if seconds is None else seconds
        requests: dict[str, int] = {}
        rate_limited = retries = 0
        now = self._target.stats()
        if now is not None and self._before is not None:
            before = self._before
            requests = {
                op: n - before.requests.get(op, 0)
                for op, n in now.requests.items()
                if n - before.requests.get(op, 0)
            }
            rate_limited = now.total_rate_limited - before.total_rate_limited
            retries = now.total_retries - before.total_retries
        wire = getattr(self._target.dataplane, "transport", None)  # an IndexClient says which
        client = self._target.client  # with a client, its own choice is in force (as open_target says)
        requested = client.config.transport if client is not None else None
        return {
            "requests": requests,
            "rate_limited": rate_limited,
            "retries": retries,
            "elapsed": elapsed,
            "rate": done / seconds if seconds > 0 else 0.0,
            "bound": bound,
            "resumed": resumed,
            "transport": wire if isinstance(wire, str) and wire != "auto" else None,
            "transport_requested": requested,
        }
