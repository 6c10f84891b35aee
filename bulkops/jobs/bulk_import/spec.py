"""What a bulk import is (:class:`BulkImportSpec`): a directory in object storage, the index it goes
into, and how Pinecone should treat a record it cannot import.

The identity is the index and the URI; ``integration_id``, ``on_error``, ``check_layout`` and the storage
endpoint (for bulkops's own look at the directory) are options stored beside it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bulkops.api.bulk_import import ERROR_MODES, ErrorMode
from bulkops.errors import Param, UsageError
from bulkops.jobs.export.spec import state_checkpoint
from bulkops.jobs.target import TargetSpec
from bulkops.storage import parse_uri

__all__ = ["BulkImportOptions", "BulkImportSpec", "build_bulk_import"]

SPEC_VERSION = 1
_MAX_URI = 1500


@dataclass(frozen=True, slots=True)
class BulkImportOptions:
    """How the import runs; not part of its identity.

    ``on_error``: Pinecone's ``errorMode.onError`` (``continue`` skips records it cannot import,
    ``abort`` stops the import at the first). ``check_layout``: list the directory (with this machine's
    credentials) and check it before starting; off when only Pinecone's integration can read it.
    ``poll_interval``: seconds between looks at the import while following it.
    """

    integration_id: str | None = None
    on_error: ErrorMode = "continue"
    check_layout: bool = True
    storage_endpoint: str | None = None
    poll_interval: float = 2.0
    verify_delay: float = 10.0

    def to_json(self) -> dict[str, Any]:
        return {
            "integration_id": self.integration_id,
            "on_error": self.on_error,
            "check_layout": self.check_layout,
            "storage_endpoint": self.storage_endpoint,
            "poll_interval": self.poll_interval,
            "verify_delay": self.verify_delay,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> BulkImportOptions:
        on_error = doc.get("on_error", "continue")
        if on_error not in ERROR_MODES:
            raise ValueError(f"unknown on_error {on_error!r}")
        return cls(
            doc.get("integration_id"),
            "abort" if on_error == "abort" else "continue",
            bool(doc.get("check_layout", True)),
            doc.get("storage_endpoint"),
            float(doc.get("poll_interval", 2.0)),
            float(doc.get("verify_delay", 10.0)),
        )


@dataclass(frozen=True, slots=True)
class BulkImportSpec:
    """A bulk import of ``uri`` (``s3://``, ``gs://``; ``file:///`` on the local server) into an index."""

    kind: ClassVar[str] = "bulk_import"

    target: TargetSpec
    uri: str  # as sent to Pinecone: the import directory, ending in "/"
    options: BulkImportOptions = field(default_factory=BulkImportOptions)

    def default_checkpoint(self) -> Path:
        """A local file named after the URI and the index (the directory is in an object store): the
        same import run again finds it; the same directory imported into another index does not."""
        return state_checkpoint("bulk-import", f"{self.uri}\n{self.target.index or self.target.host}")

    def indexes(self) -> tuple[TargetSpec, ...]:
        return (self.target,)

    def identity(self) -> dict[str, Any]:
        return {"uri": self.uri}

    def describe(self) -> str:
        return f"bulk import of {self.uri} into {self.target.describe()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "target": self.target.to_json(),
            "uri": self.uri,
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> BulkImportSpec:
        return cls(
            TargetSpec.from_json(doc["target"]),
            str(doc["uri"]),
            BulkImportOptions.from_json(doc.get("options") or {}),
        )


def import_uri(location: str | os.PathLike[str]) -> str:
    """The URI Pinecone is given: the directory, normalized, ending in ``/`` (an S3 prefix without it
    would also match ``dir2/``); a local path becomes ``file:///`` (the local server reads those)."""
    uri = parse_uri(os.fspath(location))
    if uri.bucket is not None and not uri.key:
        return f"{uri}/"
    text = f"file:///{uri.key}" if uri.is_local else str(uri)
    return text.rstrip("/") + "/"


def build_bulk_import(
    *,
    uri: str | os.PathLike[str],
    target: TargetSpec,
    integration_id: str | None = None,
    on_error: str = "continue",
    check_layout: bool = True,
    storage_endpoint: str | None = None,
    poll_interval: float = 2.0,
    verify_delay: float = 10.0,
) -> BulkImportSpec:
    """Check a bulk import's arguments and build its spec (nothing is sent or listed)."""
    if on_error not in ERROR_MODES:
        raise UsageError(
            Param("on_error", on_error), " must be 'continue' (skip what cannot be imported) or 'abort'"
        )
    if integration_id is not None and not (
        isinstance(integration_id, str) and 1 <= len(integration_id) <= 1000
    ):
        raise UsageError(Param("integration_id", integration_id), " must be 1 to 1000 characters")
    for name, value in (("poll_interval", poll_interval), ("verify_delay", verify_delay)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise UsageError(Param(name, value), " must be a finite number of seconds, 0 or more")
    sent = import_uri(uri)
    if len(sent) > _MAX_URI:
        raise UsageError(
            Param("uri", str(uri)), f" is {len(sent)} characters; Pinecone takes at most {_MAX_URI}"
        )
    options = BulkImportOptions(
        integration_id,
        "abort" if on_error == "abort" else "continue",
        check_layout,
        storage_endpoint,
        float(poll_interval),
        float(verify_delay),
    )
    return BulkImportSpec(target, sent, options)
