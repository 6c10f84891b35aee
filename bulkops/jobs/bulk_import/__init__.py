"""Bulk import (``bulkops.bulk_import``): have Pinecone import a directory of Parquet files from object
storage, follow it to the end, and report what landed, resumably.

Its own small job rather than a mode of :func:`bulkops.load`: nothing of the load's machinery applies
(no reader, batches, upserts or watermarks: Pinecone reads the files), and its checkpoint holds one
thing that matters, the import's id, so that a crash resumes *following* the same import instead of
starting a second one (:mod:`.job`). Before it starts anything it checks the directory and the target
namespaces (:mod:`.checks`).

Modules: :mod:`.spec`, :mod:`.checks`, :mod:`.job` (start, adopt, follow, counts), :mod:`.report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.jobs.bulk_import.job import run_bulk_import
from bulkops.jobs.bulk_import.report import BulkImportProgress, BulkImportReport
from bulkops.jobs.bulk_import.spec import BulkImportOptions, BulkImportSpec, build_bulk_import
from bulkops.jobs.target import Access, Limits, TargetSpec

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = [
    "BulkImportOptions",
    "BulkImportProgress",
    "BulkImportReport",
    "BulkImportSpec",
    "build_bulk_import",
    "bulk_import",
    "run_bulk_import",
]


async def bulk_import(
    *,
    uri: str | os.PathLike[str],
    index: str | None = None,
    host: str | None = None,
    integration_id: str | None = None,
    on_error: str = "continue",
    check_layout: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: Limits = "default",
    storage_endpoint: str | None = None,
    progress: Callable[[BulkImportProgress], None] | None = None,
    poll_interval: float = 2.0,
    verify_delay: float = 10.0,
    client: Client | None = None,
    client_options: Mapping[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> BulkImportReport:
    """Import the Parquet files under ``uri`` (``s3://BUCKET/DIR/``, ``gs://...``; the local server also
    reads ``file:///``) with Pinecone's bulk import, wait until it ends, and report.

    ``uri`` holds one directory per target namespace (``__default__`` for the default one), as
    :func:`bulkops.export` writes with ``for_bulk_import=True``. Before starting: the layout is listed
    and checked with this machine's credentials (``check_layout=False`` when only Pinecone's storage
    integration can read it), a bulkops export's manifest must be finished and list exactly the files
    there, and the target namespaces must not exist yet. ``integration_id``: Pinecone's storage
    integration for a private bucket. ``on_error``: ``"continue"`` (Pinecone's default: skip records it
    cannot import; the report compares the counts with the manifest) or ``"abort"``. ``checkpoint``
    (default: a local file named after the URI) makes a rerun or :func:`bulkops.resume` follow the same
    import rather than start another. Raises :class:`~bulkops.errors.PartialJobError` when the import
    fails or is cancelled, :class:`~bulkops.errors.VerificationError` when it completes short of the
    manifest.
    """
    target = TargetSpec.build(
        index=index, host=host, controller_host=controller_host, limits=limits, opened=client is not None
    )
    spec = build_bulk_import(
        uri=uri,
        target=target,
        integration_id=integration_id,
        on_error=on_error,
        check_layout=check_layout,
        storage_endpoint=storage_endpoint,
        poll_interval=poll_interval,
        verify_delay=verify_delay,
    )
    access = Access(api_key, client, None, client_options)
    return await run_bulk_import(spec, checkpoint=checkpoint, access=access, progress=progress, clock=clock)
