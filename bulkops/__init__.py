"""bulkops: fast, resumable bulk operations on Pinecone serverless indexes.

The library surface: the three jobs (``purge``, ``export``, ``load``) with their progress and report
types, ``resume`` (any job from its checkpoint), the async ``Client``, the errors a caller handles, and
the local server (``ServerConfig``, ``serve_local``). The server is imported on first use, so the
client and the CLI's other commands do not load it. The library never imports click or rich (those
are the CLI's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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
    ExportProgress,
    ExportReport,
    LoadProgress,
    LoadReport,
    PurgeProgress,
    PurgeReport,
    export,
    load,
    purge,
    resume,
)

if TYPE_CHECKING:
    from bulkops.server import ServerConfig, serve_local

__all__ = [
    "BulkopsError",
    "CheckpointBusyError",
    "Client",
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
    "export",
    "load",
    "purge",
    "resume",
    "serve_local",
]

_LAZY = {"ServerConfig": "bulkops.server", "serve_local": "bulkops.server"}


def __getattr__(name: str) -> Any:
    """Import the local server only when one of its names is asked for (PEP 562)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bulkops' has no attribute {name!r}")
