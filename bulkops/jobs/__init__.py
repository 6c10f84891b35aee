"""Jobs: each composes the engine, the client and (for export/import) the sinks into one operation."""

from __future__ import annotations

from bulkops.jobs.purge import purge
from bulkops.jobs.purge_report import PurgeProgress, PurgeReport, Verification

__all__ = ["PurgeProgress", "PurgeReport", "Verification", "purge"]
