"""The namespaces API (snake_case JSON): list, describe, create, delete.

The default namespace is listed and addressed as ``__default__``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulkops.server.context import (
    CONTEXT,
    DEFAULT_ALIAS,
    decode_token,
    encode_token,
    namespace_of,
    parse_limit,
)
from bulkops.server.wire import ApiProblem, api_version, json_response, read_json_object

__all__ = ["add_namespace_routes"]


def _description(name: str, count: int, version: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name or DEFAULT_ALIAS, "record_count": count}
    if version >= "2025-10":
        doc["indexed_fields"] = {"fields": []}
    return doc


async def list_namespaces(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    version = api_version(request)
    limit = parse_limit(request.query.get("limit"), default=100, maximum=ctx.config.list_page_max)
    after = decode_token(request.query.get("paginationToken"))
    prefix = request.query.get("prefix", "")
    counts = [
        (ns, n) for ns, n in ctx.store.namespace_counts().items() if (ns or DEFAULT_ALIAS).startswith(prefix)
    ]
    page = [(ns, n) for ns, n in counts if after is None or ns > after][: limit + 1]
    body: dict[str, Any] = {"namespaces": [_description(ns, n, version) for ns, n in page[:limit]]}
    if len(page) > limit:
        body["pagination"] = {"next": encode_token({"skip_past": page[limit - 1][0]})}
    if version >= "2025-10":
        body["total_count"] = len(counts)
    return json_response(body)


async def describe_namespace(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    version = api_version(request)
    ns, echo = namespace_of(request.match_info["namespace"], version)
    if not ctx.store.namespace_exists(ns):
        raise ApiProblem(404, "Namespace not found")
    return json_response(_description(echo, ctx.store.count(ns), version))


async def delete_namespace(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    ns, _ = namespace_of(request.match_info["namespace"], api_version(request))
    await ctx.admission.admit("delete", ctx.meta.name, ns)
    if not ctx.store.delete_namespace(ns):
        raise ApiProblem(404, "Namespace not found")
    return json_response({})


async def create_namespace(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    version = api_version(request)
    doc = await read_json_object(request, plane="data")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ApiProblem(400, "name must be a non-empty string.")
    ns, echo = namespace_of(name, version)
    schema = doc.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ApiProblem(400, 'schema must be an object like {"fields": {"genre": {"filterable": true}}}.')
    if not ctx.store.create_namespace(ns, ctx.clock.wall()):
        raise ApiProblem(409, f"Namespace {echo} already exists")
    body = _description(echo, 0, version)
    if schema is not None:
        body["schema"] = schema
    return json_response(body)


def add_namespace_routes(app: web.Application) -> None:
    app.router.add_get("/namespaces", list_namespaces)
    app.router.add_post("/namespaces", create_namespace)
    app.router.add_get("/namespaces/{namespace}", describe_namespace)
    app.router.add_delete("/namespaces/{namespace}", delete_namespace)
