"""``bulkops purge``, ``bulkops export`` and ``bulkops import``: the bulk jobs, with progress and a report.

Each command checks its input first (nothing is sent on bad input), always runs with a checkpoint
(``--checkpoint`` or one under the state directory), draws a progress bar on a terminal, and on
Ctrl-C lets the library flush the checkpoint, then prints the exact command that resumes the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bulkops.cli.common import parse_filter, wire_namespace
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.inputs import check_ids_file, check_input_path, check_output_path, check_prefix
from bulkops.cli.runner import JobRequest, default_checkpoint_path, run_job
from bulkops.errors import UsageError

__all__ = ["export", "import_", "purge"]

checkpoint_option = click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Checkpoint file (SQLite). Rerunning with the same file resumes. Default: <output>.checkpoint "
    "(export), a new file under $XDG_STATE_HOME/bulkops/ (purge, import).",
)


def _one_selector(**given: Any) -> str:
    chosen = [name for name, value in given.items() if value not in (None, False)]
    names = " | ".join(f"--{n.replace('_', '-')}" for n in given)
    if len(chosen) != 1:
        raise UsageError(f"choose exactly one of {names}" + (f" (got {len(chosen)})" if chosen else ""))
    return chosen[0]


def _request(
    settings: Settings, kind: str, args: dict[str, Any], checkpoint: str | None, **kw: Any
) -> JobRequest:
    args = {"index": settings.index, "host": settings.host, **args}
    path = Path(checkpoint).absolute() if checkpoint else default_checkpoint_path(kind, args)
    return JobRequest(kind=kind, args=args, checkpoint=path, **kw)


@click.command()
@click.option("--prefix", metavar="P", help="Delete every record whose ID starts with P.")
@click.option("--ids-file", type=str, metavar="PATH", help="Delete the IDs in this file (one per line).")
@click.option("--filter", "filter_", metavar="JSON", help="Delete records matching a metadata filter.")
@click.option("--all", "everything", is_flag=True, help="Delete every record in the namespace.")
@click.option("--dry-run", is_flag=True, help="Count what would go and show a sample; delete nothing.")
@click.option("--max-delete", type=click.IntRange(min=0), metavar="N", help="Refuse to delete more than N.")
@click.option("--backup-first", is_flag=True, help="Back up the index (and wait until Ready) first.")
@click.option(
    "--verify-delay",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="S",
    help="Seconds to wait (the consistency lag) before the verification pass.",
)
@checkpoint_option
@yes_option
@global_options(with_env=False)
@pass_settings
def purge(
    settings: Settings,
    prefix: str | None,
    ids_file: str | None,
    filter_: str | None,
    everything: bool,
    dry_run: bool,
    max_delete: int | None,
    backup_first: bool,
    verify_delay: float,
    checkpoint: str | None,
    yes: bool,
) -> None:
    """Delete records by ID prefix, IDs file, metadata filter, or a whole namespace."""
    settings.target_required()
    mode = _one_selector(prefix=prefix, ids_file=ids_file, filter=filter_, all=everything)
    args: dict[str, Any] = {"namespace": wire_namespace(settings.namespace)}
    total: int | None = None
    if prefix is not None:
        check_prefix(prefix)
        args["prefix"] = prefix
        what = f"every record whose ID starts with {prefix!r}"
    elif ids_file is not None:
        total = check_ids_file(ids_file)
        args["ids_file"] = str(Path(ids_file).absolute())
        what = f"the {total:,} IDs listed in {ids_file}"
    elif filter_ is not None:
        args["filter"] = parse_filter(filter_)
        what = f"every record matching the filter {filter_}"
    else:
        if settings.namespace is None:
            raise UsageError("--all needs --namespace NS (use __default__ for the default namespace)")
        args["everything"] = True
        what = "EVERY record"
    if backup_first and not settings.index:
        raise UsageError("--backup-first needs --index NAME (backups are made through the control plane)")
    args.update(max_delete=max_delete, backup_first=backup_first, verify_delay=verify_delay)
    target = settings.index or settings.host
    ns_label = args["namespace"] or "__default__"
    if not dry_run:
        lines = [what, f"in namespace {ns_label} of {target}"]
        lines.append("a backup of the index is made first" if backup_first else "no backup first")
        if max_delete is not None:
            lines.append(f"refused if more than {max_delete:,} records would go")
        if mode in ("prefix", "filter"):
            lines.append("(run with --dry-run first to count them)")
        confirm_destructive(settings.out, f"purge from {target}", lines, yes=yes)
    request = _request(settings, "purge", args, checkpoint, dry_run=dry_run, total=total)
    if dry_run:
        request.checkpoint = None  # a dry run changes nothing and keeps no checkpoint
    run_job(settings, request)


@click.command()
@click.option("--prefix", metavar="P", help="Export every record whose ID starts with P.")
@click.option("--ids-file", type=str, metavar="PATH", help="Export the IDs in this file.")
@click.option("--filter", "filter_", metavar="JSON", help="Export records matching a metadata filter.")
@click.option("--all-namespaces", is_flag=True, help="Export every namespace (default: --namespace only).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output that is not this job's.")
@click.option(
    "--output",
    "-o",
    required=True,
    metavar="PATH",
    help="PATH.jsonl (one record per line) or PATH.parquet (a directory of part files).",
)
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def export(
    settings: Settings,
    prefix: str | None,
    ids_file: str | None,
    filter_: str | None,
    all_namespaces: bool,
    overwrite: bool,
    output: str,
    checkpoint: str | None,
) -> None:
    """Write records (id, values, sparse values, metadata) to JSONL or Parquet, exactly once."""
    settings.target_required()
    if len([x for x in (prefix, ids_file, filter_) if x is not None]) > 1:
        raise UsageError("choose at most one of --prefix | --ids-file | --filter (none exports everything)")
    if all_namespaces and settings.namespace is not None:
        raise UsageError("give either --namespace NS or --all-namespaces, not both")
    args: dict[str, Any] = {
        "namespace": wire_namespace(settings.namespace),
        "all_namespaces": all_namespaces,
        "overwrite": overwrite,
    }
    total: int | None = None
    if prefix is not None:
        check_prefix(prefix)
        args["prefix"] = prefix
    elif ids_file is not None:
        total = check_ids_file(ids_file)
        args["ids_file"] = str(Path(ids_file).absolute())
    elif filter_ is not None:
        args["filter"] = parse_filter(filter_)
    check_output_path(output)
    args["output"] = str(Path(output).absolute())
    request = _request(settings, "export", args, checkpoint, total=total)
    assert request.checkpoint is not None
    if Path(output).exists() and not request.checkpoint.exists() and not overwrite:
        # Refuse here, before the library creates a checkpoint that would make a rerun "resume" into
        # (and clobber) a file that was never this job's.
        raise UsageError(
            f"--output {output} already exists and no checkpoint of this export describes it; "
            "choose another path or pass --overwrite"
        )
    run_job(settings, request)


@click.command("import")
@click.option("--input", "-i", "input_", required=True, metavar="PATH", help="A bulkops export.")
@click.option(
    "--on-error",
    type=click.Choice(["stop", "skip"]),
    default="stop",
    show_default=True,
    help="A record the server rejects: stop there, or report it and go on (exit 3 at the end).",
)
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def import_(settings: Settings, input_: str, on_error: str, checkpoint: str | None) -> None:
    """Upsert an export (JSONL or Parquet) into an index, in 1000-record / 2 MB batches.

    Records go to --namespace, or (without it) to the namespaces the export recorded.
    """
    settings.target_required()
    check_input_path(input_)
    args: dict[str, Any] = {
        "namespace": None if settings.namespace is None else wire_namespace(settings.namespace),
        "input": str(Path(input_).absolute()),
        "on_error": on_error,
    }
    run_job(settings, _request(settings, "import", args, checkpoint))
