"""bulkops: fast, resumable bulk operations on Pinecone serverless indexes.

The library surface: the three jobs (``purge``, ``export``, ``load``) with their progress and report
types, the async ``Client``, the errors a caller handles, and the local server (``ServerConfig``,
``serve_local``). Nothing is imported until it is asked for (PEP 562): ``import bulkops.errors`` or
``bulkops serve`` load only what they use, not the client, the jobs and aiohttp. The library never
imports click or rich (those are the CLI's). Test doubles live in :mod:`bulkops.testing`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulkops.api import Client
    from bulkops.errors import BulkopsError, UsageError, VerificationError
    from bulkops.jobs import PurgeProgress, PurgeReport, purge
    from bulkops.jobs.export import ExportProgress, ExportReport, export
    from bulkops.jobs.load import LoadProgress, LoadReport, RecordRejectedError, load
    from bulkops.server import ServerConfig, serve_local

    __version__: str

__all__ = [
    "BulkopsError",
    "Client",
    "ExportProgress",
    "ExportReport",
    "LoadProgress",
    "LoadReport",
    "PurgeProgress",
    "PurgeReport",
    "RecordRejectedError",
    "ServerConfig",
    "UsageError",
    "VerificationError",
    "__version__",
    "export",
    "load",
    "purge",
    "serve_local",
]

# Every public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "BulkopsError": "bulkops.errors",
    "Client": "bulkops.api",
    "ExportProgress": "bulkops.jobs.export",
    "ExportReport": "bulkops.jobs.export",
    "LoadProgress": "bulkops.jobs.load",
    "LoadReport": "bulkops.jobs.load",
    "PurgeProgress": "bulkops.jobs",
    "PurgeReport": "bulkops.jobs",
    "RecordRejectedError": "bulkops.jobs.load",
    "ServerConfig": "bulkops.server",
    "UsageError": "bulkops.errors",
    "VerificationError": "bulkops.errors",
    "export": "bulkops.jobs.export",
    "load": "bulkops.jobs.load",
    "purge": "bulkops.jobs",
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
