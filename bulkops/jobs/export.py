"""Export: stream records out of an index into JSONL or Parquet, exactly once, resumable.

Flow per namespace (one after another, so each namespace's records are contiguous in the output)::

    ID source ──pages──▶ page queue ──batches ≤1000 IDs──▶ fetch workers ──records──▶ writer ──▶ sink
    (list chains with prefix fan-out,   (a free worker takes what     (in flight by Little's  (commits)
     an ID file, or fetch_by_metadata)    is queued, up to 1000 IDs)    law on fetch rate)

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
recorded in the same transactions; the manifest is written atomically once everything is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.jobs.export_manifest import IndexInfo, build_manifest, describe_source
from bulkops.jobs.export_report import ExportProgress, ExportReport, report_from_json, report_to_json
from bulkops.jobs.export_run import ExportRun
from bulkops.jobs.export_spec import clear_output, refuse_existing_output, validate_export
from bulkops.jobs.session import open_dataplane, run_fields
from bulkops.jobs.task_groups import single_errors
from bulkops.limits.profiles import Profile
from bulkops.sinks.formats import open_writer
from bulkops.sinks.manifest import manifest_path, write_manifest

__all__ = ["ExportProgress", "ExportReport", "IndexInfo", "export", "open_dataplane", "single_errors"]


async def export(
    *,
    to: str | Path,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    prefix: str | None = None,
    ids: Iterable[str] | str | Path | None = None,
    filter: Mapping[str, Any] | None = None,
    checkpoint: str | Path | None = None,
    include_values: bool = True,
    include_metadata: bool = True,
    overwrite: bool = False,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: str | Profile | None = "default",
    progress: Callable[[ExportProgress], None] | None = None,
    commit_every: int = 50_000,
    dataplane: DataPlane | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    fetch_workers: int | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> ExportReport:
    """Export records to ``to`` (``*.parquet``: a Parquet directory; anything else: one JSONL file).

    Choose the namespaces with ``namespace`` (default: the default namespace), ``namespaces`` or
    ``all_namespaces``, and the records with at most one of ``prefix``, ``ids`` (an iterable of IDs,
    or the path of a file with one ID per line) or ``filter`` (fetch_by_metadata, API 2025-10); none
    exports everything. ``checkpoint`` (default ``<to>.checkpoint``) makes the job resumable: run the
    same call again after a crash and it continues where the last commit left off; after success it
    returns the stored report without sending anything. ``commit_every``: records between durable
    commits (for Parquet, also the rows per part file).
    """
    spec, output, fmt, checkpoint_path = validate_export(
        to=to,
        namespace=namespace,
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        prefix=prefix,
        ids=ids,
        filter=filter,
        checkpoint=checkpoint,
        include_values=include_values,
        include_metadata=include_metadata,
        commit_every=commit_every,
    )

    async with open_dataplane(
        index=index,
        host=host,
        dataplane=dataplane,
        api_key=api_key,
        controller_host=controller_host,
        limits=limits,
        client_options=client_options,
    ) as (dp, profile, client):
        job_spec = {
            "index": index,
            "host": dp.host,
            "namespaces": spec.namespaces,
            "all_namespaces": all_namespaces,
            "source": spec.kind,
            "prefix": prefix,
            "ids": {"source": spec.ids.source, "sha256": spec.ids.digest} if spec.ids else None,
            "filter": spec.filter,
            "to": str(output),
            "format": fmt,
            "include_values": include_values,
            "include_metadata": include_metadata,
        }
        # Refuse to clobber an existing output before a checkpoint file is even created: a checkpoint
        # left by a refused run must not make the next run look like a resume.
        refuse_existing_output(output, checkpoint_path, overwrite=overwrite)
        with Checkpoint.open(checkpoint_path, kind="export", spec=job_spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return report_from_json(finished, resumed=True)
            if cp.get("namespaces") is None:  # the job never started writing: a fresh start
                clear_output(output, checkpoint_path, overwrite=overwrite)
            info_json = cp.get("index")
            if info_json is None:
                info = await describe_source(dp, name=index, client=client)
                info_json = info.to_json()
            names = cp.get("namespaces")
            if names is None:
                if spec.namespaces is not None:
                    names = spec.namespaces
                else:
                    names = [str(ns["name"]) for ns in await dp.list_namespaces()]
                with cp.step() as step:
                    step.set("namespaces", names)
                    step.set("index", info_json)
            sink = open_writer(
                output, vector_type=str(info_json.get("vector_type") or "dense"), commit_records=commit_every
            )
            try:
                await anyio.to_thread.run_sync(sink.truncate_to, cp.get("sink"))
                run = ExportRun(
                    dp,
                    spec,
                    sink,
                    cp,
                    profile,
                    clock=clock,
                    progress=progress,
                    target_chains=target_chains,
                    fetch_workers=fetch_workers,
                )
                done = set(cp.get("namespaces_done", []))
                for ns in names:
                    if ns in done:
                        continue
                    if spec.kind == "filter":
                        await run.export_by_filter(ns)
                    else:
                        await run.export_by_ids(ns)
                elapsed = clock.now() - run.started
            finally:
                sink.close()
            manifest = build_manifest(sink, fmt, info_json, names, spec, clock)
            write_manifest(output, manifest)
            report = ExportReport(
                output=output,
                manifest=manifest_path(output),
                format=fmt,
                exported=manifest.total,
                namespaces={ns.name: ns.count for ns in manifest.namespaces},
                missing=run.missing,
                **run_fields(client, elapsed=elapsed, records=run.exported_this_run),
                bound=run.bound(),
                resumed=cp.resumed,
                commits=run.commits,
                index=info_json,
            )
            with cp.step() as step:
                step.set("report", report_to_json(report))
            return report
