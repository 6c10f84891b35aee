"""A bulk import run: check, start (or find the import an interrupted run started), follow, report.

The checkpoint makes a crash harmless. Before the start request it records ``starting`` (the time);
as soon as the answer comes it records ``import_id``. A resumed run with an ``import_id`` follows that
import; one with only ``starting`` (killed between the request and the answer, or the answer lost)
looks for an import of the same URI created since then (``GET /bulk/imports``) and follows it, and
starts one only if there is none. So one job starts one import, whatever happens to the process.
Following is read-only: an interrupted follow (Ctrl-C, kill -9) leaves the import running on
Pinecone's side, and the next run picks it up where it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from bulkops.api.bulk_import import FINISHED_STATUSES, BulkImportClient, ImportModel
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import PartialJobError, UsageError, VerificationError
from bulkops.jobs.bulk_import.checks import check_namespaces_free, inspect_directory
from bulkops.jobs.bulk_import.report import BulkImportProgress, BulkImportReport
from bulkops.jobs.bulk_import.spec import BulkImportSpec
from bulkops.jobs.figures import FiguresMeter
from bulkops.jobs.journal import moved_note, open_journal
from bulkops.jobs.load.checks import IndexShape
from bulkops.jobs.namespaces import existing_namespaces, label
from bulkops.jobs.target import NO_ACCESS, Access, Target, open_target

__all__ = ["run_bulk_import"]

_CLOCK_SKEW = 300.0  # seconds: an import created this long before our recorded start is still ours


async def run_bulk_import(
    spec: BulkImportSpec,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    access: Access = NO_ACCESS,
    progress: Callable[[BulkImportProgress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> BulkImportReport:
    """Run the bulk import ``spec`` (built by :func:`bulkops.jobs.bulk_import.spec.build_bulk_import`);
    the checkpoint defaults to a local file named after the URI."""
    checkpoint_path = Path(checkpoint) if checkpoint is not None else spec.default_checkpoint()
    if not checkpoint_path.parent.exists():
        checkpoint_path.parent.mkdir(parents=True, mode=0o700)
    async with open_target(spec.target, access) as target:
        spec = replace(spec, target=target.spec)
        if target.client is None:
            raise UsageError("a bulk import needs a client (an API key or client=), not a bare data plane")
        imports = await target.client.bulk_imports(spec.target.index, host=target.dataplane.host)
        with open_journal(checkpoint_path, spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return BulkImportReport.from_json(finished, resumed=True)
            meter = FiguresMeter(target, clock)
            import_id: str | None = cp.get("import_id")
            adopted = bool(cp.get("adopted", False))
            if import_id is None:
                tried = cp.get("starting")
                if tried is not None:
                    import_id = await _find_started(imports, spec.uri, float(tried))
                    adopted = import_id is not None
                if import_id is None:
                    planned, promised = await _prepare(target, spec)
                    with cp.step() as step:
                        step.set("starting", clock.wall())
                        step.set("namespaces", planned)
                        step.set("expected", promised)
                    import_id = await imports.start_import(
                        spec.uri, integration_id=spec.options.integration_id, error_mode=spec.options.on_error
                    )
                with cp.step() as step:
                    step.set("import_id", import_id)
                    step.set("adopted", adopted)
            follow = _Follow(imports, import_id, clock, progress, meter)
            model = await follow.until_finished(spec.options.poll_interval)
            status = str(model.get("status"))
            namespaces = list(cp.get("namespaces") or [])
            expected: Mapping[str, int] | None = cp.get("expected")
            counts = await _counts(target, namespaces, expected, status, clock, spec.options.verify_delay)
            report = BulkImportReport(
                uri=spec.uri,
                import_id=import_id,
                status=status,
                records_imported=int(model.get("recordsImported") or 0),
                namespaces=counts,
                expected=expected,
                error=model.get("error"),
                on_error=spec.options.on_error,
                adopted=adopted,
                notes=moved_note(cp, spec) + _notes(adopted, import_id),
                **meter.figures(done=follow.imported_this_run, bound=None, resumed=cp.resumed),
            )
            with cp.step() as step:
                step.set("report", report.to_json())
            _raise_unless_complete(report)
            return report
    raise AssertionError("unreachable")  # pragma: no cover - the context does not swallow exceptions


async def _prepare(target: Target, spec: BulkImportSpec) -> tuple[list[str], dict[str, int] | None]:
    """The checks before the start (see :mod:`.checks`): the namespaces it will create, and the
    records the export's manifest promises in each (None: no manifest, or the layout was not checked)."""
    if not spec.options.check_layout:
        return [], None
    shape = IndexShape.of(await target.describe())
    directory = await anyio.to_thread.run_sync(
        partial(inspect_directory, spec.uri, storage_endpoint=spec.options.storage_endpoint, shape=shape)
    )
    await check_namespaces_free(target.dataplane, directory.namespaces, index=spec.target.describe())
    return directory.namespaces, directory.expected()


async def _find_started(imports: BulkImportClient, uri: str, tried_at: float) -> str | None:
    """The import of ``uri`` created since ``tried_at`` (an interrupted run's), if there is one."""
    found: list[tuple[float, str]] = []
    async for item in imports.iter_imports():
        created = _timestamp(item.get("createdAt"))
        if (
            item.get("uri") == uri
            and item.get("id")
            and (created is None or created >= tried_at - _CLOCK_SKEW)
        ):
            found.append((created or 0.0, str(item["id"])))
    return max(found)[1] if found else None


def _timestamp(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class _Follow:
    """Looks at one import until it finishes, reporting progress at every look."""

    def __init__(
        self,
        imports: BulkImportClient,
        import_id: str,
        clock: Clock,
        progress: Callable[[BulkImportProgress], None] | None,
        meter: FiguresMeter,
    ) -> None:
        self._imports = imports
        self._id = import_id
        self._clock = clock
        self._progress = progress
        self._meter = meter
        self._first: int | None = None
        self.imported_this_run = 0

    async def until_finished(self, poll_interval: float) -> ImportModel:
        while True:
            model = await self._imports.describe_import(self._id)
            records = int(model.get("recordsImported") or 0)
            if self._first is None:
                self._first = records
            self.imported_this_run = max(0, records - self._first)
            status = str(model.get("status") or "Pending")
            if self._progress is not None:
                percent = float(model.get("percentComplete") or 0.0)
                self._progress(BulkImportProgress(self._id, status, percent, records, self._meter.elapsed()))
            if status in FINISHED_STATUSES:
                return model
            await self._clock.sleep(poll_interval)


async def _counts(
    target: Target,
    namespaces: list[str],
    expected: Mapping[str, int] | None,
    status: str,
    clock: Clock,
    verify_delay: float,
) -> dict[str, int]:
    """Records per target namespace as the index counts them; waits up to ``verify_delay`` for the
    counts to reach the manifest's (an index's counts may lag its writes)."""
    if status != "Completed" or not namespaces:
        return {}
    deadline = clock.now() + verify_delay
    while True:
        existing = await existing_namespaces(target.dataplane)
        counts = {ns: existing.get(ns, 0) for ns in namespaces}
        short = expected is not None and any(counts.get(ns, 0) < n for ns, n in expected.items())
        if not short or clock.now() >= deadline:
            return counts
        await clock.sleep(min(0.5, max(0.0, deadline - clock.now())))


def _notes(adopted: bool, import_id: str) -> tuple[str, ...]:
    if not adopted:
        return ()
    return (f"import {import_id} had been started by an interrupted run; this run followed it",)


def _raise_unless_complete(report: BulkImportReport) -> None:
    if report.status != "Completed":
        why = f": {report.error}" if report.error else ""
        raise PartialJobError(
            f"bulk import {report.import_id} of {report.uri} ended {report.status}{why}. See "
            f"'bulkops imports describe {report.import_id}'; the index may hold records it wrote",
            report=report,
        )
    missing = report.missing
    if missing:
        assert report.expected is not None
        short = [ns for ns, n in report.expected.items() if report.namespaces.get(ns, 0) < n]
        raise VerificationError(
            f"bulk import {report.import_id} completed, but {missing:,} records of the export are not in "
            f"namespace(s) {', '.join(repr(label(ns)) for ns in short[:5])} (errorMode "
            f"{report.on_error!r} skips records Pinecone cannot import, or the counts still lag)",
            report=report,
        )
