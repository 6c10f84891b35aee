"""``bulkops indexes list|describe|create|configure|delete`` — the seed docs' index management."""

from __future__ import annotations

from typing import Any, Literal

import click

from bulkops.cli.common import WAIT_POLL_SECONDS, as_dict, open_client, parse_pairs
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings, run_async
from bulkops.errors import UsageError

__all__ = ["index_row", "indexes", "protection"]

_COLUMNS = ("name", "dimension", "metric", "vector_type", "status", "deletion_protection", "host", "tags")


def index_row(model: Any) -> dict[str, Any]:
    """One index as a flat row: ``status`` is the state, the rest as the API gives it."""
    doc = as_dict(model)
    status = doc.get("status")
    if isinstance(status, dict):
        doc["status"] = status.get("state") or ("Ready" if status.get("ready") else "")
    return doc


@click.group()
def indexes() -> None:
    """List, describe, create, configure and delete indexes."""


@indexes.command("list")
@global_options(with_env=False)
@pass_settings
def list_(settings: Settings) -> None:
    """Every index in the project."""

    async def go() -> list[Any]:
        async with open_client(settings) as client:
            return list(await client.control.list_indexes())

    models = run_async(go)
    settings.out.table([index_row(m) for m in models], _COLUMNS, title="indexes")


@indexes.command()
@click.argument("name")
@global_options(with_env=False)
@pass_settings
def describe(settings: Settings, name: str) -> None:
    """One index: host, dimension, metric, status, deletion protection, tags, embed."""

    async def go() -> Any:
        async with open_client(settings) as client:
            return await client.control.describe_index(name)

    settings.out.record(index_row(run_async(go)), title=f"index {name}")


@indexes.command()
@click.argument("name")
@click.option("--dimension", type=click.IntRange(1, 20_000), help="Vector dimension (dense indexes).")
@click.option(
    "--metric",
    type=click.Choice(["cosine", "euclidean", "dotproduct"]),
    help="Default: cosine for dense indexes, dotproduct (the only choice) for sparse ones.",
)
@click.option("--vector-type", type=click.Choice(["dense", "sparse"]), default="dense")
@click.option("--cloud", type=click.Choice(["aws", "gcp", "azure"]), default="aws")
@click.option("--region", default="us-east-1")
@click.option("--deletion-protection", type=click.Choice(["enabled", "disabled"]), default="disabled")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="A tag (repeatable).")
@click.option("--wait/--no-wait", default=True, help="Wait until the index is Ready (default: wait).")
@global_options(with_env=False)
@pass_settings
def create(
    settings: Settings,
    name: str,
    dimension: int | None,
    metric: str | None,
    vector_type: str,
    cloud: str,
    region: str,
    deletion_protection: str,
    tags: tuple[str, ...],
    wait: bool,
) -> None:
    """Create a serverless index."""
    if vector_type == "dense" and dimension is None:
        raise UsageError("a dense index needs --dimension N")
    if vector_type == "sparse" and dimension is not None:
        raise UsageError("a sparse index takes no --dimension")
    if metric is None:
        metric = "dotproduct" if vector_type == "sparse" else "cosine"
    tag_map = parse_pairs(tags, "--tag")

    async def go() -> Any:
        async with open_client(settings) as client:
            model = await client.control.create_index(
                name=name,
                dimension=dimension,
                metric=metric,
                vector_type="sparse" if vector_type == "sparse" else "dense",
                cloud=cloud,
                region=region,
                deletion_protection=protection(deletion_protection) or "disabled",
                tags=tag_map or None,
            )
            if wait:
                model = await client.control.wait_until_index_ready(name, poll_interval=WAIT_POLL_SECONDS)
            return model

    settings.out.record(index_row(run_async(go)), title=f"created index {name}")


@indexes.command()
@click.argument("name")
@click.option("--deletion-protection", type=click.Choice(["enabled", "disabled"]))
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Add or change a tag (repeatable).")
@click.option("--remove-tag", "removed", multiple=True, metavar="K", help="Remove a tag (repeatable).")
@click.option("--embed-model", metavar="MODEL", help="Turn on integrated embedding with this model.")
@click.option("--field-map", "field_map", multiple=True, metavar="text=FIELD", help="Embed field map.")
@global_options(with_env=False)
@pass_settings
def configure(
    settings: Settings,
    name: str,
    deletion_protection: str | None,
    tags: tuple[str, ...],
    removed: tuple[str, ...],
    embed_model: str | None,
    field_map: tuple[str, ...],
) -> None:
    """Change deletion protection, tags (merged; --remove-tag drops one) or integrated embedding."""
    tag_map: dict[str, str] = parse_pairs(tags, "--tag")
    for key in removed:
        if key in tag_map:
            raise UsageError(f"tag {key!r} is both set with --tag and removed with --remove-tag")
        tag_map[key] = ""  # the API removes a tag whose value is ""
    embed: dict[str, Any] | None = None
    if field_map and not embed_model:
        raise UsageError("--field-map needs --embed-model")
    if embed_model:
        if not field_map:
            raise UsageError("--embed-model needs --field-map text=FIELD (which record field to embed)")
        embed = {"model": embed_model, "field_map": parse_pairs(field_map, "--field-map")}
    if deletion_protection is None and not tag_map and embed is None:
        raise UsageError(
            "nothing to change: give --deletion-protection, --tag, --remove-tag or --embed-model"
        )

    async def go() -> Any:
        async with open_client(settings) as client:
            return await client.control.configure_index(
                name,
                deletion_protection=protection(deletion_protection),
                tags=tag_map or None,
                embed=embed,
            )

    settings.out.record(index_row(run_async(go)), title=f"configured index {name}")


@indexes.command()
@click.argument("name")
@yes_option
@global_options(with_env=False)
@pass_settings
def delete(settings: Settings, name: str, yes: bool) -> None:
    """Delete an index and every record in it (refused while deletion protection is on)."""

    async def go() -> None:
        async with open_client(settings) as client:
            model = index_row(await client.control.describe_index(name))
            if model.get("deletion_protection") == "enabled":
                from bulkops.errors import DeletionProtectedError

                raise DeletionProtectedError(
                    403,
                    f"index {name} has deletion protection enabled; nothing was deleted. To delete it, run "
                    f"`bulkops indexes configure {name} --deletion-protection disabled` first",
                    code="FORBIDDEN",
                )
            stats = await _record_count(client, model)
            confirm_destructive(
                settings.out,
                f"delete index {name}",
                [f"index {name} ({model.get('host')})", f"{stats} records, and the index itself"],
                yes=yes,
            )
            await client.control.delete_index(name)

    run_async(go)
    if settings.json:
        settings.out.document({"deleted": name})
    else:
        settings.out.info(f"deleted index {name}")


def protection(value: str | None) -> Literal["enabled", "disabled"] | None:
    """The click choice, typed as the client wants it."""
    if value is None:
        return None
    return "enabled" if value == "enabled" else "disabled"


async def _record_count(client: Any, model: dict[str, Any]) -> str:
    """How many records the index holds, for the confirmation (best effort: 'unknown' on failure)."""
    try:
        data = client.index_at(str(model["host"]))
        stats = await data.describe_index_stats()
        return f"{int(stats.get('totalVectorCount', 0)):,}"
    except Exception:
        return "an unknown number of"
