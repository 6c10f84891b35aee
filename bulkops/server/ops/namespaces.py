"""The namespaces API: list, describe, create, delete. The default namespace is named ``__default__``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkops.server.context import (
    DEFAULT_ALIAS,
    IndexContext,
    decode_token,
    encode_token,
    namespace_of,
    parse_limit,
)
from bulkops.server.problems import ApiProblem

__all__ = [
    "NamespaceInfo",
    "NamespacePage",
    "create_namespace",
    "delete_namespace",
    "describe_namespace",
    "list_namespaces",
]


@dataclass(frozen=True, slots=True)
class NamespaceInfo:
    """One namespace as described: its name (``__default__`` for ``""``) and live record count;
    ``indexed_fields`` is reported from API 2025-10."""

    name: str
    record_count: int
    indexed_fields: bool


@dataclass(frozen=True, slots=True)
class NamespacePage:
    namespaces: list[NamespaceInfo]
    next_token: str | None
    total_count: int | None  # from API 2025-10


def _info(name: str, count: int, version: str) -> NamespaceInfo:
    return NamespaceInfo(name or DEFAULT_ALIAS, count, version >= "2025-10")


async def list_namespaces(
    ctx: IndexContext, *, version: str, limit: Any, token: Any, prefix: str
) -> NamespacePage:
    size = parse_limit(limit, default=100, maximum=ctx.config.list_page_max)
    after = decode_token(token, str)
    counts = [
        (ns, n) for ns, n in ctx.store.namespace_counts().items() if (ns or DEFAULT_ALIAS).startswith(prefix)
    ]
    page = [(ns, n) for ns, n in counts if after is None or ns > after][: size + 1]
    following = encode_token({"skip_past": page[size - 1][0]}) if len(page) > size else None
    return NamespacePage(
        [_info(ns, n, version) for ns, n in page[:size]],
        following,
        len(counts) if version >= "2025-10" else None,
    )


async def describe_namespace(ctx: IndexContext, *, version: str, name: Any) -> NamespaceInfo:
    ns, echo = namespace_of(name, version)
    if not ctx.store.namespace_exists(ns):
        raise ApiProblem(404, "Namespace not found")
    return _info(echo, ctx.store.count(ns), version)


async def delete_namespace(ctx: IndexContext, *, version: str, name: Any) -> None:
    ns, _ = namespace_of(name, version)
    await ctx.admission.admit("delete", ctx.meta.name, ns)
    if not ctx.store.delete_namespace(ns):
        raise ApiProblem(404, "Namespace not found")


async def create_namespace(ctx: IndexContext, *, version: str, name: Any) -> NamespaceInfo:
    """Create an empty namespace (409 if it exists). Its schema is echoed by the adapters, not kept."""
    if not isinstance(name, str) or not name:
        raise ApiProblem(400, "name must be a non-empty string.")
    ns, echo = namespace_of(name, version)
    if not ctx.store.create_namespace(ns, ctx.clock.wall()):
        raise ApiProblem(409, f"Namespace {echo} already exists")
    return _info(echo, 0, version)
