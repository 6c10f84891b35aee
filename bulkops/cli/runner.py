"""Run one bulk job for the CLI: the client, the progress bar, Ctrl-C, the report, the exit code.

``purge``, ``export``, ``load`` (alias ``import``) and ``resume`` all end up here, so they behave the
same way:

* every job has a checkpoint: ``--checkpoint``, or by default ``<output>.checkpoint`` for an export
  (the library's default: the checkpoint belongs with the file it describes) and a new file under
  ``$XDG_STATE_HOME/bulkops/`` for a purge or an import (one input file is often imported into several
  indexes; a checkpoint beside it would tie it to the first). The checkpoint holds the job's spec, so
  ``bulkops resume CHECKPOINT`` needs nothing else;
* Ctrl-C (or SIGTERM, as ``docker stop`` sends it) cancels the job: the library flushes its checkpoint
  in a shielded scope, then the CLI prints the exact command that resumes it and exits with 130 (143);
* progress: a bar on a terminal, else a line every ``--stats-interval`` seconds (:mod:`.progress`);
* a purge whose verification finds leftovers, or an import with rejected records, exits with 3, after
  printing what the job did.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bulkops.cli.common import open_client
from bulkops.cli.context import Settings, run_async
from bulkops.cli.progress import JobProgress
from bulkops.cli.signals import Terminated
from bulkops.errors import EXIT_CODES, PartialJobError
from bulkops.jobs.bulk_import.report import BulkImportProgress
from bulkops.jobs.copy.report import CopyProgress
from bulkops.jobs.copy.spec import CopySpec
from bulkops.jobs.export.report import ExportProgress
from bulkops.jobs.export.spec import ExportSpec
from bulkops.jobs.figures import RunFigures
from bulkops.jobs.journal import JobSpec
from bulkops.jobs.load.report import LoadProgress
from bulkops.jobs.load.spec import LoadSpec
from bulkops.jobs.namespaces import label, summarize
from bulkops.jobs.purge.report import PurgeProgress
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.target import Access, open_target
from bulkops.sinks.manifest import read_manifest
from bulkops.storage import make_private_dir

if TYPE_CHECKING:
    from bulkops.api import Client, RequestEvent

__all__ = [
    "Job",
    "default_checkpoint_path",
    "progress_for",
    "resume_command",
    "run_job",
    "show_report",
    "state_dir",
    "totals",
]

Start = Callable[["Client", JobProgress], Awaitable[RunFigures]]
TotalLater = Callable[["Client"], Awaitable["int | None"]]


@dataclass
class Job:
    """One job as the CLI runs it: what to call once the client is open, and where its checkpoint is."""

    kind: str  # purge | export | load | copy
    label: str  # shown on the progress bar
    checkpoint: Path | None  # None: a dry run, which keeps no checkpoint
    start: Start
    total: int | None = None  # records the job will handle, when known before it starts
    total_later: TotalLater | None = None  # cheap to learn once connected


def totals(spec: JobSpec) -> tuple[int | None, TotalLater | None]:
    """What progress needs of a job's size: the records it will handle when its spec says (IDs ×
    namespaces, an import's manifest), or how to learn it once connected (a whole-namespace export:
    one stats call). A fresh job and its resume get the same figures."""
    if isinstance(spec, LoadSpec):
        manifest = read_manifest(spec.input, storage_endpoint=spec.options.storage_endpoint)
        return (manifest.total if manifest else None), None
    if isinstance(spec, PurgeSpec | ExportSpec | CopySpec) and spec.selection.ids is not None:
        names = spec.namespaces.names
        return (spec.selection.ids.count * len(names) if names else None), None
    if isinstance(spec, ExportSpec) and spec.selection.kind == "everything":

        async def later(client: Client) -> int | None:
            return await _export_total(spec, client)

        return None, later
    return None, None


async def _export_total(spec: ExportSpec, client: Client) -> int | None:
    """Records a whole-namespace export will write: one stats call."""
    async with open_target(spec.target, Access(client=client)) as target:
        stats = await target.dataplane.describe_index_stats()
    if spec.namespaces.names is None:
        return int(stats.get("totalVectorCount") or 0)
    spaces = stats.get("namespaces") or {}
    entries = [spaces.get(ns) or spaces.get(label(ns)) or {} for ns in spec.namespaces.names]
    return sum(int(entry.get("vectorCount", 0)) for entry in entries) or None


def state_dir() -> Path:
    """Where purge and load keep their checkpoints by default: ``$XDG_STATE_HOME/bulkops``."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "bulkops"


def default_checkpoint_path(kind: str) -> Path:
    """A new checkpoint under the state directory (purge and load, when ``--checkpoint`` is not given)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return state_dir() / f"{kind}-{stamp}-{os.getpid()}.checkpoint"


def progress_for(view: JobProgress) -> Callable[[Any], None]:
    """The library progress callback that moves ``view``, for any job's progress type."""

    def update(event: Any) -> None:
        if isinstance(event, PurgeProgress):
            view.update(done=event.deleted, phase=event.phase)
        elif isinstance(event, ExportProgress):
            view.update(done=event.exported, namespace=label(event.namespace))
        elif isinstance(event, LoadProgress):
            view.update(done=event.upserted)
        elif isinstance(event, CopyProgress):
            view.update(done=event.copied, namespace=label(event.namespace))
        elif isinstance(event, BulkImportProgress):
            view.update(done=event.records_imported, phase=f"{event.status} {event.percent:.0f}%")

    return update


def resume_command(settings: Settings, checkpoint: Path) -> str:
    """The copy-pasteable command that resumes ``checkpoint`` (the key never appears in it)."""
    from bulkops.api.config import DEFAULT_CONTROLLER_HOST
    from bulkops.jobs import read_spec

    target = read_spec(checkpoint).target
    args: list[str] = []
    controller = settings.controller_host or target.controller_host
    if controller and controller.rstrip("/") != DEFAULT_CONTROLLER_HOST:
        args += ["--controller-host", controller]
    limits = settings.limits_spec() or target.limits
    if limits and limits != "default":
        args += ["--limits", limits]
    return shlex.join(["bulkops", *args, "resume", str(checkpoint)])


def run_job(settings: Settings, job: Job) -> None:
    """Run the job and print its report; exit 3 when partial, 130 on Ctrl-C and 143 on SIGTERM (the
    resume command printed)."""
    out = settings.out
    if job.checkpoint is not None:
        make_private_dir(job.checkpoint.parent)
    view = JobProgress(out, job.label, total=job.total, interval=settings.stats_interval)
    _quiet_garbage_collector()
    try:
        with view:
            report = run_async(lambda: _execute(settings, job, view))
    except (KeyboardInterrupt, Terminated) as stop:
        _interrupted(settings, job, _stop_kind(stop))
        raise click.exceptions.Exit(EXIT_CODES[_stop_kind(stop)]) from None
    except PartialJobError as exc:  # what the job did, then the one error line (exit 3)
        if isinstance(exc.report, RunFigures):
            show_report(settings, job, exc.report, error=out.error_document(exc) if out.json_mode else None)
        raise
    show_report(settings, job, report)
    rejected = getattr(report, "rejected", 0)
    if rejected:
        out.warn(f"{rejected} records were rejected (see the report)")
        raise click.exceptions.Exit(EXIT_CODES["partial"])


_GC_THRESHOLDS = (50_000, 20, 20)


def _quiet_garbage_collector() -> None:
    """Stop the cycle collector rescanning what the job cannot free, and run it less often.

    A job allocates a few dicts per record (metadata) and no cycles on its hot path, yet with Python's
    defaults (a collection every 700 new containers, walking the imported modules' objects too) the
    collector took ~4 ms of CPU per 1,000 records of a 1536-dimension export (57 → 53 ms/1k measured).
    Cycles are still collected, every 50,000 containers. The bulkops process owns its interpreter, so
    the CLI does this; the library leaves the host application's collector alone."""
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def _stop_kind(stop: BaseException) -> str:
    return "terminated" if isinstance(stop, Terminated) else "interrupted"


async def _execute(settings: Settings, job: Job, view: JobProgress) -> RunFigures:
    async with open_client(settings) as client:
        client.subscribe(view.on_request)
        client.subscribe(_show_wire(client, view))
        if job.total is None and job.total_later is not None and (settings.out.interactive or view.interval):
            # Only progress needs it; a progress figure is never worth failing a job for.
            with contextlib.suppress(Exception):
                view.set_total(await job.total_later(client))
        lines = asyncio.ensure_future(view.report_every())
        try:
            return await job.start(client, view)
        finally:
            lines.cancel()


def _show_wire(client: Client, view: JobProgress) -> Callable[[RequestEvent], None]:
    """A request hook that names the data plane's transport on the bar once the client has picked it."""
    shown = False

    def watch(event: RequestEvent) -> None:
        nonlocal shown
        if not shown:
            wires = sorted(set(client.stats.transports.values()))
            if wires:
                shown = True
                view.set_wire("/".join(wires))

    return watch


def _interrupted(settings: Settings, job: Job, how: str) -> None:
    """What a stopped job left and the command that resumes it (with ``--json``, also as a document)."""
    out = settings.out
    command = None
    if job.checkpoint is None:
        message = f"{how}: this was a dry run; nothing was deleted"
    elif not job.checkpoint.exists():
        message = f"{how} before the job started; nothing was changed"
    else:
        command = resume_command(settings, job.checkpoint)
        message = f"{how}: the checkpoint {job.checkpoint} is saved. To resume, run:"
    out.stderr.print(message, highlight=False)
    if command is not None:  # printed on its own, unstyled, so it can be copied exactly
        out.stderr.print(f"  {command}", markup=False, highlight=False)
    if out.json_mode:
        stopped: dict[str, Any] = {
            "message": message.removesuffix(" To resume, run:"),
            "type": how.capitalize(),
            "exit_code": EXIT_CODES[how],
            "param": None,
            "option": None,
            "checkpoint": str(job.checkpoint) if command is not None else None,
            "resume_command": command,
        }
        out.document({"error": stopped})


# --- the report ----------------------------------------------------------------------------------------


def show_report(
    settings: Settings, job: Job, report: RunFigures, *, error: Mapping[str, Any] | None = None
) -> None:
    """The job's report on stdout; with ``--json`` one document, carrying ``error`` when the job ended
    part-way (exit 3), so stdout stays one JSON document."""
    out = settings.out
    doc = report.to_json()
    doc["kind"] = job.kind
    doc["checkpoint"] = str(job.checkpoint) if job.checkpoint is not None else None
    if out.json_mode:
        if error is not None:
            doc["error"] = dict(error)
        out.document(doc)
        return
    out.record(_human(job.kind, doc), title=f"{job.kind} report")


def _pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "n/a"


def _rate(value: Any) -> str:
    return f"{value:,.0f}/s" if isinstance(value, int | float) else "n/a"


def _transport(doc: Mapping[str, Any]) -> str:
    """``grpc (auto: the index host speaks gRPC)``, ``rest (auto: ...)``, or the forced wire alone."""
    wire = str(doc.get("transport"))
    if doc.get("transport_requested") != "auto":
        return wire
    why = "the index host answered gRPC" if wire == "grpc" else "no gRPC answer from the index host"
    return f"{wire} (picked by auto: {why})"


def _per_namespace(counts: Mapping[str, int]) -> str:
    """Readable with thousands of namespaces: the first few and a total (the rest is in --json)."""
    return summarize(counts)


def _names(names: Any) -> str:
    listed = [label(ns) for ns in names or []]
    shown = ", ".join(listed[:5])
    return shown + (f" … and {len(listed) - 5:,} more (all in --json)" if len(listed) > 5 else "")


def _human(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    if kind == "purge":
        rows["plan"] = doc.get("plan")
        rows["namespaces"] = _names(doc.get("namespaces"))
        if doc.get("dry_run"):
            rows["would delete"] = doc.get("would_delete")
            sample = list(doc.get("sample") or [])
            rows["sample"] = ", ".join(sample[:5]) + (", …" if len(sample) > 5 else "") or "(none)"
        else:
            rows["deleted"] = doc.get("deleted")
        rows["listed"] = doc.get("listed")
        if not doc.get("dry_run"):
            rows["rate"] = _rate(doc.get("rate")) + " IDs"
    elif kind == "export":
        rows["output"] = doc.get("output")
        rows["format"] = doc.get("format")
        rows["exported"] = doc.get("exported")
        rows["per namespace"] = _per_namespace(doc.get("namespaces") or {})
        rows["missing"] = doc.get("missing")
        rows["rate"] = _rate(doc.get("rate")) + " records"
    elif kind == "copy":
        _copy_rows(rows, doc)
    elif kind == "bulk_import":
        _bulk_import_rows(rows, doc)
    else:
        rows["input"] = doc.get("source")
        rows["upserted"] = doc.get("upserted")
        rows["rejected"] = doc.get("rejected")
        for rejection in (doc.get("rejections") or [])[:5]:
            rows[f"rejected {rejection.get('location')}"] = rejection.get("reason")
        rows["per namespace"] = _per_namespace(doc.get("namespaces") or {})
        rows["rate"] = _rate(doc.get("rate")) + " records"
    if doc.get("bound") is not None and not doc.get("dry_run"):
        rows["documented bound"] = _rate(doc.get("bound"))
        rows["rate ÷ bound"] = _pct(doc.get("rate_vs_bound"))
    if doc.get("transport"):
        rows["transport"] = _transport(doc)
    rows["elapsed"] = f"{float(doc.get('elapsed') or 0):.1f} s"
    rows["requests"] = sum((doc.get("requests") or {}).values())
    rows["429s / retries"] = f"{doc.get('rate_limited', 0)} / {doc.get('retries', 0)}"
    verification = doc.get("verification")
    if kind == "copy":
        pass  # its own lines (_copy_rows)
    elif isinstance(verification, Mapping) and not doc.get("dry_run"):
        if verification.get("checked"):
            remaining = verification.get("remaining")
            rows["verification"] = (
                "ok: 0 targeted records remain"
                if remaining == 0
                else f"FAILED: {remaining} targeted records remain"
            )
        else:
            rows["verification"] = f"not checked ({verification.get('note') or 'off'})"
    if doc.get("backup_id"):
        rows["backup"] = doc.get("backup_id")
    exported_first = doc.get("exported_first")
    if isinstance(exported_first, Mapping):
        count, output = exported_first.get("exported", 0), exported_first.get("output")
        rows["exported first"] = f"{count:,} records to {output}"
    if doc.get("resumed"):
        rows["resumed"] = True
    for number, note in enumerate(doc.get("notes") or []):
        rows["notes" if number == 0 else f"notes ({number + 1})"] = note
    if doc.get("checkpoint"):
        rows["checkpoint"] = doc.get("checkpoint")
    return rows


def _bulk_import_rows(rows: dict[str, Any], doc: Mapping[str, Any]) -> None:
    rows["uri"] = doc.get("uri")
    adopted = " (started by an interrupted run)" if doc.get("adopted") else ""
    rows["import"] = f"{doc.get('import_id')}{adopted}"
    error = f": {doc['error']}" if doc.get("error") else ""
    rows["status"] = f"{doc.get('status')}{error}"
    rows["records imported"] = doc.get("records_imported")
    rows["per namespace"] = _per_namespace(doc.get("namespaces") or {})
    expected = doc.get("expected")
    if isinstance(expected, Mapping):
        rows["manifest says"] = _per_namespace(expected)
    rows["rate"] = _rate(doc.get("rate")) + " records (not bound by the upsert limits)"


def _copy_rows(rows: dict[str, Any], doc: Mapping[str, Any]) -> None:
    source = doc.get("source") or {}
    destination = doc.get("destination") or {}
    rows["from"] = source.get("name") or source.get("host")
    created = " (created)" if destination.get("created") else ""
    rows["to"] = f"{destination.get('name') or destination.get('host')}{created}"
    if destination.get("would_create"):
        plan = destination["would_create"]
        rows["to"] = (
            f"{plan.get('name')} (would be created: dimension {plan.get('dimension')}, {plan.get('metric')}, "
            f"{plan.get('cloud')} {plan.get('region')})"
        )
    if doc.get("namespace_map"):
        rows["namespace map"] = ", ".join(f"{label(a)}→{label(b)}" for a, b in doc["namespace_map"].items())
    if doc.get("dry_run"):
        rows["would copy"] = doc.get("would_copy")
        estimate = doc.get("estimate") or {}
        rows["would send"] = ", ".join(f"{op} {n:,}" for op, n in (estimate.get("requests") or {}).items())
        rows["would take"] = f"{float(estimate.get('seconds') or 0):.1f} s at the limits (at least)"
        rows["per namespace"] = _per_namespace(doc.get("namespaces") or {})
        return
    rows["copied"] = doc.get("copied")
    rows["per namespace"] = _per_namespace(doc.get("namespaces") or {})
    rows["missing"] = doc.get("missing")
    rows["rate"] = _rate(doc.get("rate")) + " records"
    check = doc.get("verification") or {}
    if check.get("checked"):
        sampled = f", {check.get('sampled')} sampled records identical" if check.get("sampled") else ""
        rows["verification"] = (
            f"ok: counts match in {check.get('namespaces')} namespace(s){sampled}"
            if check.get("ok")
            else "FAILED (see the error)"
        )
    else:
        rows["verification"] = f"not checked ({check.get('note') or 'off'})"
