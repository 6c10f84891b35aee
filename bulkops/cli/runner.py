"""Run one bulk job for the CLI: checkpoint, progress bar, Ctrl-C, report, exit code.

``purge``, ``export``, ``import`` and ``resume`` all end up here, so they behave the same way:

* every job has a checkpoint: ``--checkpoint``, or by default ``<output>.checkpoint`` for an export
  (the library's default: the checkpoint belongs with the file it describes) and a new file under
  ``$XDG_STATE_HOME/bulkops/`` for a purge or an import (one input file is often imported into several
  indexes; a checkpoint beside it would tie it to the first);
* beside a *new* checkpoint the CLI writes ``<checkpoint>.cli.json``: the command's arguments (never the
  API key), so that ``bulkops resume CHECKPOINT`` can rerun exactly the same job. The library's own
  checkpoint spec identifies the job but does not hold everything a rerun needs (an IDs file is kept
  as a digest, ``--backup-first`` is not part of a purge's identity);
* Ctrl-C cancels the job: the library flushes its checkpoint in a shielded scope, then the CLI prints
  the exact command that resumes it and exits with 130;
* a purge whose verification finds leftovers, or an import with rejected records, exits with 3.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import click
import orjson

from bulkops.cli.common import open_client, open_data_plane_at
from bulkops.cli.context import Settings, run_async
from bulkops.cli.progress import JobProgress
from bulkops.errors import EXIT_CODES, BulkopsError, CheckpointError, UsageError, VerificationError

__all__ = [
    "JobRequest",
    "default_checkpoint_path",
    "load_invocation",
    "report_to_json",
    "run_job",
    "sidecar_path",
]

KINDS = ("purge", "export", "import")


@dataclass
class JobRequest:
    """One job as the CLI runs it. ``args`` are JSON-able command arguments (never the key)."""

    kind: str
    args: dict[str, Any]
    checkpoint: Path | None
    dry_run: bool = False
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return str(self.args.get("index") or self.args.get("host"))


def default_checkpoint_path(kind: str, args: Mapping[str, Any]) -> Path:
    """Where a job's checkpoint goes when ``--checkpoint`` is not given."""
    if kind == "export":
        output = Path(str(args["output"])).absolute()
        return output.with_name(output.name + ".checkpoint")
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "bulkops"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return base / f"{kind}-{stamp}-{os.getpid()}.checkpoint"


def sidecar_path(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name + ".cli.json")


class _Invocation:
    """Writes ``<checkpoint>.cli.json`` once the library has created the checkpoint of a *new* job.

    Not before: a job that fails before its checkpoint exists (wrong key, unknown index) leaves no
    file behind, and a checkpoint that belongs to another job (which the library refuses) keeps its
    own record. Called from the first progress event (so a kill -9 later still finds it) and when
    the run ends, whichever way.
    """

    def __init__(self, settings: Settings, request: JobRequest) -> None:
        self.settings = settings
        self.request = request
        self.fresh = request.checkpoint is not None and not request.checkpoint.exists()
        self.done = False

    def record(self) -> None:
        checkpoint = self.request.checkpoint
        if self.done or not self.fresh or checkpoint is None or not checkpoint.exists():
            return
        self.done = True
        doc = {
            "kind": self.request.kind,
            "args": self.request.args,
            "controller_host": self.settings.controller_host,
            "limits": self.settings.limits_spec(),
        }
        path = sidecar_path(checkpoint)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def load_invocation(checkpoint: Path) -> dict[str, Any] | None:
    """The command recorded beside ``checkpoint`` by the CLI, or None (e.g. a library-made checkpoint)."""
    path = sidecar_path(checkpoint)
    if not path.is_file():
        return None
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CheckpointError(
            f"{path} is unreadable ({exc}); delete it to resume from the checkpoint alone"
        ) from None
    if not isinstance(doc, dict) or doc.get("kind") not in KINDS or not isinstance(doc.get("args"), dict):
        raise CheckpointError(f"{path} does not describe a bulkops job")
    return doc


def run_job(settings: Settings, request: JobRequest) -> None:
    """Run the job and print its report; exit 3 when partial, 130 on Ctrl-C (resume command printed)."""
    out = settings.out
    if request.checkpoint is not None:
        request.checkpoint.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    invocation = _Invocation(settings, request)
    view = JobProgress(
        out, f"{request.kind} {request.target}", total=request.total, on_first=invocation.record
    )
    stats: dict[str, Any] = {}
    try:
        with view:
            report = run_async(lambda: _execute(settings, request, view, stats))
    except KeyboardInterrupt:
        invocation.record()
        _interrupted(settings, request)
        raise click.exceptions.Exit(EXIT_CODES["interrupted"]) from None
    except UsageError as exc:  # the library's words for its arguments, in the CLI's words for options
        invocation.record()
        raise UsageError(_in_cli_words(str(exc))) from None
    except VerificationError as exc:
        invocation.record()
        partial = getattr(exc, "report", None)
        if partial is not None:
            show_report(settings, request, partial, stats)
        raise
    except Exception as exc:
        invocation.record()
        partial = getattr(exc, "report", None)  # RecordRejectedError carries what was imported
        if partial is not None:
            show_report(settings, request, partial, stats)
            if isinstance(exc, BulkopsError) and exc.exit_code == EXIT_CODES["partial"]:
                raise PartialJobError(_in_cli_words(str(exc))) from None
        raise
    invocation.record()
    show_report(settings, request, report, stats)
    if getattr(report, "rejected", 0):
        out.warn(f"{report.rejected} records were rejected (see the report)")
        raise click.exceptions.Exit(EXIT_CODES["partial"])


class PartialJobError(BulkopsError):
    """The job stopped part-way with what it did reported (exit 3), e.g. at a rejected record."""

    exit_code: ClassVar[int] = EXIT_CODES["partial"]


_LIBRARY_TO_CLI = (
    ("max_delete=", "--max-delete "),
    ("Raise max_delete", "Raise --max-delete"),
    ("pass overwrite=True", "pass --overwrite"),
    ("on_error='skip'", "--on-error skip"),
)


def _in_cli_words(message: str) -> str:
    for library, cli in _LIBRARY_TO_CLI:
        message = message.replace(library, cli)
    return message


def _interrupted(settings: Settings, request: JobRequest) -> None:
    out = settings.out
    if request.checkpoint is None:
        out.stderr.print("interrupted: this was a dry run; nothing was deleted", highlight=False)
        return
    if not request.checkpoint.exists():
        out.stderr.print("interrupted before the job started; nothing was changed", highlight=False)
        return
    command = settings.command_line("resume", str(request.checkpoint))
    out.stderr.print(
        f"interrupted: the checkpoint {request.checkpoint} is saved. To resume, run:", highlight=False
    )
    # Printed on its own, unstyled, so it can be copied exactly.
    out.stderr.print(f"  {command}", markup=False, highlight=False)


async def _execute(settings: Settings, request: JobRequest, view: JobProgress, stats: dict[str, Any]) -> Any:
    import bulkops

    args = request.args
    checkpoint = str(request.checkpoint) if request.checkpoint is not None else None
    async with open_client(settings) as client:
        client.subscribe(view.on_request)
        try:
            if request.kind == "purge":
                return await bulkops.purge(
                    index=args.get("index"),
                    host=args.get("host"),
                    client=client,
                    namespace=args.get("namespace", ""),
                    prefix=args.get("prefix"),
                    ids=args.get("ids_file"),
                    filter=args.get("filter"),
                    everything=bool(args.get("everything")),
                    checkpoint=checkpoint,
                    dry_run=request.dry_run,
                    max_delete=args.get("max_delete"),
                    backup_first=bool(args.get("backup_first")),
                    verify_delay=float(args.get("verify_delay", 5.0)),
                    progress=lambda p: view.update(done=p.deleted, phase=p.phase),
                )
            dp = await open_data_plane_at(client, index=args.get("index"), host=args.get("host"))
            if request.total is None and settings.out.interactive:  # only a bar needs it
                view.set_total(await _known_total(request, dp))
            if request.kind == "export":
                return await bulkops.export(
                    to=str(args["output"]),
                    index=args.get("index"),
                    dataplane=dp,
                    namespace=None if args.get("all_namespaces") else args.get("namespace", ""),
                    all_namespaces=bool(args.get("all_namespaces")),
                    prefix=args.get("prefix"),
                    ids=args.get("ids_file"),
                    filter=args.get("filter"),
                    checkpoint=checkpoint,
                    overwrite=bool(args.get("overwrite")),
                    limits=client.config.limits,
                    progress=lambda p: view.update(done=p.exported, phase=p.namespace or "__default__"),
                )
            if request.kind == "import":
                return await bulkops.load(
                    from_=str(args["input"]),
                    index=args.get("index"),
                    dataplane=dp,
                    namespace=args.get("namespace"),
                    checkpoint=checkpoint,
                    on_error="skip" if args.get("on_error") == "skip" else "stop",
                    limits=client.config.limits,
                    progress=lambda p: view.update(done=p.upserted),
                )
            raise UsageError(f"unknown job kind {request.kind!r}")
        finally:
            snapshot = client.stats
            stats.update(
                requests=snapshot.total_requests,
                rate_limited=snapshot.total_rate_limited,
                retries=snapshot.total_retries,
            )


async def _known_total(request: JobRequest, dp: Any) -> int | None:
    """Records the job will handle when that is cheap to know: a whole-namespace export (one stats
    call) or an import (its manifest). Best effort: the bar simply has no total otherwise."""
    args = request.args
    try:
        if request.kind == "import":
            from bulkops.sinks.manifest import read_manifest

            manifest = read_manifest(str(args["input"]))
            return manifest.total if manifest is not None else None
        if request.kind == "export" and not any(args.get(k) for k in ("prefix", "ids_file", "filter")):
            stats = await dp.describe_index_stats()
            namespaces = stats.get("namespaces") or {}
            if args.get("all_namespaces"):
                return int(stats.get("totalVectorCount") or 0)
            wanted = args.get("namespace") or ""
            entry = namespaces.get(wanted) or (namespaces.get("__default__") if not wanted else None) or {}
            return int(entry.get("vectorCount", 0)) or None
    except Exception:  # a progress bar is never worth failing a job for
        return None
    return None


# --- the report ----------------------------------------------------------------------------------------


def report_to_json(value: Any) -> Any:
    """A report dataclass as JSON-able data (paths as strings, mappings as dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        doc = {f.name: report_to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        rate = getattr(value, "rate_vs_bound", None)
        if "rate_vs_bound" not in doc and rate is not None:
            doc["rate_vs_bound"] = rate
        return doc
    if isinstance(value, Mapping):
        return {str(k): report_to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [report_to_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def show_report(settings: Settings, request: JobRequest, report: Any, stats: Mapping[str, Any]) -> None:
    out = settings.out
    doc = report_to_json(report)
    doc["kind"] = request.kind
    doc["checkpoint"] = str(request.checkpoint) if request.checkpoint is not None else None
    doc["client"] = dict(stats)
    if out.json_mode:
        out.document(doc)
        return
    out.record(_human(request.kind, doc), title=f"{request.kind} report")


def _pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "n/a"


def _rate(value: Any) -> str:
    return f"{value:,.0f}/s" if isinstance(value, int | float) else "n/a"


def _human(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    client = doc.get("client") or {}
    rows: dict[str, Any] = {}
    if kind == "purge":
        rows["plan"] = doc.get("plan")
        rows["namespaces"] = ", ".join(ns or "__default__" for ns in doc.get("namespaces") or [])
        if doc.get("dry_run"):
            rows["would delete"] = doc.get("would_delete")
            sample = list(doc.get("sample") or [])
            rows["sample"] = ", ".join(sample[:5]) + (", …" if len(sample) > 5 else "") or "(none)"
        else:
            rows["deleted"] = doc.get("deleted")
        rows["listed"] = doc.get("listed")
        if not doc.get("dry_run"):
            rows["rate"] = _rate(doc.get("ids_per_second")) + " IDs"
    elif kind == "export":
        rows["output"] = doc.get("output")
        rows["format"] = doc.get("format")
        rows["exported"] = doc.get("exported")
        rows["per namespace"] = ", ".join(
            f"{ns or '__default__'}: {n:,}" for ns, n in (doc.get("namespaces") or {}).items()
        )
        rows["missing"] = doc.get("missing")
        rows["rate"] = _rate(doc.get("records_per_second")) + " records"
    else:
        rows["input"] = doc.get("source")
        rows["upserted"] = doc.get("upserted")
        rows["rejected"] = doc.get("rejected")
        for rejection in (doc.get("rejections") or [])[:5]:
            rows[f"rejected {rejection.get('location')}"] = rejection.get("reason")
        rows["per namespace"] = ", ".join(
            f"{ns or '__default__'}: {n:,}" for ns, n in (doc.get("namespaces") or {}).items()
        )
        rows["rate"] = _rate(doc.get("records_per_second")) + " records"
    if doc.get("bound") is not None and not doc.get("dry_run"):
        rows["documented bound"] = _rate(doc.get("bound"))
        rows["rate ÷ bound"] = _pct(doc.get("rate_vs_bound"))
    rows["elapsed"] = f"{float(doc.get('elapsed') or 0):.1f} s"
    rows["requests"] = client.get("requests")
    rows["429s / retries"] = f"{client.get('rate_limited', 0)} / {client.get('retries', 0)}"
    verification = doc.get("verification")
    if isinstance(verification, Mapping) and not doc.get("dry_run"):
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
    if doc.get("resumed"):
        rows["resumed"] = True
    for note in doc.get("notes") or []:
        rows.setdefault("notes", note)
    if doc.get("checkpoint"):
        rows["checkpoint"] = doc.get("checkpoint")
    return rows
