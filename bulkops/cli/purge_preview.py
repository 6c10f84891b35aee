"""What the purge confirmation shows: where (the project's controller host, the index and its host, the
namespaces) and how much, from a quick dry run that stops counting past :data:`PREVIEW_CAP`.

Only run when someone will be asked (a terminal and no ``--yes``): scripts pay nothing for it.
"""

from __future__ import annotations

from bulkops.api.config import DEFAULT_CONTROLLER_HOST
from bulkops.cli.common import open_client
from bulkops.cli.context import Settings, run_async
from bulkops.cli.output import shorten
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import label
from bulkops.jobs.purge.job import run_purge
from bulkops.jobs.purge.report import PurgeReport
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.target import Access, open_target

__all__ = ["PREVIEW_CAP", "preview_lines"]

# Counting stops past this many records: at Pinecone's default list rate (200 req/s x 100 IDs) it is
# half a second of listing, and beyond it the exact number changes nothing about the decision.
PREVIEW_CAP = 10_000


def preview_lines(settings: Settings, spec: PurgeSpec, ids: IdsInput | None) -> list[str]:
    """The lines of the confirmation: target, namespaces, selection, count, options."""

    async def look() -> tuple[str | None, PurgeReport]:
        async with open_client(settings) as client:
            access = Access(client=client)
            async with open_target(spec.target, access) as target:
                host = target.spec.host
            report = await run_purge(
                spec,
                ids=ids,
                dry_run=True,
                access=access,
                count_limit=PREVIEW_CAP,
                sample_size=3,
            )
            return host, report

    settings.out.info("counting what the purge would delete (a quick dry run)...")
    host, report = run_async(look)
    controller = settings.controller_host or spec.target.controller_host or DEFAULT_CONTROLLER_HOST
    index = f"index {spec.target.index!r}" if spec.target.index else "the index"
    lines = [
        f"project at {controller}: {index} at {host or spec.target.host}",
        f"namespace(s): {', '.join(repr(label(ns)) for ns in report.namespaces) or '(none)'}",
        shorten(spec.selection.describe()),
        _count_line(spec, report),
    ]
    if spec.options.export_first is not None:
        lines.append(f"the targeted records are exported to {spec.options.export_first} first")
    if spec.options.backup_first:
        lines.append(
            "a backup of the index is made first; it may lack records written in the last 15 minutes"
            + ("" if spec.options.export_first else " (--export-first PATH keeps those too)")
        )
    elif spec.options.export_first is None:
        lines.append("no backup first")
    if spec.options.max_delete is not None:
        lines.append(f"refused if more than {spec.options.max_delete:,} records would go")
    return lines


def _count_line(spec: PurgeSpec, report: PurgeReport) -> str:
    found = report.would_delete
    sample = f" (e.g. {', '.join(report.sample)})" if report.sample else ""
    if found is None:
        return f"count unknown: {'; '.join(report.notes) or 'the index cannot count them'}"
    if spec.plan == "delete_ids":
        return f"up to {found:,} records: the IDs given, in each namespace (IDs not found are skipped)"
    if found > PREVIEW_CAP:
        return f"more than {PREVIEW_CAP:,} records (counting stopped there){sample}"
    return f"{found:,} records, counted just now{sample}"
