"""``bulkops resume CHECKPOINT`` and ``bulkops status CHECKPOINT``: a job's checkpoint is its memory.

``status`` opens the checkpoint read-only (it never changes it, and is safe while the job runs) and
shows the job's kind and spec as :mod:`bulkops.engine.checkpoint` recorded them, its phase and counters.
``resume`` reruns the job the checkpoint belongs to: with the command recorded beside it by the CLI
(``<checkpoint>.cli.json``), or, for a checkpoint written by a library call, rebuilt from its spec.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import orjson

from bulkops.cli.confirm import confirm_destructive
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.inputs import check_ids_file
from bulkops.cli.runner import KINDS, JobRequest, load_invocation, run_job
from bulkops.errors import CheckpointError, UsageError

__all__ = ["CheckpointView", "read_checkpoint", "resume", "status"]


@dataclass(frozen=True)
class CheckpointView:
    """What a checkpoint holds, read without opening it for writing."""

    path: Path
    kind: str
    spec: Mapping[str, Any]
    counters: Mapping[str, int]
    state: Mapping[str, Any] = field(default_factory=dict)
    chains: tuple[int, int] = (0, 0)  # done, total
    in_flight: int = 0

    @property
    def finished(self) -> bool:
        return "report" in self.state or self.state.get("phase") == "done"


def read_checkpoint(path: str | Path) -> CheckpointView:
    """Read the tables :mod:`bulkops.engine.checkpoint` documents (meta, counters, state, chains)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"checkpoint {path}: no such file")
    try:
        db = sqlite3.connect(f"{file.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CheckpointError(f"{path} cannot be opened ({exc})") from None
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        kind = orjson.loads(meta["kind"])
        spec = orjson.loads(meta["spec"])
        counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
        state = {key: orjson.loads(value) for key, value in db.execute("SELECT key, value FROM state")}
        done, total = db.execute("SELECT COALESCE(SUM(done), 0), COUNT(*) FROM chains").fetchone()
        in_flight = db.execute("SELECT COUNT(*) FROM in_flight").fetchone()[0]
    except (sqlite3.Error, KeyError, orjson.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not a bulkops checkpoint ({exc})") from None
    finally:
        db.close()
    return CheckpointView(file, str(kind), spec, counters, state, (int(done), int(total)), int(in_flight))


@click.command()
@click.argument("checkpoint")
@global_options(with_env=False)
@pass_settings
def status(settings: Settings, checkpoint: str) -> None:
    """What CHECKPOINT holds: the job, its target, and how far it got (read-only)."""
    view = read_checkpoint(checkpoint)
    invocation = load_invocation(view.path)
    report = view.state.get("report")
    doc: dict[str, Any] = {
        "checkpoint": str(view.path.absolute()),
        "kind": view.kind,
        "status": "finished" if view.finished else "unfinished (resume it)",
        "phase": view.state.get("phase"),
        "spec": {k: v for k, v in view.spec.items() if v not in (None, "", [], {})},
        "counters": view.counters,
        "list chains done": f"{view.chains[0]} of {view.chains[1]}",
        "batches in flight": view.in_flight,
    }
    if isinstance(report, Mapping):
        for key in ("exported", "upserted", "rejected", "deleted"):
            if key in report:
                doc[key] = report[key]
    if invocation is not None:
        doc["command"] = {k: v for k, v in invocation["args"].items() if v not in (None, False)}
    if not view.finished:
        if invocation is not None:  # the same command the interrupted run printed
            settings.controller_host = settings.controller_host or invocation.get("controller_host")
            settings.limits = settings.limits or invocation.get("limits")
        doc["resume with"] = settings.command_line("resume", str(view.path.absolute()))
    if settings.json:
        doc["state"] = {k: v for k, v in view.state.items() if k != "report"}
        doc["report"] = report
        settings.out.document(doc)
        return
    settings.out.record({k: v for k, v in doc.items() if v not in (None, {}, [])}, title=f"{view.kind} job")


@click.command()
@click.argument("checkpoint")
@click.option(
    "--ids-file",
    metavar="PATH",
    help="The IDs file of a purge whose checkpoint was written by a library call (the CLI records it).",
)
@click.option("--yes", "-y", is_flag=True, help="Resume a library-made purge without asking.")
@global_options(with_env=False)
@pass_settings
def resume(settings: Settings, checkpoint: str, ids_file: str | None, yes: bool) -> None:
    """Resume the job recorded in CHECKPOINT where it stopped (or confirm it is finished)."""
    view = read_checkpoint(checkpoint)
    if view.kind not in KINDS:
        raise UsageError(f"checkpoint {checkpoint} holds a {view.kind!r} job, which the CLI cannot resume")
    invocation = load_invocation(view.path)
    if invocation is not None:
        if invocation["kind"] != view.kind:
            raise CheckpointError(
                f"{view.path}.cli.json describes a {invocation['kind']} job but the checkpoint holds a "
                f"{view.kind} job; delete the .cli.json file to resume from the checkpoint alone"
            )
        args = dict(invocation["args"])
        settings.controller_host = settings.controller_host or invocation.get("controller_host")
        settings.limits = settings.limits or invocation.get("limits")
    else:
        args = _args_from_spec(view, ids_file)
    if view.kind == "purge" and not view.finished and invocation is None:
        # A purge started from the CLI was confirmed (or --yes'd) when it began; one rebuilt from a
        # library call's checkpoint was never shown to anyone here, so ask.
        ns = args.get("namespace") or "__default__"
        what = args.get("prefix") or args.get("ids_file") or args.get("filter") or "every record"
        confirm_destructive(
            settings.out,
            f"resume the purge in {args.get('index') or args.get('host')}",
            [f"what is left of: {what}", f"in namespace {ns}"],
            yes=yes,
        )
    total = check_ids_file(str(args["ids_file"])) if args.get("ids_file") else None
    run_job(settings, JobRequest(kind=view.kind, args=args, checkpoint=view.path.absolute(), total=total))


def _args_from_spec(view: CheckpointView, ids_file: str | None) -> dict[str, Any]:
    """Rebuild the job's arguments from the checkpoint's spec (a checkpoint made by a library call)."""
    spec = view.spec
    args: dict[str, Any] = {"index": spec.get("index"), "host": spec.get("host")}
    if view.kind == "import":
        args.update(input=spec["from"], namespace=spec.get("namespace"))
        return args
    namespaces = list(spec.get("namespaces") or [""])
    if view.kind == "export":
        args.update(
            output=spec["to"],
            namespace=namespaces[0] if not spec.get("all_namespaces") else "",
            all_namespaces=bool(spec.get("all_namespaces")),
            prefix=spec.get("prefix"),
            filter=spec.get("filter"),
        )
        if spec.get("ids_file") and spec["ids_file"] != "<iterable>":
            args["ids_file"] = spec["ids_file"]
        elif spec.get("source") == "ids":
            raise UsageError(
                "this export was given IDs in memory by a library call; the CLI cannot resume it"
            )
        if len(namespaces) > 1:
            raise UsageError("this export names several namespaces; resume it with the library call")
        return args
    plan = spec.get("plan")
    if len(namespaces) > 1:
        raise UsageError("this purge spans several namespaces; resume it with the library call")
    args["namespace"] = namespaces[0]
    if plan == "list_and_delete":
        args["prefix"] = spec.get("prefix")
    elif plan == "delete_by_filter":
        args["filter"] = spec.get("filter")
    elif plan == "delete_all":
        args["everything"] = True
    elif plan == "delete_ids":
        if not ids_file:
            raise UsageError("this purge deleted the IDs of a file: pass it again with --ids-file PATH")
        args["ids_file"] = str(Path(ids_file).absolute())
    else:
        raise UsageError(f"the CLI cannot resume a {plan!r} purge; rerun the library call")
    return args
