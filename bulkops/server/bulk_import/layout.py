"""What an import directory holds, checked against Pinecone's rules before anything is written.

The rules (layout and per-import limits) are :mod:`bulkops.storage.import_layout`, shared with the
client, which checks a directory before it starts an import; here a problem fails the import
(:class:`ImportFailure`) and each namespace directory must name a namespace this server accepts.

Runs in a worker thread (it lists the store).
"""

from __future__ import annotations

from bulkops.errors import BulkopsError
from bulkops.server.bulk_import.failure import ImportFailure
from bulkops.server.context import DEFAULT_ALIAS, namespace_of
from bulkops.server.problems import ApiProblem
from bulkops.storage import Storage
from bulkops.storage.import_layout import MAX_RECORDS, ImportFile, ImportPlan, scan_import_layout

__all__ = ["MAX_RECORDS", "ImportFile", "ImportPlan", "scan_layout"]


def scan_layout(storage: Storage) -> ImportPlan:
    """List the import directory and check it; an :class:`ImportFailure` says what is wrong."""

    def namespace(directory: str) -> str:
        if directory == DEFAULT_ALIAS:
            return ""
        try:
            return namespace_of(directory, "2025-10")[0]
        except ApiProblem as problem:
            raise ImportFailure(f"{storage.root.join(directory)}: {problem.message}") from None

    try:
        return scan_import_layout(storage, namespace_of=namespace)
    except BulkopsError as exc:  # the layout, an unknown bucket, credentials, an unreachable store
        raise ImportFailure(str(exc)) from None
