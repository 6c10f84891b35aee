"""What an import reports, and the records it rejected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.jobs.export.report import location_value
from bulkops.jobs.figures import RunFigures

__all__ = ["LoadProgress", "LoadReport", "Rejection"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input record that was not imported, where it is, and why."""

    ordinal: int
    location: str
    id: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"ordinal": self.ordinal, "location": self.location, "id": self.id, "reason": self.reason}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Rejection:
        return cls(int(doc["ordinal"]), str(doc["location"]), doc.get("id"), str(doc["reason"]))


@dataclass(frozen=True, slots=True)
class LoadProgress:
    upserted: int
    rejected: int
    elapsed: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport(RunFigures):
    """What an import did. ``rate``: records upserted in this run ÷ its elapsed time.

    ``stopped_at``: the record ``on_error="stop"`` stopped at (None: it did not stop). Nothing after it
    is sent; ``in_flight_after_stop`` lists records after it that were already on their way when the
    server (not bulkops' own checks) refused it, and went in.
    """

    source: Path | str  # a local path, or the object store's URI
    upserted: int
    rejected: int
    rejections: tuple[Rejection, ...]  # the first ones (at most 1000), in input order
    namespaces: Mapping[str, int]
    stopped_at: Rejection | None = None
    in_flight_after_stop: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        """``on_error="stop"`` stopped the job at a rejected record."""
        return self.stopped_at is not None

    @property
    def records_per_second(self) -> float:
        """The name of :attr:`rate` before reports shared it."""
        return self.rate

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], *, resumed: bool) -> LoadReport:
        stopped = doc.get("stopped_at")
        return cls(
            source=location_value(doc["source"]),
            upserted=doc["upserted"],
            rejected=doc["rejected"],
            rejections=tuple(Rejection.from_json(r) for r in doc["rejections"]),
            namespaces=doc["namespaces"],
            stopped_at=Rejection.from_json(stopped) if stopped else None,
            in_flight_after_stop=tuple(doc.get("in_flight_after_stop") or ()),
            extra=doc.get("extra") or {},
            **RunFigures.figures_from_json(doc),
            resumed=resumed,
        )
