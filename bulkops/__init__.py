"""bulkops: fast, resumable bulk operations on Pinecone serverless indexes.

The library surface: the jobs (``purge``, ``export``, ``load``, ``copy``, ``bulk_import``) with their
progress and report types, ``resume`` (any job from its checkpoint), the async ``Client``, the errors a
caller handles, and the local server (``ServerConfig``, ``serve_local``). Nothing is imported until it
is asked for (PEP 562): ``import bulkops.errors`` or ``bulkops serve`` load only what they use, not the
client, the jobs and aiohttp. The library never imports click or rich (those are the CLI's). Test
doubles live in :mod:`bulkops.testing`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulkops.api import Client
    from bulkops.errors import (
        BulkopsError,
        CheckpointBusyError,
        PartialJobError,
        RecordRejectedError,
        UsageError,
        VerificationError,
    )
    from bulkops.jobs import (
        BulkImportProgress,
        BulkImportReport,
        CopyProgress,
        CopyReport,
        ExportProgress,
        ExportReport,
        LoadProgress,
        LoadReport,
        PurgeProgress,
        PurgeReport,
        bulk_import,
        copy,
        export,
        load,
        purge,
        resume,
    )
    from bulkops.server import ServerConfig, serve_local

    __version__: str

__all__ = [
    "BulkImportProgress",
    "BulkImportReport",
    "BulkopsError",
    "CheckpointBusyError",
    "Client",
    "CopyProgress",
    "CopyReport",
    "ExportProgress",
    "ExportReport",
    "LoadProgress",
    "LoadReport",
    "PartialJobError",
    "PurgeProgress",
    "PurgeReport",
    "RecordRejectedError",
    "ServerConfig",
    "UsageError",
    "VerificationError",
    "__version__",
    "bulk_import",
    "copy",
    "export",
    "load",
    "purge",
    "resume",
    "serve_local",
]

# Every public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "BulkImportProgress": "bulkops.jobs",
    "BulkImportReport": "bulkops.jobs",
    "BulkopsError": "bulkops.errors",
    "CheckpointBusyError": "bulkops.errors",
    "Client": "bulkops.api",
    "CopyProgress": "bulkops.jobs",
    "CopyReport": "bulkops.jobs",
    "ExportProgress": "bulkops.jobs",
    "ExportReport": "bulkops.jobs",
    "LoadProgress": "bulkops.jobs",
    "LoadReport": "bulkops.jobs",
    "PartialJobError": "bulkops.errors",
    "PurgeProgress": "bulkops.jobs",
    "PurgeReport": "bulkops.jobs",
    "RecordRejectedError": "bulkops.errors",
    "ServerConfig": "bulkops.server",
    "UsageError": "bulkops.errors",
    "VerificationError": "bulkops.errors",
    "bulk_import": "bulkops.jobs",
    "copy": "bulkops.jobs",
    "export": "bulkops.jobs",
    "load": "bulkops.jobs",
    "purge": "bulkops.jobs",
    "resume": "bulkops.jobs",
    "serve_local": "bulkops.server",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for (PEP 562)."""
    if name == "__version__":
        from bulkops._version import package_version

        value: Any = package_version()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'bulkops' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
