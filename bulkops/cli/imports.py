"""``bulkops imports list|describe|cancel``: Pinecone's bulk imports of one index (``--index`` or
``--host``). Starting one is ``bulkops import --via-bulk-import URI``, a resumable job (:mod:`.jobs`)."""

from __future__ import annotations

from typing import Any

import click

from bulkops.cli.common import as_dict, first_items, open_client
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings, run_async
from bulkops.errors import UsageError

__all__ = ["imports"]

_COLUMNS = ("id", "status", "percentComplete", "recordsImported", "uri", "createdAt", "finishedAt", "error")


@click.group()
def imports() -> None:
    """List, describe and cancel an index's bulk imports (start one: bulkops import --via-bulk-import)."""


async def _client(settings: Settings, client: Any) -> Any:
    settings.target_required()
    return await client.bulk_imports(settings.index, host=settings.host)


@imports.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N imports (default: all).")
@global_options(with_env=False)
@pass_settings
def list_(settings: Settings, limit: int | None) -> None:
    """The imports of the index, oldest first; follows pagination."""

    async def go() -> list[Any]:
        async with open_client(settings) as client:
            imports = await _client(settings, client)
            return await first_items(lambda page: imports.iter_imports(limit=page), limit)

    settings.out.table([as_dict(i) for i in run_async(go)], _COLUMNS, title="bulk imports")


@imports.command()
@click.argument("import_id")
@global_options(with_env=False)
@pass_settings
def describe(settings: Settings, import_id: str) -> None:
    """One import: status, percent complete, records imported, error."""

    async def go() -> Any:
        async with open_client(settings) as client:
            return await (await _client(settings, client)).describe_import(import_id)

    settings.out.record(as_dict(run_async(go)), title=f"bulk import {import_id}")


@imports.command()
@click.argument("import_id")
@yes_option
@global_options(with_env=False)
@pass_settings
def cancel(settings: Settings, import_id: str, yes: bool) -> None:
    """Cancel an import that has not finished (Pinecone may keep records it already wrote)."""

    async def go() -> Any:
        async with open_client(settings) as client:
            bulk = await _client(settings, client)
            model = as_dict(await bulk.describe_import(import_id))
            if model.get("status") in ("Completed", "Failed", "Cancelled"):
                raise UsageError(
                    f"import {import_id} has already finished ({model.get('status')}); there is nothing "
                    "to cancel"
                )
            confirm_destructive(
                settings.out,
                f"cancel bulk import {import_id}",
                [
                    f"import {import_id} of {model.get('uri')} ({model.get('status')}, "
                    f"{model.get('recordsImported', 0)} records so far)",
                    "records it already wrote may stay in the index",
                ],
                yes=yes,
            )
            await bulk.cancel_import(import_id)
            return await bulk.describe_import(import_id)

    settings.out.record(as_dict(run_async(go)), title=f"bulk import {import_id}")
