"""``bulkops purge``, ``export``, ``load`` (alias ``import``) and ``copy``: the bulk jobs.

Each command turns its options into the library's spec (:func:`bulkops.jobs.purge.spec.build_purge`
and its siblings, which check every input: nothing is sent, confirmed or created on bad input), asks
before a purge, and runs the job with a checkpoint (:mod:`bulkops.cli.runner`). ``--prefix`` and
``--namespace`` may be repeated and all apply; an option that takes one value refuses a second.
``import --via-bulk-import URI`` runs the bulk import job instead of upserting (:func:`_bulk_import`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bulkops.cli.common import parse_filter
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.options import single
from bulkops.cli.progress import JobProgress
from bulkops.cli.purge_preview import preview_lines
from bulkops.cli.runner import Job, default_checkpoint_path, progress_for, run_job, totals
from bulkops.errors import UsageError
from bulkops.jobs.bulk_import.spec import build_bulk_import
from bulkops.jobs.copy.spec import build_copy, parse_namespace_map
from bulkops.jobs.export.spec import build_export
from bulkops.jobs.figures import RunFigures
from bulkops.jobs.ids import IdsInput, prepare_ids
from bulkops.jobs.load.spec import build_load
from bulkops.jobs.purge.spec import build_purge
from bulkops.jobs.target import Access, TargetSpec

if TYPE_CHECKING:
    from bulkops.api import Client

__all__ = ["copy", "export", "import_", "load", "purge"]

checkpoint_option = click.option(
    "--checkpoint",
    multiple=True,
    metavar="PATH",
    help="Checkpoint file (SQLite). Rerunning with the same file resumes. Default: <output>.checkpoint "
    "(export), a new file under $XDG_STATE_HOME/bulkops/ (purge, load).",
)
storage_endpoint_option = click.option(
    "--storage-endpoint",
    multiple=True,
    metavar="URL",
    help="An S3-compatible store's URL for s3:// locations [env BULKOPS_STORAGE_ENDPOINT, AWS_ENDPOINT_URL]; "
    "credentials come from the usual environment (AWS_*, a profile, GOOGLE_APPLICATION_CREDENTIALS).",
)
prefix_option = click.option(
    "--prefix", "prefixes", multiple=True, metavar="P", help="Records whose ID starts with P (repeatable)."
)
ids_option = click.option(
    "--ids-file", multiple=True, metavar="PATH", help="The IDs in this file (one per line)."
)
filter_option = click.option("--filter", "filters", multiple=True, metavar="JSON", help="A metadata filter.")
allow_missing_option = click.option(
    "--allow-missing", is_flag=True, help="Go on without a --namespace that does not exist (default: refuse)."
)


def _namespaces(settings: Settings) -> dict[str, Any]:
    """``-n`` given none, once or several times, as the library's namespace arguments."""
    names = settings.namespaces
    if not names:
        return {}
    return {"namespace": names[0]} if len(names) == 1 else {"namespaces": list(names)}


def _checkpoint(values: tuple[str, ...]) -> Path | None:
    path = single(values, "--checkpoint")
    return Path(path).absolute() if path is not None else None


def _target(settings: Settings) -> TargetSpec:
    settings.target_required()
    return TargetSpec.build(
        index=settings.index,
        host=settings.host,
        controller_host=settings.controller_host,
        limits=settings.limits_spec() or "default",
        transport=settings.transport or "auto",
    )


def _ids(values: tuple[str, ...]) -> IdsInput | None:
    """The library's own IDs reader: the file is validated and counted once, here, and not re-read."""
    path = single(values, "--ids-file")
    return prepare_ids(path) if path is not None else None


def _selection(
    settings: Settings,
    *,
    all_namespaces: bool,
    allow_missing: bool,
    prefixes: tuple[str, ...],
    ids_file: tuple[str, ...],
    filters: tuple[str, ...],
) -> dict[str, Any]:
    """Which records of which namespaces, as purge, export and copy all take them: the build_*
    functions' namespace and selection arguments from ``-n``, ``--all-namespaces``, ``--allow-missing``,
    ``--prefix``, ``--ids-file`` and ``--filter``."""
    filter_text = single(filters, "--filter")
    return {
        **_namespaces(settings),
        "all_namespaces": all_namespaces,
        "allow_missing": allow_missing,
        "prefix": list(prefixes) or None,
        "ids": _ids(ids_file),
        "filter": parse_filter(filter_text) if filter_text is not None else None,
    }


@click.command()
@prefix_option
@ids_option
@filter_option
@click.option("--all", "everything", is_flag=True, help="Delete every record in the namespace(s).")
@click.option("--all-namespaces", is_flag=True, help="Every namespace of the index (instead of --namespace).")
@allow_missing_option
@click.option("--dry-run", is_flag=True, help="Count what would go and show a sample; delete nothing.")
@click.option("--max-delete", multiple=True, type=int, metavar="N", help="Refuse to delete more than N.")
@click.option(
    "--backup-first",
    is_flag=True,
    help="Back up the index (and wait until Ready) first. A backup leaves out records written in the "
    "15 minutes before it (Pinecone's backups); see --export-first.",
)
@click.option(
    "--export-first",
    multiple=True,
    metavar="PATH",
    help="Export exactly the targeted records to PATH.jsonl or PATH.parquet before deleting anything "
    "(resumable with the purge; no 15-minute window).",
)
@click.option(
    "--verify-delay",
    multiple=True,
    type=float,
    metavar="S",
    help="The longest to wait for the deletes to become visible before verifying (the wait itself is "
    "measured) [default: 5].",
)
@checkpoint_option
@yes_option
@global_options(with_env=False)
@pass_settings
def purge(
    settings: Settings,
    prefixes: tuple[str, ...],
    ids_file: tuple[str, ...],
    filters: tuple[str, ...],
    everything: bool,
    all_namespaces: bool,
    allow_missing: bool,
    dry_run: bool,
    max_delete: tuple[int, ...],
    backup_first: bool,
    export_first: tuple[str, ...],
    verify_delay: tuple[float, ...],
    checkpoint: tuple[str, ...],
    yes: bool,
) -> None:
    """Delete records by ID prefix, IDs file, metadata filter, or whole namespaces."""
    target = _target(settings)
    if everything and not settings.namespaces and not all_namespaces:
        raise UsageError("--all needs --namespace NS (use __default__ for the default namespace)")
    delay = single([str(d) for d in verify_delay], "--verify-delay")
    limit = single([str(m) for m in max_delete], "--max-delete")
    spec, ids = build_purge(
        target=target,
        **_selection(
            settings,
            all_namespaces=all_namespaces,
            allow_missing=allow_missing,
            prefixes=prefixes,
            ids_file=ids_file,
            filters=filters,
        ),
        everything=everything,
        max_delete=int(limit) if limit is not None else None,
        backup_first=backup_first,
        export_first=single(export_first, "--export-first"),
        verify_delay=float(delay) if delay is not None else 5.0,
        confirmed=True,
    )
    where = spec.target.describe()
    if not dry_run:
        confirm_destructive(
            settings.out, f"purge from {where}", lambda: preview_lines(settings, spec, ids), yes=yes
        )
    path = None if dry_run else (_checkpoint(checkpoint) or default_checkpoint_path("purge"))

    async def start(client: Client, view: JobProgress) -> RunFigures:
        from bulkops.jobs.purge.job import run_purge

        return await run_purge(
            spec,
            ids=ids,
            checkpoint=path,
            dry_run=dry_run,
            access=Access(client=client),
            progress=progress_for(view),
        )

    run_job(settings, Job("purge", f"purge {where}", path, start, *totals(spec)))


@click.command()
@prefix_option
@ids_option
@filter_option
@click.option("--all-namespaces", is_flag=True, help="Export every namespace (default: --namespace only).")
@allow_missing_option
@click.option("--overwrite", is_flag=True, help="Replace an existing output that is not this job's.")
@click.option(
    "--output",
    "-o",
    multiple=True,
    metavar="PATH",
    help="PATH.jsonl (one record per line) or PATH.parquet (a directory of part files); a local path or "
    "s3://BUCKET/PREFIX/NAME, gs://..., file:///... (JSONL there: numbered part objects).",
)
@click.option(
    "--for-bulk-import",
    is_flag=True,
    help="Write the layout Pinecone's bulk import reads: --output is the import directory "
    "(<dir>/<namespace>/*.parquet, names taken literally); refuses what that import would reject.",
)
@storage_endpoint_option
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def export(
    settings: Settings,
    prefixes: tuple[str, ...],
    ids_file: tuple[str, ...],
    filters: tuple[str, ...],
    all_namespaces: bool,
    allow_missing: bool,
    overwrite: bool,
    output: tuple[str, ...],
    for_bulk_import: bool,
    storage_endpoint: tuple[str, ...],
    checkpoint: tuple[str, ...],
) -> None:
    """Write records (id, values, sparse values, metadata) to JSONL or Parquet, exactly once, on the
    local disk or in object storage."""
    target = _target(settings)
    path = single(output, "--output")
    if path is None:
        raise UsageError("say where to export to: --output PATH.jsonl or PATH.parquet")
    spec, ids = build_export(
        output=path,
        target=target,
        **_selection(
            settings,
            all_namespaces=all_namespaces,
            allow_missing=allow_missing,
            prefixes=prefixes,
            ids_file=ids_file,
            filters=filters,
        ),
        overwrite=overwrite,
        strict_output=True,
        for_bulk_import=for_bulk_import,
        storage_endpoint=single(storage_endpoint, "--storage-endpoint"),
    )
    journal = _checkpoint(checkpoint) or spec.default_checkpoint()

    async def start(client: Client, view: JobProgress) -> RunFigures:
        from bulkops.jobs.export.job import run_export

        return await run_export(
            spec, ids=ids, checkpoint=journal, access=Access(client=client), progress=progress_for(view)
        )

    run_job(settings, Job("export", f"export {spec.target.describe()}", journal, start, *totals(spec)))


@click.command("load")
@click.option(
    "--input",
    "-i",
    "input_",
    multiple=True,
    metavar="PATH",
    help="A bulkops export: a local path, or s3://..., gs://... (a finished export).",
)
@click.option(
    "--on-error",
    type=click.Choice(["stop", "skip", "continue", "abort"]),
    default=None,
    help="A record the index refuses: stop there (nothing after it is sent; the default), or skip it: "
    "report it and go on (exit 3 at the end). With --via-bulk-import, Pinecone's errorMode: continue "
    "(the default) or abort.",
)
@click.option(
    "--via-bulk-import",
    "via_bulk_import",
    multiple=True,
    metavar="URI",
    help="Have Pinecone import this directory (s3://BUCKET/DIR/, gs://...; written by export "
    "--for-bulk-import) instead of upserting: not bound by the upsert limits, into new namespaces only.",
)
@click.option(
    "--integration-id", multiple=True, metavar="ID", help="Pinecone's storage integration (a private bucket)."
)
@click.option(
    "--no-layout-check",
    is_flag=True,
    help="With --via-bulk-import: do not list the directory first (when only Pinecone's integration can "
    "read it).",
)
@storage_endpoint_option
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def load(
    settings: Settings,
    input_: tuple[str, ...],
    on_error: str | None,
    via_bulk_import: tuple[str, ...],
    integration_id: tuple[str, ...],
    no_layout_check: bool,
    storage_endpoint: tuple[str, ...],
    checkpoint: tuple[str, ...],
) -> None:
    """Upsert an export (JSONL or Parquet) into an index, in 1000-record / 2 MB batches; or, with
    --via-bulk-import, start Pinecone's bulk import of a directory and follow it to the end.

    Records go to --namespace, or (without it) to the namespaces the export recorded. ``bulkops import``
    is the same command (Pinecone's word for it).
    """
    target = _target(settings)
    source = single(input_, "--input")
    endpoint = single(storage_endpoint, "--storage-endpoint")
    uri = single(via_bulk_import, "--via-bulk-import")
    if uri is not None:
        if source is not None:
            raise UsageError("give either --input PATH (upserts) or --via-bulk-import URI, not both")
        _bulk_import(settings, target, uri, on_error, single(integration_id, "--integration-id"),
                     not no_layout_check, endpoint, checkpoint)  # fmt: skip
        return
    if integration_id or no_layout_check:
        raise UsageError("--integration-id and --no-layout-check go with --via-bulk-import URI")
    if on_error in ("continue", "abort"):
        raise UsageError(
            f"--on-error {on_error} is for --via-bulk-import; an upserting import takes stop or skip"
        )
    if source is None:
        raise UsageError("say what to import: --input PATH (a JSONL file or a Parquet export directory)")
    spec = build_load(
        input=source,
        target=target,
        namespace=settings.namespace,
        on_error=on_error or "stop",
        storage_endpoint=endpoint,
    )
    journal = _checkpoint(checkpoint) or default_checkpoint_path("load")

    async def start(client: Client, view: JobProgress) -> RunFigures:
        from bulkops.jobs.load.job import run_load

        return await run_load(
            spec, checkpoint=journal, access=Access(client=client), progress=progress_for(view)
        )

    run_job(settings, Job("load", f"load into {spec.target.describe()}", journal, start, *totals(spec)))


import_ = load  # ``bulkops import``: registered under both names (bulkops.cli.main.COMMANDS)


def _bulk_import(
    settings: Settings,
    target: TargetSpec,
    uri: str,
    on_error: str | None,
    integration_id: str | None,
    check_layout: bool,
    storage_endpoint: str | None,
    checkpoint: tuple[str, ...],
) -> None:
    """``import --via-bulk-import URI``: the bulk import job (checkpoint: a file named after the URI and
    the index, so the same command run again follows the same import rather than starting another)."""
    if settings.namespaces:
        raise UsageError(
            "--namespace does not apply to --via-bulk-import: each directory under the URI is a namespace"
        )
    if on_error in ("stop", "skip"):
        raise UsageError(
            f"--on-error {on_error} is for upserting imports; --via-bulk-import takes continue or abort"
        )
    spec = build_bulk_import(
        uri=uri,
        target=target,
        integration_id=integration_id,
        on_error=on_error or "continue",
        check_layout=check_layout,
        storage_endpoint=storage_endpoint,
    )
    journal = _checkpoint(checkpoint) or spec.default_checkpoint()

    async def start(client: Client, view: JobProgress) -> RunFigures:
        from bulkops.jobs.bulk_import.job import run_bulk_import

        return await run_bulk_import(
            spec, checkpoint=journal, access=Access(client=client), progress=progress_for(view)
        )

    run_job(settings, Job("bulk_import", f"bulk import into {spec.target.describe()}", journal, start))


@click.command("copy")
@prefix_option
@ids_option
@filter_option
@click.option("--all-namespaces", is_flag=True, help="Copy every namespace (default: --namespace only).")
@allow_missing_option
@click.option("--to-index", multiple=True, metavar="NAME", help="The destination index (created if missing).")
@click.option("--to-host", multiple=True, metavar="URL", help="The destination index's host, instead.")
@click.option(
    "--to-api-key",
    multiple=True,
    envvar="PINECONE_TO_API_KEY",
    metavar="KEY",
    help="The destination project's API key [env PINECONE_TO_API_KEY; default: --api-key]. Never logged.",
)
@click.option(
    "--to-controller-host",
    multiple=True,
    envvar="PINECONE_TO_CONTROLLER_HOST",
    metavar="URL",
    help="The destination's control plane [env PINECONE_TO_CONTROLLER_HOST; default: --controller-host].",
)
@click.option(
    "--namespace-map",
    "namespace_map",
    multiple=True,
    metavar="SRC=DST",
    help="Copy namespace SRC into DST (repeatable; __default__ is the default namespace).",
)
@click.option("--to-cloud", multiple=True, metavar="CLOUD", help="Create the destination in this cloud.")
@click.option("--to-region", multiple=True, metavar="REGION", help="Create the destination in this region.")
@click.option("--no-create", is_flag=True, help="Refuse if the destination index does not exist.")
@click.option(
    "--dry-run", is_flag=True, help="Count, check the destination, estimate requests and time; copy nothing."
)
@click.option(
    "--verify-sample",
    multiple=True,
    type=int,
    metavar="N",
    help="Also compare N random copied records on both sides (values bit for bit, metadata) [default: 0].",
)
@click.option(
    "--verify-delay",
    multiple=True,
    type=float,
    metavar="S",
    help="The longest to wait for the destination's counts to catch up [default: 5].",
)
@click.option("--no-verify", is_flag=True, help="Skip the verification of counts per namespace.")
@checkpoint_option
@global_options(with_env=False)
@pass_settings
def copy(
    settings: Settings,
    prefixes: tuple[str, ...],
    ids_file: tuple[str, ...],
    filters: tuple[str, ...],
    all_namespaces: bool,
    allow_missing: bool,
    to_index: tuple[str, ...],
    to_host: tuple[str, ...],
    to_api_key: tuple[str, ...],
    to_controller_host: tuple[str, ...],
    namespace_map: tuple[str, ...],
    to_cloud: tuple[str, ...],
    to_region: tuple[str, ...],
    no_create: bool,
    dry_run: bool,
    verify_sample: tuple[int, ...],
    verify_delay: tuple[float, ...],
    no_verify: bool,
    checkpoint: tuple[str, ...],
) -> None:
    """Copy records to another index: in this project, another project (--to-api-key) or region.

    Streams list → fetch on the source and upsert into the destination (no file in between), at the
    pace of whichever side's limits bind; resumable from its checkpoint (bulkops resume CHECKPOINT).
    """
    source = _target(settings)
    dest_index, dest_host = single(to_index, "--to-index"), single(to_host, "--to-host")
    if dest_index and dest_host:
        raise UsageError("give either --to-index NAME or --to-host URL, not both")
    if not dest_index and not dest_host:
        raise UsageError("where to? give --to-index NAME (created if missing) or --to-host URL")
    key = single(to_api_key, "--to-api-key")
    destination = TargetSpec.build(
        index=dest_index,
        host=dest_host,
        controller_host=single(to_controller_host, "--to-controller-host") or settings.controller_host,
        limits=settings.limits_spec() or "default",
        opened=True,
    )
    sample = single([str(n) for n in verify_sample], "--verify-sample")
    delay = single([str(d) for d in verify_delay], "--verify-delay")
    spec, ids = build_copy(
        source=source,
        destination=destination,
        **_selection(
            settings,
            all_namespaces=all_namespaces,
            allow_missing=allow_missing,
            prefixes=prefixes,
            ids_file=ids_file,
            filters=filters,
        ),
        namespace_map=parse_namespace_map(namespace_map),
        verify=not no_verify,
        verify_sample=int(sample) if sample is not None else 0,
        verify_delay=float(delay) if delay is not None else 5.0,
        create=not no_create,
        cloud=single(to_cloud, "--to-cloud"),
        region=single(to_region, "--to-region"),
    )
    path = None if dry_run else (_checkpoint(checkpoint) or default_checkpoint_path("copy"))

    async def start(client: Client, view: JobProgress) -> RunFigures:
        from bulkops.jobs.copy.job import run_copy

        return await run_copy(
            spec,
            ids=ids,
            checkpoint=path,
            dry_run=dry_run,
            access=Access(client=client),
            to_access=Access(api_key=key),
            progress=progress_for(view),
        )

    run_job(settings, Job("copy", f"copy to {spec.destination.describe()}", path, start, *totals(spec)))
