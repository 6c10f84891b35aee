"""``bulkops namespaces list|delete`` — the namespaces API of one index (--index or --host)."""

from __future__ import annotations

from typing import Any

import click

from bulkops.cli.common import open_client, open_data_plane
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings, run_async
from bulkops.errors import NotFoundError
from bulkops.jobs.namespaces import label, normalize

__all__ = ["namespaces"]


@click.group()
def namespaces() -> None:
    """List and delete the namespaces of an index."""


@namespaces.command("list")
@click.option("--prefix", metavar="P", help="Only namespaces whose name starts with P.")
@global_options(with_env=False)
@pass_settings
def list_(settings: Settings, prefix: str | None) -> None:
    """Every namespace of the index, with its record count."""

    async def go() -> list[dict[str, Any]]:
        async with open_client(settings) as client:
            data = await open_data_plane(client, settings)
            return [dict(ns) for ns in await data.list_namespaces(prefix=prefix)]

    rows = run_async(go)
    for row in rows:
        row["name"] = label(str(row.get("name") or ""))
    settings.out.table(rows, ("name", "record_count"), title="namespaces")


@namespaces.command()
@click.argument("name")
@yes_option
@global_options(with_env=False)
@pass_settings
def delete(settings: Settings, name: str, yes: bool) -> None:
    """Delete a namespace and every record in it."""

    async def go() -> None:
        async with open_client(settings) as client:
            data = await open_data_plane(client, settings)
            found = {str(ns.get("name")): ns for ns in await data.list_namespaces(prefix=name)}
            wanted = normalize(name)
            if wanted not in found and name not in found:
                raise NotFoundError(404, f"namespace {name!r} does not exist in this index", code=5)
            entry = found.get(wanted) or found.get(name) or {}
            confirm_destructive(
                settings.out,
                f"delete namespace {name}",
                [f"namespace {name} of {data.host}: {entry.get('record_count', '?')} records"],
                yes=yes,
            )
            await data.delete_namespace(name)

    run_async(go)
    if settings.json:
        settings.out.document({"deleted_namespace": name})
    else:
        settings.out.info(f"deleted namespace {name}")
