"""What an import reports, the records it rejected, and the report's JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bulkops.errors import EXIT_CODES, BulkopsError
from bulkops.jobs.session import (
    run_fields_from_json,
    run_fields_to_json,
)

__all__ = [
    "LoadProgress",
    "LoadReport",
    "RecordRejectedError",
    "Rejection",
    "report_from_json",
    "report_to_json",
]


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


@dataclass(frozen=True, slots=True)
class LoadReport:
    source: Path
    upserted: int
    rejected: int
    rejections: tuple[Rejection, ...]  # the first ones (at most 1000), in input order
    namespaces: Mapping[str, int]
    requests: Mapping[str, int]
    rate_limited: int
    retries: int
    elapsed: float
    records_per_second: float
    resumed: bool
    stopped: bool = False  # on_error="stop" stopped the job at a rejected record
    extra: Mapping[str, Any] = field(default_factory=dict)


class RecordRejectedError(BulkopsError):
    """``on_error="stop"``: a record was rejected; ``report`` tells what was imported before it."""

    exit_code: ClassVar[int] = EXIT_CODES["partial"]

    def __init__(self, rejection: Rejection, report: LoadReport) -> None:
        super().__init__(
            f"{rejection.location}: {_which(rejection)} was rejected: {rejection.reason}. "
            f"{report.upserted} records were imported before the job stopped; fix the record and run "
            "again (the checkpoint resumes), or pass on_error='skip' to import the rest"
        )
        self.rejection = rejection
        self.report = report


def _which(rejection: Rejection) -> str:
    return f"record {rejection.id!r}" if rejection.id is not None else "the record"


def report_to_json(report: LoadReport) -> dict[str, Any]:
    return {
        "source": str(report.source),
        "upserted": report.upserted,
        "rejected": report.rejected,
        "rejections": [r.to_json() for r in report.rejections],
        "namespaces": dict(report.namespaces),
        **run_fields_to_json(report),
        "extra": dict(report.extra),
    }


def report_from_json(doc: Mapping[str, Any]) -> LoadReport:
    return LoadReport(
        source=Path(doc["source"]),
        upserted=doc["upserted"],
        rejected=doc["rejected"],
        rejections=tuple(Rejection.from_json(r) for r in doc["rejections"]),
        namespaces=doc["namespaces"],
        **run_fields_from_json(doc),
        resumed=True,
        extra=doc.get("extra", {}),
    )
