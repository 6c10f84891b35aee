"""An export run: open the index and the checkpoint, export each namespace, write the manifest and report."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.jobs.export.bulk_layout import check_bulk_import_namespaces, check_bulk_import_size
from bulkops.jobs.export.manifest import build_manifest
from bulkops.jobs.export.report import ExportProgress, ExportReport
from bulkops.jobs.export.run import ExportRun
from bulkops.jobs.export.spec import ExportSpec, clear_output, refuse_existing_output
from bulkops.jobs.figures import FiguresMeter
from bulkops.jobs.groups import raises_single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.journal import moved_note, open_journal
from bulkops.jobs.namespaces import NAMESPACE_LANES, label, resolve_namespace_sizes
from bulkops.jobs.selection import ids_for
from bulkops.jobs.target import NO_ACCESS, Access, IndexInfo, Target, open_target
from bulkops.sinks.formats import open_writer
from bulkops.sinks.manifest import write_manifest, write_unfinished_marker

__all__ = ["run_export"]


@raises_single_errors
async def run_export(
    spec: ExportSpec,
    *,
    ids: IdsInput | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    access: Access = NO_ACCESS,
    progress: Callable[[ExportProgress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    fetch_workers: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
) -> ExportReport:
    """Run the export ``spec`` (built by :func:`bulkops.jobs.export.spec.build_export`); the checkpoint
    defaults to ``<output>.checkpoint``; ``namespace_lanes``: namespaces exported at once."""
    prepared = ids_for(spec.selection, ids)
    checkpoint_path = Path(checkpoint) if checkpoint is not None else spec.default_checkpoint()
    location = await anyio.to_thread.run_sync(spec.location)
    # Refuse to clobber an existing output before a checkpoint file is even created: a checkpoint
    # left by a refused run must not make the next run look like a resume.
    await anyio.to_thread.run_sync(refuse_existing_output, spec, checkpoint_path, location)
    if not checkpoint_path.parent.exists():  # e.g. the state directory, for an object store's export
        checkpoint_path.parent.mkdir(parents=True, mode=0o700)
    async with open_target(spec.target, access) as target:
        spec = replace(spec, target=target.spec)
        with open_journal(checkpoint_path, spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return ExportReport.from_json(finished, resumed=True)
            meter = FiguresMeter(target, clock)
            names: list[str] | None = cp.get("namespaces")
            sizes: dict[str, int] | None = None  # records per namespace: a fresh start knows them
            if names is None:  # the job never started writing: a fresh start
                sizes, described = await _namespaces_and_index(target, spec)
                names = list(sizes)
                if spec.for_bulk_import:
                    await _check_bulk_import(target.dataplane, spec, names)
                await anyio.to_thread.run_sync(clear_output, spec, checkpoint_path, location)
                info = described.to_json()
                with cp.step() as step:
                    step.set("namespaces", names)
                    step.set("index", info)
            info_json: Mapping[str, Any] = cp.get("index")
            # Before any part: readers refuse this export until the real manifest replaces the marker,
            # so a part uploaded but never committed (a crash in between) is never read as data.
            await anyio.to_thread.run_sync(
                partial(
                    write_unfinished_marker,
                    location,
                    output_format=spec.format,
                    checkpoint=str(checkpoint_path.absolute()),
                )
            )
            sink = open_writer(
                location,
                output_format=spec.format,
                vector_type=str(info_json.get("vector_type") or "dense"),
                commit_records=spec.options.commit_every,
            )
            try:
                await anyio.to_thread.run_sync(sink.truncate_to, cp.get("sink"))
                run = ExportRun(
                    target.dataplane,
                    spec,
                    sink,
                    cp,
                    target.profile,
                    ids=prepared,
                    clock=clock,
                    progress=progress,
                    target_chains=target_chains,
                    fetch_workers=fetch_workers,
                    lanes=namespace_lanes,
                    sizes=sizes,
                )
                done = finished_namespaces(cp, names)
                await run.run(names, done, partly_written(cp, names, done))
            finally:
                sink.close()
            manifest = build_manifest(sink, info_json, names, spec, clock)
            await anyio.to_thread.run_sync(write_manifest, location, manifest)
            report = ExportReport(
                output=spec.output_path if location.is_local else str(location),
                manifest=Path(location.manifest) if location.is_local else location.manifest,
                format=sink.format,
                exported=manifest.total,
                namespaces={ns.name: ns.count for ns in manifest.namespaces},
                missing=run.missing,
                commits=run.commits,
                index=info_json,
                notes=moved_note(cp, spec),
                **meter.figures(
                    done=run.exported_this_run,
                    bound=run.bound(records=manifest.total, namespaces=len(names)),
                    resumed=cp.resumed,
                ),
            )
            with cp.step() as step:
                step.set("report", report.to_json())
            return report
    raise AssertionError("unreachable")  # pragma: no cover - the context does not swallow exceptions


_NO_PEN = object()


async def _check_bulk_import(dp: DataPlane, spec: ExportSpec, names: Sequence[str]) -> None:
    """What Pinecone's import would refuse, known once the namespaces are: their names and number, and
    (exporting whole namespaces) the records and files one import takes."""
    check_bulk_import_namespaces(names)
    if spec.selection.kind != "everything":
        return
    stats = await dp.describe_index_stats()
    spaces = stats.get("namespaces") or {}
    records = sum(int((spaces.get(label(ns)) or spaces.get(ns) or {}).get("vectorCount", 0)) for ns in names)
    check_bulk_import_size(records, len(names), spec.options.commit_every)


def finished_namespaces(cp: Checkpoint, names: Sequence[str]) -> set[str]:
    """Namespaces whose export is complete and committed (``namespaces_done`` is the older layout's list)."""
    done = set(cp.get("namespaces_done", []))
    done.update(ns for ns in names if cp.get(f"done:{ns}", False))
    return done


def partly_written(cp: Checkpoint, names: Sequence[str], done: set[str]) -> str | None:
    """The namespace partly written at the last commit (it must go on first, so its records stay
    together); an older checkpoint wrote namespaces in order: the first unfinished one with chains."""
    holder = cp.get("pen", _NO_PEN)
    if holder is not _NO_PEN:
        return holder if isinstance(holder, str) else None
    return next((ns for ns in names if ns not in done and cp.chains(ns)), None)


async def _namespaces_and_index(target: Target, spec: ExportSpec) -> tuple[dict[str, int], IndexInfo]:
    """The namespaces to export (with their record counts) and the index's description, read at once:
    one round trip less before the first page (describing is best effort and never raises)."""
    described: list[IndexInfo] = []

    async def describe() -> None:
        described.append(await target.describe())

    async with anyio.create_task_group() as tg:
        tg.start_soon(describe)
        sizes = await resolve_namespace_sizes(target.dataplane, spec.namespaces, index=spec.target.describe())
    return sizes, described[0]
