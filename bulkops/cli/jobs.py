"""``bulkops purge``, ``bulkops export`` and ``bulkops import``: the bulk jobs, with progress and a report.

Each command checks its input first (nothing is sent on bad input), always runs with a checkpoint
(``--checkpoint`` or one under the state directory), draws a progress bar on a terminal, and on
Ctrl-C lets the library flush the checkpoint, then prints the exact command that resumes the job.
"""

from __future__ import annotations

from typing import Any

import click

from bulkops.cli.common import parse_filter, wire_namespace
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.inputs import check_ids_file, check_input_path, check_output_path, check_prefix
from bulkops.cli.runner import JobRequest, run_job
from bulkops.errors import UsageError

__all__ = ["export", "import_", "purge"]

checkpoint_option = click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Checkpoint file (SQLite). Rerunning with the same file resumes. Default: a new file under "
    "$XDG_STATE_HOME/bulkops/.",
)


def _one_selector(**given: Any) -> str:
    chosen = [name for name, value in given.items() if value not in (None, False)]
    names = " | ".join(f"--{n.replace('_', '-')}" for n in given)
    if len(chosen) != 1:
        raise UsageError(f"choose exactly one of {names}" + (f" (got {len(chosen)})" if chosen else ""))
    return chosen[0]


@click.command()
@click.option("--prefix", metavar="P", help="Delete every record whose ID starts with P.")
@click.option("--ids-file", type=str, metavar="PATH", help="Delete the IDs in this file (one per line).")
@click.option("--filter", "filter_", metavar="JSON", help="Delete records matching a metadata filter.")
@click.option("--all", "everything", is_flag=True, help="Delete every record in the namespace.")
@click.option("--dry-run", is_flag=True, help="Count what would go and show a sample; delete nothing.")
@click.option("--max-delete", type=click.IntRange(min=0), metavar="N", help="Stop before deleting more.")
@click.option("--backup-first", is_flag=True, help="Back up the index (and wait until Ready) first.")
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
    checkpoint: str | None,
    yes: bool,
) -> None:
    """Delete records by ID prefix, IDs file, metadata filter, or a whole namespace."""
    settings.target_required()
    mode = _one_selector(prefix=prefix, ids_file=ids_file, filter=filter_, all=everything)
    spec: dict[str, Any] = {"namespace": wire_namespace(settings.namespace)}
    what: str
    if prefix is not None:
        check_prefix(prefix)
        spec["prefix"] = prefix
        what = f"every record whose ID starts with {prefix!r}"
    elif ids_file is not None:
        count = check_ids_file(ids_file)
        spec["ids_file"] = ids_file
        what = f"the {count:,} IDs listed in {ids_file}"
    elif filter_ is not None:
        spec["filter"] = parse_filter(filter_)
        what = f"every record matching the filter {filter_}"
    else:
        if settings.namespace is None:
            raise UsageError("--all needs --namespace NS (use __default__ for the default namespace)")
        spec["everything"] = True
        what = "EVERY record"
    if max_delete is not None:
        spec["max_delete"] = max_delete
    target = settings.index or settings.host
    ns_label = settings.namespace if settings.namespace not in (None, "") else "__default__"
    if not dry_run:
        lines = [f"{what}", f"in namespace {ns_label} of {target}"]
        if backup_first:
            lines.append("(a backup of the index is made first)")
        else:
            lines.append("no backup first (add --backup-first to make one)")
        if mode in ("prefix", "filter"):
            lines.append("run with --dry-run first to count them")
        confirm_destructive(settings.out, f"purge from {target}", lines, yes=yes)
    run_job(
        settings,
        JobRequest(
            kind="purge", spec=spec, checkpoint=checkpoint, dry_run=dry_run, backup_first=backup_first
        ),
    )


@click.command()
@click.option("--prefix", metavar="P", help="Export every record whose ID starts with P.")
@click.option("--ids-file", type=str, metavar="PATH", help="Export the IDs in this file.")
@click.option("--filter", "filter_", metavar="JSON", help="Export records matching a metadata filter.")
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
    output: str,
    checkpoint: str | None,
) -> None:
    """Write records (id, values, sparse values, metadata) to JSONL or Parquet, exactly once."""
    settings.target_required()
    spec: dict[str, Any] = {"namespace": wire_namespace(settings.namespace)}
    given = [x for x in (prefix, ids_file, filter_) if x is not None]
    if len(given) > 1:
        raise UsageError("choose at most one of --prefix | --ids-file | --filter (none exports everything)")
    if prefix is not None:
        check_prefix(prefix)
        spec["prefix"] = prefix
    elif ids_file is not None:
        check_ids_file(ids_file)
        spec["ids_file"] = ids_file
    elif filter_ is not None:
        spec["filter"] = parse_filter(filter_)
    spec["output"] = output
    spec["format"] = check_output_path(output)
    run_job(settings, JobRequest(kind="export", spec=spec, checkpoint=checkpoint))


@click.command("import")
@click.option("--input", "-i", "input_", required=True, metavar="PATH", help="A bulkops export.")
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def import_(settings: Settings, input_: str, checkpoint: str | None) -> None:
    """Upsert an export (JSONL or Parquet) into an index, in 1000-record / 2 MB batches."""
    settings.target_required()
    check_input_path(input_)
    spec: dict[str, Any] = {"namespace": wire_namespace(settings.namespace), "input": input_}
    run_job(settings, JobRequest(kind="import", spec=spec, checkpoint=checkpoint))
