"""Import (``bulkops.load``): upsert an export (JSONL or Parquet) back into an index, resumable.

Records are read in order, checked against the index (:mod:`.checks`), and cut into upsert batches of
at most 1000 records and 2 MB (the documented upsert limits), per namespace; several batches are
upserted at once (Little's law on the upsert byte budget and the measured latency), under the client's
scoped limits.

Resumable: every input record has an *ordinal*. Batches finish out of order; the *watermark* is the
first ordinal whose batch is not finished. The checkpoint stores the reader position of the watermark,
the counters, and the rejections before it, in one transaction. Resume re-reads from the watermark;
upserting a record twice writes the same values, so replaying the batches that were in flight is
harmless.

Rejections: a record the checks find unfit, or that the server refuses with 400 (its batch is split in
half until the refused records are isolated), is reported with its file location (line of a JSONL
file, part and row of a Parquet export) and the reason; with ``on_error="skip"`` the rest goes on, with
``"stop"`` nothing after it is sent and the job raises :class:`~bulkops.errors.RecordRejectedError`
(whatever was upserted before stays).

Modules: :mod:`.spec`, :mod:`.job` (one run), :mod:`.checks`, :mod:`.batches`, :mod:`.run` (workers,
halving, commit), :mod:`.watermark`, :mod:`.report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bulkops.api.protocols import DataPlane, TransportName
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import Param, UsageError
from bulkops.jobs.arguments import renamed
from bulkops.jobs.load.job import run_load
from bulkops.jobs.load.report import LoadProgress, LoadReport, Rejection
from bulkops.jobs.load.spec import LoadOptions, LoadSpec, OnError, build_load
from bulkops.jobs.target import Access, Limits, TargetSpec
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = [
    "LoadOptions",
    "LoadProgress",
    "LoadReport",
    "LoadSpec",
    "Rejection",
    "build_load",
    "load",
    "run_load",
]


async def load(
    *,
    input: str | os.PathLike[str] | None = None,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    on_error: OnError = "stop",
    batch_size: int = MAX_IDS_PER_REQUEST,
    max_batch_bytes: int = MAX_UPSERT_BYTES,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: Limits = "default",
    transport: TransportName = "auto",
    progress: Callable[[LoadProgress], None] | None = None,
    client: Client | None = None,
    dataplane: DataPlane | None = None,
    client_options: Mapping[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    workers: int | None = None,
    commit_every: int = 10_000,
    from_: str | os.PathLike[str] | None = None,
    storage_endpoint: str | None = None,
) -> LoadReport:
    """Upsert the records of an export (``*.jsonl`` file or ``*.parquet`` directory) into an index.

    ``input``: the export (``from_`` is its old name), a local path or an object store's URI (a finished
    bulkops export there: what its manifest lists is read, nothing else; ``storage_endpoint`` as for
    :func:`bulkops.export`). ``namespace``: put every record there; None
    (default) keeps the namespaces the export recorded (from its manifest; the default namespace for a
    JSONL file without one). Target the index as :func:`bulkops.purge` does. ``checkpoint`` (default
    ``<input>.load-checkpoint``) makes the job resumable; run the same call again after a crash, or
    :func:`bulkops.resume` it. ``commit_every``: input records between checkpoint commits (also every
    2 s). ``on_error``: ``"stop"`` raises :class:`~bulkops.errors.RecordRejectedError` at the first
    record the index refuses, having sent nothing after it; ``"skip"`` reports it in
    ``LoadReport.rejections`` and goes on.
    """
    source = renamed("input", input, "from_", from_)
    if source is None:
        raise UsageError("say what to import: ", Param("input"), "=<an export: file.jsonl or dir.parquet>")
    access = Access(api_key, client, dataplane, client_options)
    target = TargetSpec.build(
        index=index, host=host, controller_host=controller_host, limits=limits, transport=transport,
        opened=access.opened,
    )  # fmt: skip
    spec = build_load(
        input=source,
        target=target,
        namespace=namespace,
        on_error=on_error,
        batch_size=batch_size,
        max_batch_bytes=max_batch_bytes,
        commit_every=commit_every,
        storage_endpoint=storage_endpoint,
    )
    return await run_load(
        spec,
        checkpoint=checkpoint,
        access=access,
        progress=progress,
        clock=clock,
        workers=workers,
    )
