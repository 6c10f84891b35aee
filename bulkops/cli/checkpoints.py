"""``bulkops resume CHECKPOINT`` and ``bulkops status CHECKPOINT``: a job's checkpoint is its memory.

Both read the checkpoint through the library (:meth:`bulkops.engine.checkpoint.Checkpoint.inspect`,
read-only and safe while the job runs, and :func:`bulkops.jobs.read_spec`): ``status`` shows the job's
spec, how far it got and who runs it now; ``resume`` reruns it with :func:`bulkops.resume`, whichever
way it was started (this CLI or a library call).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from bulkops.cli.confirm import confirm_destructive
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.options import single
from bulkops.cli.progress import JobProgress
from bulkops.cli.runner import Job, progress_for, resume_command, run_job
from bulkops.engine.checkpoint import Checkpoint, CheckpointView
from bulkops.jobs.figures import RunFigures
from bulkops.jobs.ids import prepare_ids
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.resume import resume as resume_job
from bulkops.jobs.resume import spec_from_json

if TYPE_CHECKING:
    from bulkops.api import Client

__all__ = ["resume", "status"]


def _state(view: CheckpointView) -> str:
    if view.running is not None:
        return f"running (process {view.running.pid})" if view.running.pid else "running"
    return "finished" if view.finished else "unfinished (resume it)"


@click.command()
@click.argument("checkpoint")
@global_options(with_env=False)
@pass_settings
def status(settings: Settings, checkpoint: str) -> None:
    """What CHECKPOINT holds: the job, its target, and how far it got (read-only)."""
    view = Checkpoint.inspect(checkpoint)
    spec = spec_from_json(view.kind, view.spec)
    path = view.path.absolute()
    report = view.report
    doc: dict[str, Any] = {
        "checkpoint": str(path),
        "kind": spec.kind,
        "job": spec.describe(),
        "status": _state(view),
        "phase": view.phase,
        "spec": spec.to_json(),
        "counters": dict(view.counters),
        "list chains done": f"{view.chains_done} of {view.chains_total}",
        "batches in flight": view.in_flight,
    }
    if view.running is not None and view.running.job:
        doc["running"] = view.running.job
    if isinstance(report, Mapping):
        for key in ("exported", "upserted", "rejected", "deleted"):
            if key in report:
                doc[key] = report[key]
    if not view.finished and view.running is None:
        doc["resume with"] = resume_command(settings, path)
    if settings.json:
        doc["state"] = {k: v for k, v in view.state.items() if k != "report"}
        doc["report"] = report
        settings.out.document(doc)
        return
    shown = {k: v for k, v in doc.items() if k != "spec" and v not in (None, {}, [])}
    settings.out.record(shown, title=f"{spec.kind} job")


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

    total = ids.count if ids else None
    run_job(settings, Job(spec.kind, f"{spec.kind} {spec.target.describe()}", path, start, total))
