"""Export: stream records out of an index into JSONL or Parquet, exactly once, resumable.

Flow (several namespaces at once, each in a lane; the writer takes one namespace at a time, so each
namespace's records are contiguous in the output: :mod:`.pen`)::

    ID source ──pages──▶ page queue ──batches ≤1000 IDs──▶ fetch workers ──records──▶ writer ──▶ sink
    (list chains with prefix fan-out,   (a free worker takes what     (in flight by Little's  (commits)
     an ID file, or fetch_by_metadata)    is queued, up to 1000 IDs    law on fetch rate,
     one per namespace in a lane)         of one namespace)            shared by all lanes)

Commit protocol (what makes it exactly-once). Fetches finish out of order, so the writer appends a
batch's records as soon as they arrive and keeps, per chain, which pages are written: the chain's
*watermark* is the resume position after the newest page such that it and every earlier page of the
chain are written; pages written past the watermark are *beyond* it. A commit is:

1. ``sink.commit()`` — flush + fsync; returns the sink position (JSONL byte offset; Parquet: the list
   of closed part files with their checksums),
2. ONE checkpoint transaction holding that position, every chain (prefix, bound, carve level,
   watermark, done) and the IDs written beyond the watermarks, plus counters.

Resume: cut the sink back to the recorded position (everything written after the last commit is
removed), restart each chain from its watermark, and drop listed IDs that the checkpoint says were
already written beyond it. So each record in the output was written by exactly one committed batch,
and every listed record is either before the position or listed again. Namespaces finished are
recorded in the same transactions; only the namespace holding the pen can be partly written at a
commit, and the checkpoint names it, so a resume continues it first. A namespace is recorded as
finished only if the writer wrote every record it was handed for it, and a run ends only with every
namespace it was given finished: otherwise the export fails before committing (a safety net under the
pen's hand-offs, which once lost a namespace). The manifest is written atomically once everything is
committed.

Modules: :mod:`.spec` (what an export is; its checks and output rules), :mod:`.job` (one run: target,
checkpoint, namespaces, manifest, report), :mod:`.run` (the loop above and the commit step),
:mod:`.commits` (watermarks and the beyond-set), :mod:`.page_queue`, :mod:`.pen` (which namespace
writes now), :mod:`.manifest`, :mod:`.report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bulkops.api.protocols import DataPlane, TransportName
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import Param, UsageError
from bulkops.jobs.arguments import ids_argument, renamed
from bulkops.jobs.export.job import run_export
from bulkops.jobs.export.report import ExportProgress, ExportReport
from bulkops.jobs.export.spec import ExportOptions, ExportSpec, build_export
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES
from bulkops.jobs.target import Access, Limits, TargetSpec

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = [
    "ExportOptions",
    "ExportProgress",
    "ExportReport",
    "ExportSpec",
    "build_export",
    "export",
    "run_export",
]


async def export(
    *,
    output: str | os.PathLike[str] | None = None,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    prefix: str | Sequence[str] | None = None,
    ids: Iterable[str] | str | os.PathLike[str] | IdsInput | None = None,
    ids_file: str | os.PathLike[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    include_values: bool = True,
    include_metadata: bool = True,
    overwrite: bool = False,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: Limits = "default",
    transport: TransportName = "auto",
    progress: Callable[[ExportProgress], None] | None = None,
    commit_every: int = 50_000,
    client: Client | None = None,
    dataplane: DataPlane | None = None,
    client_options: Mapping[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    fetch_workers: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
    to: str | os.PathLike[str] | None = None,
    for_bulk_import: bool = False,
    storage_endpoint: str | None = None,
) -> ExportReport:
    """Export records to ``output`` (``*.parquet``: a Parquet directory; anything else: JSONL).

    ``output`` is a local path or an object store's URI (``s3://BUCKET/PREFIX/out.parquet``,
    ``gs://...``; ``file:///...`` is a path): credentials come from the usual environment (``AWS_*``,
    a profile, ``GOOGLE_APPLICATION_CREDENTIALS``...), ``storage_endpoint`` (else
    ``BULKOPS_STORAGE_ENDPOINT`` / ``AWS_ENDPOINT_URL``) names an S3-compatible store. JSONL on an
    object store is written as numbered part objects ``out.jsonl/part-NNNNN.jsonl``. The default
    checkpoint of an object store's export is a local file under ``$XDG_STATE_HOME/bulkops/``.
    ``for_bulk_import``: Parquet in the layout Pinecone's bulk import reads (``output`` is the import
    directory: ``<output>/<namespace>/part-NNNNN.parquet``, namespace directories named literally), and
    whatever that import would reject is refused before anything is written.

    Choose the namespaces with ``namespace`` (default: the default namespace), ``namespaces`` or
    ``all_namespaces`` (a namespace that does not exist is refused unless ``allow_missing``), and the
    records with at most one of ``prefix`` (one or several), ``ids`` (an iterable of IDs),
    ``ids_file`` (a file with one ID per line, the CLI's ``--ids-file``) or ``filter``
    (fetch_by_metadata, API 2025-10); none exports everything; several namespaces are exported
    ``namespace_lanes`` at a time, each one's records kept together in the output. Target the index as
    :func:`bulkops.purge` does. ``checkpoint`` (default ``<output>.checkpoint``) makes the job
    resumable: run the same call again after a crash, or :func:`bulkops.resume` it, and it continues
    where the last commit left off; after success it returns the stored report without sending
    anything. ``commit_every``: records between durable commits (for Parquet, also the rows per part
    file). ``to`` is the old name of ``output``; a path given as ``ids=`` still works, with a
    DeprecationWarning.
    """
    output = renamed("output", output, "to", to)
    if output is None:
        raise UsageError("say where to export to: ", Param("output"), "=<file.jsonl or dir.parquet>")
    access = Access(api_key, client, dataplane, client_options)
    target = TargetSpec.build(
        index=index, host=host, controller_host=controller_host, limits=limits, transport=transport,
        opened=access.opened,
    )  # fmt: skip
    spec, prepared = build_export(
        output=output,
        target=target,
        namespace=namespace,
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        allow_missing=allow_missing,
        prefix=prefix,
        ids=ids_argument(ids, ids_file),
        filter=filter,
        include_values=include_values,
        include_metadata=include_metadata,
        commit_every=commit_every,
        overwrite=overwrite,
        for_bulk_import=for_bulk_import,
        storage_endpoint=storage_endpoint,
    )
    return await run_export(
        spec,
        ids=prepared,
        checkpoint=checkpoint,
        access=access,
        progress=progress,
        clock=clock,
        target_chains=target_chains,
        fetch_workers=fetch_workers,
        namespace_lanes=namespace_lanes,
    )
