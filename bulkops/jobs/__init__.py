"""Jobs: each composes the engine, the client and (for export and load) the sinks into one operation.

One package per job (:mod:`.purge`, :mod:`.export`, :mod:`.load`, :mod:`.copy`, :mod:`.bulk_import`),
each with a frozen
spec (what the job is; the one thing its checkpoint stores), the run, and its report. Shared:
:mod:`.target` (naming and opening an index), :mod:`.namespaces` (which namespaces; several at once),
:mod:`.selection` (prefixes, IDs, filter), :mod:`.ids` (the one IDs reader), :mod:`.figures` (what
every report starts with), :mod:`.journal` (a run's checkpoint and what a spec must offer it),
:mod:`.resume` (any job from its checkpoint), :mod:`.counting` (what a selection holds: dry runs, the
purge's guard), :mod:`.groups`, :mod:`.arguments`.
"""

from __future__ import annotations

from bulkops.jobs.bulk_import import BulkImportProgress, BulkImportReport, BulkImportSpec, bulk_import
from bulkops.jobs.copy import CopyProgress, CopyReport, CopySpec, copy
from bulkops.jobs.export import ExportProgress, ExportReport, ExportSpec, export
from bulkops.jobs.figures import RunFigures
from bulkops.jobs.load import LoadProgress, LoadReport, LoadSpec, Rejection, load
from bulkops.jobs.purge import PurgeProgress, PurgeReport, PurgeSpec, Verification, purge
from bulkops.jobs.resume import read_spec, resume
from bulkops.jobs.target import TargetSpec

__all__ = [
    "BulkImportProgress",
    "BulkImportReport",
    "BulkImportSpec",
    "CopyProgress",
    "CopyReport",
    "CopySpec",
    "ExportProgress",
    "ExportReport",
    "ExportSpec",
    "LoadProgress",
    "LoadReport",
    "LoadSpec",
    "PurgeProgress",
    "PurgeReport",
    "PurgeSpec",
    "Rejection",
    "RunFigures",
    "TargetSpec",
    "Verification",
    "bulk_import",
    "copy",
    "export",
    "load",
    "purge",
    "read_spec",
    "resume",
]
