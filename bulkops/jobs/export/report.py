"""What an export reports (a finished job stores it in its checkpoint, and a rerun returns it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkops.jobs.figures import RunFigures

__all__ = ["ExportProgress", "ExportReport", "location_value"]


def location_value(text: str) -> Path | str:
    """A stored location as a report holds it: a Path on the local disk, the URI of an object store."""
    return text if "://" in text else Path(text)


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Handed to the ``progress`` callback after each write."""

    namespace: str
    exported: int  # records written in this run and before (whole job)
    elapsed: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport(RunFigures):
    """What an export did; a rerun of a finished job returns the stored one (``resumed`` True).

    ``rate``: records written in this run ÷ its elapsed time; ``bound``: the records/s the documented
    limits allow for this kind of source.
    """

    output: Path | str  # a local path, or the object store's URI
    manifest: Path | str
    format: str
    exported: int
    namespaces: Mapping[str, int]
    missing: int  # IDs listed or given that fetch did not return (deleted meanwhile, or unknown)
    commits: int
    index: Mapping[str, Any] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        """The name of :attr:`rate` before reports shared it."""
        return self.rate

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], *, resumed: bool) -> ExportReport:
        return cls(
            output=location_value(doc["output"]),
            manifest=location_value(doc["manifest"]),
            format=doc["format"],
            exported=doc["exported"],
            namespaces=doc["namespaces"],
            missing=doc["missing"],
            commits=doc["commits"],
            index=doc.get("index") or {},
            **RunFigures.figures_from_json(doc),
            resumed=resumed,
        )
