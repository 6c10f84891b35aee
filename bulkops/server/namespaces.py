"""REST routes of the namespaces API (snake_case JSON): list, describe, create, delete.

Thin adapters around :mod:`bulkops.server.ops.namespaces`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulkops.server import ops
from bulkops.server.context import CONTEXT
from bulkops.server.ops.namespaces import NamespaceInfo
from bulkops.server.problems import ApiProblem
from bulkops.server.wire import api_version, json_response, read_json_object

__all__ = ["add_namespace_routes"]


def _description(info: NamespaceInfo) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": info.name, "record_count": info.record_count}
    if info.indexed_fields:
        doc["indexed_fields"] = {"fields": []}
    return doc


async def list_namespaces(request: web.Request) -> web.Response:
    page = await ops.list_namespaces(
        request.app[CONTEXT],
        version=api_version(request),
        limit=request.query.get("limit"),
        token=request.query.get("paginationToken"),
        prefix=request.query.get("prefix", ""),
    )
    body: dict[str, Any] = {"namespaces": [_description(info) for info in page.namespaces]}
    if page.next_token is not None:
        body["pagination"] = {"next": page.next_token}
    if page.total_count is not None:
        body["total_count"] = page.total_count
    return json_response(body)


async def describe_namespace(request: web.Request) -> web.Response:
    info = await ops.describe_namespace(
        request.app[CONTEXT], version=api_version(request), name=request.match_info["namespace"]
    )
    return json_response(_description(info))


async def delete_namespace(request: web.Request) -> web.Response:
    await ops.delete_namespace(
        request.app[CONTEXT], version=api_version(request), name=request.match_info["namespace"]
    )
    return json_response({})


async def create_namespace(request: web.Request) -> web.Response:
    version = api_version(request)
    doc = await read_json_object(request, plane="data")
    schema = doc.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ApiProblem(400, 'schema must be an object like {"fields": {"genre": {"filterable": true}}}.')
    info = await ops.create_namespace(request.app[CONTEXT], version=version, name=doc.get("name"))
    body = _description(info)
    if schema is not None:
        body["schema"] = schema
    return json_response(body)


def add_namespace_routes(app: web.Application) -> None:
    app.router.add_get("/namespaces", list_namespaces)
    app.router.add_post("/namespaces", create_namespace)
    app.router.add_get("/namespaces/{namespace}", describe_namespace)
    app.router.add_delete("/namespaces/{namespace}", delete_namespace)
