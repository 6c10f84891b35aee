"""What a copy reports: counts (per namespace in the detail), the destination, the figures, the check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkops.jobs.copy.verify import CopyVerification
from bulkops.jobs.figures import RunFigures

__all__ = ["CopyProgress", "CopyReport"]


@dataclass(frozen=True, slots=True)
class CopyProgress:
    """Handed to the ``progress`` callback as records are upserted."""

    namespace: str  # the source namespace of the latest batch
    copied: int  # records upserted in this run and before (whole job)
    elapsed: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyReport(RunFigures):
    """What a copy did. Counts are cumulative over resumed runs of one checkpoint.

    ``copied``: records upserted into the destination; ``missing``: IDs listed or given that the source
    did not return (deleted meanwhile, or unknown); ``namespaces``: records copied per source namespace
    (every namespace, however many: the CLI summarizes them); ``rate``: this run's records per second;
    ``bound``: the records/s the limits of whichever side binds allow. A dry run copies nothing:
    ``would_copy`` and ``estimate`` (requests and seconds at the bound) say what it would do.
    """

    source: Mapping[str, Any]
    destination: Mapping[str, Any]
    dry_run: bool
    copied: int
    missing: int
    namespaces: Mapping[str, int]
    namespace_map: Mapping[str, str] = field(default_factory=dict)
    verification: CopyVerification = field(default_factory=lambda: CopyVerification(False))
    would_copy: int | None = None
    estimate: Mapping[str, Any] | None = None
