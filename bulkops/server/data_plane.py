"""REST routes for an index's records: upsert, fetch, list, delete, fetch_by_metadata, update, stats.

Thin adapters: each reads the request's JSON (or query string), calls the operation in
:mod:`bulkops.server.ops` that holds the semantics, and writes its result as Pinecone's JSON.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from bulkops.server import ops
from bulkops.server.codec import record_from_json
from bulkops.server.context import CONTEXT, IndexContext
from bulkops.server.storage import JSON_ANSWER
from bulkops.server.wire import api_version, json_response, read_json_object

__all__ = ["add_record_routes"]


def _ctx(request: web.Request) -> IndexContext:
    return request.app[CONTEXT]


def _answers(answers: ops.Answers) -> dict[str, Any]:
    """Fetch-like answers as JSON: each record's cached JSON embedded as it is."""
    body: dict[str, Any] = {
        "vectors": {record_id: orjson.Fragment(text) for record_id, text in answers.records},
        "namespace": answers.namespace,
        "usage": {"readUnits": answers.read_units},
    }
    if answers.next_token is not None:
        body["pagination"] = {"next": answers.next_token}
    return body


async def upsert(request: web.Request) -> web.Response:
    raw = await request.read()
    ops.check_upsert_size(len(raw))
    doc = await read_json_object(request, plane="data")
    count = await ops.upsert(
        _ctx(request),
        namespace=doc.get("namespace"),
        version=api_version(request),
        size_bytes=len(raw),
        vectors=doc.get("vectors"),
        decode=record_from_json,
        warm=JSON_ANSWER,
    )
    return json_response({"upsertedCount": count})


async def fetch(request: web.Request) -> web.Response:
    answers = await ops.fetch(
        _ctx(request),
        namespace=request.query.get("namespace"),
        version=api_version(request),
        ids=request.query.getall("ids", []),
        encoding=JSON_ANSWER,
    )
    return json_response(_answers(answers))


async def list_ids(request: web.Request) -> web.Response:
    query = request.query
    page = await ops.list_ids(
        _ctx(request),
        namespace=query.get("namespace"),
        version=api_version(request),
        prefix=query.get("prefix", ""),
        limit=query.get("limit"),
        token=query.get("paginationToken"),
    )
    body: dict[str, Any] = {"vectors": [{"id": i} for i in page.ids], "namespace": page.namespace}
    if page.next_token is not None:  # no pagination key at all on the last page
        body["pagination"] = {"next": page.next_token}
    body["usage"] = {"readUnits": 1}
    return json_response(body)


async def delete(request: web.Request) -> web.Response:
    doc = await read_json_object(request, plane="data")
    await ops.delete(
        _ctx(request),
        namespace=doc.get("namespace"),
        version=api_version(request),
        ids=doc.get("ids"),
        delete_all=doc.get("deleteAll", False),
        filter_doc=doc.get("filter"),
    )
    return json_response({})


async def fetch_by_metadata(request: web.Request) -> web.Response:
    doc = await read_json_object(request, plane="data")
    answers = await ops.fetch_by_metadata(
        _ctx(request),
        namespace=doc.get("namespace"),
        version=api_version(request),
        filter_doc=doc.get("filter"),
        limit=doc.get("limit"),
        token=doc.get("paginationToken"),
        encoding=JSON_ANSWER,
    )
    return json_response(_answers(answers))


async def update(request: web.Request) -> web.Response:
    version = api_version(request)
    doc = await read_json_object(request, plane="data")
    matched = await ops.update(
        _ctx(request),
        namespace=doc.get("namespace"),
        version=version,
        record_id=doc.get("id"),
        filter_doc=doc.get("filter"),
        set_metadata=doc.get("setMetadata"),
        values=doc.get("values"),
        sparse=doc.get("sparseValues"),
        dry_run=doc.get("dryRun", False),
    )
    return json_response({} if matched is None else {"matchedRecords": matched})


async def describe_index_stats(request: web.Request) -> web.Response:
    version = api_version(request)
    doc = (
        await read_json_object(request, plane="data")
        if request.method == "POST" and request.can_read_body
        else {}
    )
    stats = await ops.describe_index_stats(_ctx(request), version=version, filter_doc=doc.get("filter"))
    body: dict[str, Any] = {
        "namespaces": {name: {"vectorCount": n} for name, n in stats.namespaces.items()},
        "indexFullness": 0.0,
        "totalVectorCount": stats.total,
        "metric": stats.metric,
        "vectorType": stats.vector_type,
    }
    if stats.dimension is not None:
        body["dimension"] = stats.dimension
    return json_response(body)


def add_record_routes(app: web.Application) -> None:
    app.router.add_post("/vectors/upsert", upsert)
    app.router.add_get("/vectors/fetch", fetch)
    app.router.add_get("/vectors/list", list_ids)
    app.router.add_post("/vectors/delete", delete)
    app.router.add_post("/vectors/fetch_by_metadata", fetch_by_metadata)
    app.router.add_post("/vectors/update", update)
    app.router.add_post("/describe_index_stats", describe_index_stats)
    app.router.add_get("/describe_index_stats", describe_index_stats)
