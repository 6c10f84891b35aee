"""What a bulk import reports, and its progress as it is followed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.jobs.figures import RunFigures

__all__ = ["BulkImportProgress", "BulkImportReport"]


@dataclass(frozen=True, slots=True)
class BulkImportProgress:
    """Handed to the ``progress`` callback at every look at the import."""

    import_id: str
    status: str  # Pending, InProgress, Completed, Failed, Cancelled
    percent: float
    records_imported: int
    elapsed: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkImportReport(RunFigures):
    """What a bulk import did.

    ``import_id``: Pinecone's id of the import (``bulkops imports describe ID``); ``adopted``: this run
    found an import an interrupted run had started, instead of starting one. ``records_imported``:
    Pinecone's count; ``namespaces``: records per target namespace as the index counts them once the
    import completed; ``expected``: what the export's manifest says each holds (None: the directory is
    not a bulkops export). ``rate``: records imported per second of this run (an import is not bound by
    the upsert limits: ``bound`` is None).
    """

    uri: str
    import_id: str
    status: str
    records_imported: int
    namespaces: Mapping[str, int]
    expected: Mapping[str, int] | None = None
    error: str | None = None
    on_error: str = "continue"
    adopted: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        """Records the manifest lists that the index does not hold (0 without a manifest)."""
        if self.expected is None:
            return 0
        return sum(max(0, n - self.namespaces.get(ns, 0)) for ns, n in self.expected.items())

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], *, resumed: bool) -> BulkImportReport:
        return cls(
            uri=str(doc["uri"]),
            import_id=str(doc["import_id"]),
            status=str(doc["status"]),
            records_imported=int(doc["records_imported"]),
            namespaces=dict(doc.get("namespaces") or {}),
            expected=doc.get("expected"),
            error=doc.get("error"),
            on_error=str(doc.get("on_error") or "continue"),
            adopted=bool(doc.get("adopted", False)),
            extra=doc.get("extra") or {},
            **RunFigures.figures_from_json(doc),
            resumed=resumed,
        )
