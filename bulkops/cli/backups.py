"""``bulkops backups create|describe|list|delete|restore`` and ``bulkops restore-jobs list|describe``."""

from __future__ import annotations

from typing import Any

import click

from bulkops.cli.common import WAIT_POLL_SECONDS, as_dict, first_items, open_client, parse_pairs
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings, run_async
from bulkops.cli.indexes import protection
from bulkops.errors import UsageError

__all__ = ["backups", "restore_jobs"]

_BACKUP_COLUMNS = (
    "backup_id",
    "name",
    "source_index_name",
    "status",
    "record_count",
    "namespace_count",
    "size_bytes",
    "created_at",
)
_JOB_COLUMNS = (
    "restore_job_id",
    "backup_id",
    "target_index_name",
    "status",
    "percent_complete",
    "created_at",
    "completed_at",
)


@click.group()
def backups() -> None:
    """Create, list, describe, delete and restore backups."""


@backups.command()
@click.option("--name", "backup_name", metavar="NAME", help="A name for the backup.")
@click.option("--description", metavar="TEXT")
@click.option("--wait/--no-wait", default=True, help="Wait until the backup is Ready (default: wait).")
@global_options(with_env=False)
@pass_settings
def create(settings: Settings, backup_name: str | None, description: str | None, wait: bool) -> None:
    """Back up the index given by --index."""
    if not settings.index:
        raise UsageError("backups create needs --index NAME (the index to back up)")
    index = settings.index

    async def go() -> Any:
        async with open_client(settings) as client:
            model = await client.control.create_backup(index, name=backup_name, description=description)
            if wait:
                model = await client.control.wait_until_backup_ready(
                    as_dict(model)["backup_id"], poll_interval=WAIT_POLL_SECONDS
                )
            return model

    settings.out.record(as_dict(run_async(go)), title="backup")


@backups.command()
@click.argument("backup_id")
@global_options(with_env=False)
@pass_settings
def describe(settings: Settings, backup_id: str) -> None:
    """One backup: status, record and namespace counts, size."""

    async def go() -> Any:
        async with open_client(settings) as client:
            return await client.control.describe_backup(backup_id)

    settings.out.record(as_dict(run_async(go)), title=f"backup {backup_id}")


@backups.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N backups (default: all).")
@global_options(with_env=False)
@pass_settings
def list_(settings: Settings, limit: int | None) -> None:
    """Backups of --index, or of the whole project; follows pagination."""

    async def go() -> list[Any]:
        async with open_client(settings) as client:
            return await first_items(
                lambda page: client.control.iter_backups(index_name=settings.index, limit=page), limit
            )

    rows = [as_dict(b) for b in run_async(go)]
    if limit is not None:
        rows = rows[:limit]
    title = f"backups of {settings.index}" if settings.index else "backups in the project"
    settings.out.table(rows, _BACKUP_COLUMNS, title=title)


@backups.command()
@click.argument("backup_id")
@yes_option
@global_options(with_env=False)
@pass_settings
def delete(settings: Settings, backup_id: str, yes: bool) -> None:
    """Delete a backup (refused by the API while a restore from it is pending)."""

    async def go() -> None:
        async with open_client(settings) as client:
            model = as_dict(await client.control.describe_backup(backup_id))
            confirm_destructive(
                settings.out,
                f"delete backup {backup_id}",
                [
                    f"backup {backup_id} ({model.get('name') or 'unnamed'}) of index "
                    f"{model.get('source_index_name')}: {model.get('record_count')} records"
                ],
                yes=yes,
            )
            await client.control.delete_backup(backup_id)

    run_async(go)
    if settings.json:
        settings.out.document({"deleted": backup_id})
    else:
        settings.out.info(f"deleted backup {backup_id}")


@backups.command()
@click.argument("backup_id")
@click.option("--name", "index_name", required=True, metavar="INDEX", help="Name of the new index.")
@click.option("--deletion-protection", type=click.Choice(["enabled", "disabled"]))
@click.option("--tag", "tags", multiple=True, metavar="K=V")
@click.option("--wait/--no-wait", default=False, help="Wait until the restore job completes.")
@global_options(with_env=False)
@pass_settings
def restore(
    settings: Settings,
    backup_id: str,
    index_name: str,
    deletion_protection: str | None,
    tags: tuple[str, ...],
    wait: bool,
) -> None:
    """Create a new index from a backup."""
    tag_map = parse_pairs(tags, "--tag")

    async def go() -> dict[str, Any]:
        async with open_client(settings) as client:
            started = as_dict(
                await client.control.create_index_from_backup(
                    backup_id,
                    name=index_name,
                    deletion_protection=protection(deletion_protection),
                    tags=tag_map or None,
                )
            )
            if wait:
                job = await client.control.wait_until_restore_done(
                    started["restore_job_id"], poll_interval=WAIT_POLL_SECONDS
                )
                return as_dict(job)
            return started

    settings.out.record(run_async(go), title=f"restore into {index_name}")


@click.group("restore-jobs")
def restore_jobs() -> None:
    """Follow restores from backups."""


@restore_jobs.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N jobs (default: all).")
@global_options(with_env=False)
@pass_settings
def jobs_list(settings: Settings, limit: int | None) -> None:
    """Every restore job in the project; follows pagination."""

    async def go() -> list[Any]:
        async with open_client(settings) as client:
            return await first_items(lambda page: client.control.iter_restore_jobs(limit=page), limit)

    rows = [as_dict(j) for j in run_async(go)]
    if limit is not None:
        rows = rows[:limit]
    settings.out.table(rows, _JOB_COLUMNS, title="restore jobs")


@restore_jobs.command("describe")
@click.argument("job_id")
@global_options(with_env=False)
@pass_settings
def jobs_describe(settings: Settings, job_id: str) -> None:
    """One restore job: status and percent complete."""

    async def go() -> Any:
        async with open_client(settings) as client:
            return await client.control.describe_restore_job(job_id)

    settings.out.record(as_dict(run_async(go)), title=f"restore job {job_id}")
