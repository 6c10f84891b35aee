"""An import run: open the index and the checkpoint, check the export against the index, upsert, report."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import anyio

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import Param, RecordRejectedError
from bulkops.jobs.figures import FiguresMeter
from bulkops.jobs.groups import raises_single_errors
from bulkops.jobs.journal import moved_note, open_journal
from bulkops.jobs.load.checks import IndexShape, check_manifest, record_problem
from bulkops.jobs.load.report import LoadProgress, LoadReport
from bulkops.jobs.load.run import LoadRun, upsert_all
from bulkops.jobs.load.spec import LoadSpec
from bulkops.jobs.load.watermark import OrdinalWatermark
from bulkops.jobs.target import NO_ACCESS, Access, open_target
from bulkops.sinks.formats import open_reader

__all__ = ["run_load"]


@raises_single_errors
async def run_load(
    spec: LoadSpec,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    access: Access = NO_ACCESS,
    progress: Callable[[LoadProgress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    workers: int | None = None,
) -> LoadReport:
    """Run the import ``spec`` (built by :func:`bulkops.jobs.load.spec.build_load`); the checkpoint
    defaults to ``<input>.load-checkpoint``."""
    reader, manifest = await anyio.to_thread.run_sync(
        partial(open_reader, spec.input, storage_endpoint=spec.options.storage_endpoint)
    )
    checkpoint_path = Path(checkpoint) if checkpoint is not None else spec.default_checkpoint()
    if not checkpoint_path.parent.exists():  # e.g. the state directory, for an object store's input
        checkpoint_path.parent.mkdir(parents=True, mode=0o700)
    async with open_target(spec.target, access) as target:
        spec = replace(spec, target=target.spec)
        # Before the first upsert: records the index would refuse are found here, not by the server.
        shape = IndexShape.of(await target.describe())
        if manifest is not None:
            check_manifest(manifest, shape, spec.source)
        with open_journal(checkpoint_path, spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return LoadReport.from_json(finished, resumed=True)
            meter = FiguresMeter(target, clock)
            options = spec.options
            run = LoadRun(
                target.dataplane, cp, target.profile, options, clock=clock, progress=progress, workers=workers
            )
            mark = OrdinalWatermark(int(cp.get("watermark", 0)), cp.get("resume"))
            await upsert_all(
                run,
                mark,
                reader.items(mark.resume),
                spec.namespace,
                batch_size=options.batch_size,
                max_bytes=options.max_batch_bytes,
                problem=partial(record_problem, shape=shape),
            )
            stop = run.stop_at
            after = [p for p in run.pieces if stop is not None and p.first > stop.ordinal]
            report = LoadReport(
                source=spec.source,
                upserted=run.upserted + run.upserted_unconfirmed,
                rejected=run.rejected + run.rejected_unconfirmed,
                rejections=tuple(run.rejections),
                namespaces=dict(run.namespaces),
                stopped_at=stop,
                in_flight_after_stop=tuple(p.where for p in after),
                extra={"manifest_total": manifest.total if manifest else None},
                notes=moved_note(cp, spec),
                **meter.figures(done=run.upserted_this_run, bound=None, resumed=cp.resumed),
            )
            if stop is not None:
                went_after = sum(p.count for p in after)
                before = report.upserted - went_after
                which = f"record {stop.id!r}" if stop.id is not None else "the record"
                beyond = (
                    "nothing after it was sent"
                    if not after
                    else f"{went_after} records after it were already on their way and went in too "
                    f"({'; '.join(report.in_flight_after_stop)})"
                )
                raise RecordRejectedError(
                    f"{stop.location}: {which} was rejected: {stop.reason}. The {before} records before it "
                    f"were imported; {beyond}. Fix the record and run again (the checkpoint resumes at "
                    "it), or pass ",
                    Param("on_error", "skip"),
                    " to import the rest",
                    report=report,
                    ordinal=stop.ordinal,
                    location=stop.location,
                    record_id=stop.id,
                    reason=stop.reason,
                )
            with cp.step() as step:
                step.set("report", report.to_json())
            return report
    raise AssertionError("unreachable")  # pragma: no cover - the context does not swallow exceptions
