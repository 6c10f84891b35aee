"""``bulkops resume CHECKPOINT`` and ``bulkops status CHECKPOINT``: a job's checkpoint is its memory.

Both read the checkpoint through the library (:meth:`bulkops.engine.checkpoint.Checkpoint.inspect`,
read-only and safe while the job runs, and :func:`bulkops.jobs.read_spec`): ``status`` shows the job's
spec, how far it got and who runs it now; ``resume`` reruns it with :func:`bulkops.resume`, whichever
way it was started (this CLI or a library call).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from bulkops.cli.confirm import confirm_destructive
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.options import single
from bulkops.cli.progress import JobProgress
from bulkops.cli.runner import Job, progress_for, resume_command, run_job, totals
from bulkops.clock import SYSTEM_CLOCK
from bulkops.engine.checkpoint import Checkpoint, CheckpointView
from bulkops.jobs.figures import RunFigures
from bulkops.jobs.ids import prepare_ids
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.resume import resume as resume_job
from bulkops.jobs.resume import spec_from_json

if TYPE_CHECKING:
    from bulkops.api import Client

__all__ = ["iso_time", "phase_of", "resume", "state_of", "status", "status_document"]


def state_of(view: CheckpointView) -> str:
    """``running``, ``finished`` or ``unfinished``: the fixed strings scripts read."""
    if view.running is not None:
        return "running"
    return "finished" if view.finished else "unfinished"


def phase_of(view: CheckpointView, kind: str) -> str:
    """Where the job is: the phase it recorded (a purge: ``backup``, ``deleting``, ``verifying``...),
    else ``done`` or the kind's one working phase (``exporting``, ``loading``)."""
    if isinstance(view.phase, str):
        return view.phase
    if view.finished:
        return "done"
    return {"export": "exporting", "load": "loading", "purge": "deleting"}.get(kind, "working")


def iso_time(seconds: float | None) -> str | None:
    """A wall-clock time (seconds since the epoch) as ISO 8601 UTC."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _human_state(view: CheckpointView) -> str:
    if view.running is not None:
        return f"running (process {view.running.pid})" if view.running.pid else "running"
    return "finished" if view.finished else "unfinished (resume it)"


def status_document(settings: Settings, view: CheckpointView) -> dict[str, Any]:
    """What ``status --json`` prints: snake_case keys, numbers as numbers, times in ISO 8601 UTC,
    ``state`` and ``phase`` as fixed strings."""
    spec = spec_from_json(view.kind, view.spec)
    path = view.path.absolute()
    modified = path.stat().st_mtime
    running = view.running
    report = view.report
    return {
        "checkpoint": str(path),
        "kind": spec.kind,
        "job": spec.describe(),
        "state": state_of(view),
        "phase": phase_of(view, spec.kind),
        "spec": spec.to_json(),
        "counters": dict(view.counters),
        "chains": {"done": view.chains_done, "total": view.chains_total},
        "batches_in_flight": view.in_flight,
        "running": (
            {"pid": running.pid, "job": running.job or None, "since": iso_time(running.since)}
            if running is not None
            else None
        ),
        "modified": iso_time(modified),
        "age_seconds": round(max(0.0, SYSTEM_CLOCK.wall() - modified), 1),
        "resume_command": (resume_command(settings, path) if not view.finished and running is None else None),
        "report": dict(report) if isinstance(report, Mapping) else None,
        "recorded": {k: v for k, v in view.state.items() if k != "report"},
    }


@click.command()
@click.argument("checkpoint")
@global_options(with_env=False)
@pass_settings
def status(settings: Settings, checkpoint: str) -> None:
    """What CHECKPOINT holds: the job, its target, and how far it got (read-only)."""
    view = Checkpoint.inspect(checkpoint)
    doc = status_document(settings, view)
    if settings.json:
        settings.out.document(doc)
        return
    shown: dict[str, Any] = {
        "checkpoint": doc["checkpoint"],
        "kind": doc["kind"],
        "job": doc["job"],
        "status": _human_state(view),
        "phase": doc["phase"],
        "counters": doc["counters"],
        "list chains done": f"{view.chains_done} of {view.chains_total}",
        "batches in flight": view.in_flight,
    }
    if view.running is not None and view.running.job:
        shown["running"] = view.running.job
    for key in ("exported", "upserted", "rejected", "deleted"):
        if doc["report"] and key in doc["report"]:
            shown[key] = doc["report"][key]
    if doc["resume_command"]:
        shown["resume with"] = doc["resume_command"]
    settings.out.record(
        {k: v for k, v in shown.items() if v not in (None, {}, [])}, title=f"{doc['kind']} job"
    )


@click.command()
@click.argument("checkpoint")
@click.option(
    "--ids-file",
    multiple=True,
    metavar="PATH",
    help="The IDs of a job that was given them in memory by a library call (or whose file moved).",
)
@click.option("--yes", "-y", is_flag=True, help="Resume a purge nobody confirmed here without asking.")
@click.option(
    "--to-api-key",
    multiple=True,
    envvar="PINECONE_TO_API_KEY",
    metavar="KEY",
    help="A copy's destination key, when it is not --api-key [env PINECONE_TO_API_KEY]. Never logged.",
)
@global_options(with_env=False)
@pass_settings
def resume(
    settings: Settings, checkpoint: str, ids_file: tuple[str, ...], yes: bool, to_api_key: tuple[str, ...]
) -> None:
    """Resume the job recorded in CHECKPOINT where it stopped (or confirm it is finished)."""
    view = Checkpoint.inspect(checkpoint)
    view.refuse_if_running()  # at once, before any request; the lock refuses a race past this point too
    spec = spec_from_json(view.kind, view.spec)
    path = view.path.absolute()
    if isinstance(spec, PurgeSpec) and not view.finished and not spec.options.confirmed:
        # A purge started here was confirmed (or --yes'd) when it began; one started by a library call
        # was never shown to anyone, so ask.
        confirm_destructive(
            settings.out,
            f"resume the purge in {spec.target.describe()}",
            [
                f"what is left of: {spec.selection.describe()}",
                f"in namespace(s) {spec.namespaces.describe()}",
            ],
            yes=yes,
        )
    ids_path = single(ids_file, "--ids-file")
    ids = prepare_ids(ids_path) if ids_path is not None else None
    # Options given here win; otherwise the client is made as the job recorded it.
    controller, limits, transport = settings.controller_host, settings.limits_spec(), settings.transport
    settings.controller_host = controller or spec.target.controller_host
    settings.limits = limits or spec.target.limits
    settings.transport = transport or spec.target.transport

    async def start(client: Client, view: JobProgress) -> RunFigures:
        return await resume_job(
            path,
            client=client,
            controller_host=controller,
            limits=limits if limits is not None else ...,
            transport=transport,
            ids=ids,
            to_api_key=single(to_api_key, "--to-api-key"),
            progress=progress_for(view),
        )

    run_job(settings, Job(spec.kind, f"{spec.kind} {spec.target.describe()}", path, start, *totals(spec)))
