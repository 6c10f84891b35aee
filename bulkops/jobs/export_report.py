"""What an export reports, and the report's JSON form (a finished job stores it in its checkpoint)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.jobs.session import (
    run_fields_from_json,
    run_fields_to_json,
)

__all__ = ["ExportProgress", "ExportReport", "report_from_json", "report_to_json"]


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Handed to the ``progress`` callback after each write."""

    namespace: str
    exported: int  # records written in this run and before (whole job)
    elapsed: float


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did; a rerun of a finished job returns the stored one (``resumed`` True)."""

    output: Path
    manifest: Path
    format: str
    exported: int
    namespaces: Mapping[str, int]
    missing: int  # IDs listed or given that fetch did not return (deleted meanwhile, or unknown)
    requests: Mapping[str, int]
    rate_limited: int
    retries: int
    elapsed: float  # this run
    records_per_second: float  # records written in this run ÷ elapsed
    bound: float | None  # records/s the documented limits allow for this kind of source
    resumed: bool
    commits: int
    index: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rate_vs_bound(self) -> float | None:
        return self.records_per_second / self.bound if self.bound else None


def report_to_json(report: ExportReport) -> dict[str, Any]:
    return {
        "output": str(report.output),
        "manifest": str(report.manifest),
        "format": report.format,
        "exported": report.exported,
        "namespaces": dict(report.namespaces),
        "missing": report.missing,
        **run_fields_to_json(report),
        "bound": report.bound,
        "commits": report.commits,
        "index": dict(report.index),
    }


def report_from_json(doc: Mapping[str, Any], *, resumed: bool) -> ExportReport:
    return ExportReport(
        output=Path(doc["output"]),
        manifest=Path(doc["manifest"]),
        format=doc["format"],
        exported=doc["exported"],
        namespaces=doc["namespaces"],
        missing=doc["missing"],
        **run_fields_from_json(doc),
        bound=doc["bound"],
        resumed=resumed,
        commits=doc["commits"],
        index=doc["index"],
    )
