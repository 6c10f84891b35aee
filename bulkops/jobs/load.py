"""Import (``bulkops.load``): upsert an export (JSONL or Parquet) back into an index, resumable.

Records are read in order and cut into upsert batches of at most 1000 records and 2 MB (the documented
upsert limits), per namespace; several batches are upserted at once (Little's law on the upsert byte
budget and the measured latency), under the client's scoped limits.

Resumable: every input record has an *ordinal*. Batches finish out of order; the *watermark* is the
first ordinal whose batch is not finished. The checkpoint stores the reader position of the watermark,
the counters, and the rejections before it, in one transaction. Resume re-reads from the watermark;
upserting a record twice writes the same values, so replaying the batches that were in flight is
harmless.

Rejections: a batch the server refuses with 400 (e.g. a vector of the wrong dimension) is split in
half and retried until the records it refuses are isolated. Each is reported with its file location
(line of a JSONL file, part and row of a Parquet export) and the server's reason; with
``on_error="skip"`` the rest goes on, with ``"stop"`` the job stops and raises
:class:`RecordRejectedError` (whatever was upserted before stays).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import BulkopsError, UsageError
from bulkops.jobs.load_report import (
    LoadProgress,
    LoadReport,
    RecordRejectedError,
    Rejection,
    report_from_json,
    report_to_json,
)
from bulkops.jobs.load_run import LoadRun, OnError, run_load
from bulkops.jobs.load_watermark import OrdinalWatermark
from bulkops.jobs.session import (
    checkpoint_path_for,
    open_dataplane,
    run_fields,
)
from bulkops.limits.profiles import Profile
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES
from bulkops.sinks.formats import open_reader
from bulkops.sinks.manifest import Manifest

__all__ = ["LoadProgress", "LoadReport", "RecordRejectedError", "Rejection", "load"]


async def load(
    *,
    from_: str | Path,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    checkpoint: str | Path | None = None,
    on_error: OnError = "stop",
    batch_size: int = MAX_IDS_PER_REQUEST,
    max_batch_bytes: int = MAX_UPSERT_BYTES,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: str | Profile | None = "default",
    progress: Callable[[LoadProgress], None] | None = None,
    dataplane: DataPlane | None = None,
    clock: Clock = SYSTEM_CLOCK,
    workers: int | None = None,
    commit_every: int = 10_000,
    client_options: Mapping[str, Any] | None = None,
) -> LoadReport:
    """Upsert the records of an export (``*.jsonl`` file or ``*.parquet`` directory) into an index.

    ``namespace``: put every record there; None (default) keeps the namespaces the export recorded
    (from its manifest; the default namespace for a JSONL file without one). ``checkpoint`` (default
    ``<from_>.load-checkpoint``) makes the job resumable; run the same call again after a crash.
    ``commit_every``: input records between checkpoint commits (also every 2 s).
    ``on_error``: ``"stop"`` raises :class:`RecordRejectedError` at the first record the server
    refuses; ``"skip"`` reports it in ``LoadReport.rejections`` and goes on.
    """
    source, checkpoint_path = _validate(from_, checkpoint, on_error, batch_size, max_batch_bytes)
    reader, manifest = open_reader(source)
    async with open_dataplane(
        index=index,
        host=host,
        dataplane=dataplane,
        api_key=api_key,
        controller_host=controller_host,
        limits=limits,
        client_options=client_options,
    ) as (dp, profile, client):
        spec = {
            "from": str(source),
            "index": index,
            "host": dp.host,
            "namespace": namespace,
            "batch_size": batch_size,
            "max_batch_bytes": max_batch_bytes,
        }
        with Checkpoint.open(checkpoint_path, kind="import", spec=spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return report_from_json(finished)
            if manifest is not None:
                await _check_target(dp, manifest, source)
            run = LoadRun(
                dp,
                cp,
                profile,
                on_error=on_error,
                clock=clock,
                progress=progress,
                workers=workers,
                commit_every=max(1, commit_every),
            )
            start = int(cp.get("watermark", 0))
            mark = OrdinalWatermark(start, cp.get("resume"))
            items = reader.items(mark.resume)
            await run_load(run, mark, items, namespace, batch_size=batch_size, max_bytes=max_batch_bytes)
            elapsed = clock.now() - run.started
            report = LoadReport(
                source=source,
                upserted=run.upserted + run.upserted_unconfirmed,
                rejected=run.rejected + run.rejected_unconfirmed,
                rejections=tuple(run.rejections),
                namespaces=dict(run.namespaces),
                **run_fields(client, elapsed=elapsed, records=run.upserted_this_run),
                resumed=cp.resumed,
                stopped=run.stop_at is not None,
                extra={"manifest_total": manifest.total if manifest else None},
            )
            if run.stop_at is not None:
                raise RecordRejectedError(run.stop_at, report)
            with cp.step() as step:
                step.set("report", report_to_json(report))
            return report


async def _check_target(dp: DataPlane, manifest: Manifest, source: Path) -> None:
    """Refuse an import every record of which the index would reject (nothing is sent but a stats call)."""
    if not manifest.include_values and manifest.index.get("vector_type", "dense") == "dense":
        raise UsageError(
            f"{source} was exported without values (include_values=False); it cannot be upserted"
        )
    want = manifest.index.get("dimension")
    try:
        have = (await dp.describe_index_stats()).get("dimension")
    except BulkopsError:
        return  # the upserts will tell
    if want and have and int(want) != int(have):
        raise UsageError(
            f"{source} holds vectors of dimension {want} but the target index has dimension {have}; "
            "import into an index of the same dimension"
        )


def _validate(
    from_: str | Path, checkpoint: str | Path | None, on_error: str, batch_size: int, max_batch_bytes: int
) -> tuple[Path, Path]:
    source = Path(from_).absolute()
    if on_error not in ("stop", "skip"):
        raise UsageError(f"on_error must be 'stop' or 'skip', not {on_error!r}")
    if not 1 <= batch_size <= MAX_IDS_PER_REQUEST:
        raise UsageError(f"batch_size must be between 1 and {MAX_IDS_PER_REQUEST} (Pinecone's upsert limit)")
    if not 4096 <= max_batch_bytes <= MAX_UPSERT_BYTES:
        raise UsageError(
            f"max_batch_bytes must be between 4096 and {MAX_UPSERT_BYTES} (2 MB, Pinecone's limit)"
        )
    if not source.exists():
        raise UsageError(f"{source} does not exist; give a JSONL file or a Parquet export directory")
    checkpoint_path = checkpoint_path_for(source, checkpoint, ".load-checkpoint")
    return source, checkpoint_path
