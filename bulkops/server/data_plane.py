"""Record handlers of one index: upsert, fetch, list, delete, fetch_by_metadata, update, stats.

Each handler validates the whole request first (so bad input changes nothing), passes the
admission gate (latency, faults, rate limits), then does its work in one SQLite transaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES
from bulkops.server.codec import dense_array, encode_record, sparse_json
from bulkops.server.context import (
    CONTEXT,
    DEFAULT_ALIAS,
    IndexContext,
    decode_token,
    encode_token,
    namespace_of,
    parse_limit,
)
from bulkops.server.filters import MAX_METADATA_BYTES, Predicate, compile_filter, validate_metadata
from bulkops.server.wire import ApiProblem, api_version, json_response, read_json_object

__all__ = ["add_record_routes"]

LIST_DEFAULT = 100
SCAN_PAGE = 5000  # metadata rows per step of a filter scan
FETCH_BY_METADATA_MAX = 10_000


def _ctx(request: web.Request) -> IndexContext:
    return request.app[CONTEXT]


def _read_units(records: int) -> int:
    return max(1, (records + 9) // 10)


async def upsert(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    raw = await request.read()
    if len(raw) > MAX_UPSERT_BYTES:  # Pinecone answers 400 (not 413), sizes in whole MB
        megabytes = -(-len(raw) // (1024 * 1024))
        raise ApiProblem(400, f"Request size {megabytes}MB exceeds the maximum supported size of 2MB")
    doc = await read_json_object(request, plane="data")
    ns, _ = namespace_of(doc.get("namespace"), api_version(request))
    vectors = doc.get("vectors")
    if not isinstance(vectors, list) or not vectors:
        raise ApiProblem(400, "vectors must be a non-empty array of vector objects.")
    if len(vectors) > MAX_IDS_PER_REQUEST:
        raise ApiProblem(
            400, f"Upsert of {len(vectors)} vectors exceeds the maximum of {MAX_IDS_PER_REQUEST} per request."
        )
    records = [encode_record(v, ctx.meta.dimension, i) for i, v in enumerate(vectors)]
    await ctx.admission.admit("upsert", ctx.meta.name, ns, {"requests": 1, "bytes": len(raw)})
    count = ctx.store.upsert(ns, records, ctx.clock.wall())
    return json_response({"upsertedCount": count})


async def fetch(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    ns, echo = namespace_of(request.query.get("namespace"), api_version(request))
    ids = request.query.getall("ids", [])
    if not ids or any(not i for i in ids):
        raise ApiProblem(400, "ids must be given as one or more non-empty ?ids= parameters.")
    if len(ids) > MAX_IDS_PER_REQUEST:
        raise ApiProblem(
            400, f"Cannot fetch {len(ids)} ids in one request; the maximum is {MAX_IDS_PER_REQUEST}."
        )
    await ctx.admission.admit("fetch", ctx.meta.name, ns)
    found = ctx.store.get_json(ns, ids, ctx.visible_now())
    vectors = {record_id: orjson.Fragment(text) for record_id, text in found}
    return json_response(
        {"vectors": vectors, "namespace": echo, "usage": {"readUnits": _read_units(len(found))}}
    )


async def list_ids(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    query = request.query
    ns, echo = namespace_of(query.get("namespace"), api_version(request))
    prefix = query.get("prefix", "")
    limit = parse_limit(query.get("limit"), default=LIST_DEFAULT, maximum=ctx.config.list_page_max)
    after = decode_token(query.get("paginationToken"))
    if after is not None and not isinstance(after, str):
        raise ApiProblem(400, "paginationToken is not valid: pass the token a previous page returned.")
    await ctx.admission.admit("list", ctx.meta.name, ns)
    ids = ctx.store.list_ids(ns, prefix, after, limit + 1, ctx.visible_now())
    body: dict[str, Any] = {"vectors": [{"id": i} for i in ids[:limit]], "namespace": echo}
    if len(ids) > limit:  # no pagination key at all on the last page: the SDK loops on next=""
        body["pagination"] = {"next": encode_token({"skip_past": ids[limit - 1], "prefix": prefix})}
    body["usage"] = {"readUnits": 1}
    return json_response(body)


async def _matching_ids(
    ctx: IndexContext, ns: str, predicate: Predicate, *, after: str | None = None, limit: int | None = None
) -> list[str]:
    """IDs whose metadata matches, in ID order; yields to the loop between pages of the scan."""
    matched: list[str] = []
    while True:
        page = ctx.store.metadata_page(ns, after, SCAN_PAGE)
        for record_id, meta in page:
            if predicate(orjson.loads(meta) if meta is not None else {}):
                matched.append(record_id)
                if limit is not None and len(matched) >= limit:
                    return matched
        if len(page) < SCAN_PAGE:
            return matched
        after = page[-1][0]
        await asyncio.sleep(0)


async def delete(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    doc = await read_json_object(request, plane="data")
    ns, _ = namespace_of(doc.get("namespace"), api_version(request))
    ids, delete_all, filter_doc = doc.get("ids"), doc.get("deleteAll", False), doc.get("filter")
    if not isinstance(delete_all, bool):
        raise ApiProblem(400, "deleteAll must be true or false.")
    chosen = [
        name
        for name, given in (
            ("ids", ids is not None),
            ("deleteAll", delete_all),
            ("filter", filter_doc is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise ApiProblem(
            400,
            "Exactly one of ids, deleteAll or filter must be given"
            + (f" (got {', '.join(chosen)})." if chosen else "."),
        )
    if ids is not None:
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ApiProblem(400, "ids must be a non-empty array of non-empty strings.")
        if len(ids) > MAX_IDS_PER_REQUEST:
            raise ApiProblem(
                400, f"Cannot delete {len(ids)} ids in one request; the maximum is {MAX_IDS_PER_REQUEST}."
            )
        await ctx.admission.admit("delete", ctx.meta.name, ns, {"requests": 1, "records": len(ids)})
        _require_namespace(ctx, ns)
        ctx.store.delete_ids(ns, ids, ctx.dead_at())
    elif delete_all:
        await ctx.admission.admit("delete", ctx.meta.name, ns, {"requests": 1})
        _require_namespace(ctx, ns)
        ctx.store.delete_all(ns, ctx.dead_at())
    else:
        predicate = compile_filter(filter_doc)
        await ctx.admission.admit("delete_by_metadata", ctx.meta.name, ns)
        _require_namespace(ctx, ns)
        ctx.store.delete_ids(ns, await _matching_ids(ctx, ns, predicate), ctx.dead_at())
    ctx.purge_expired()
    return json_response({})


def _require_namespace(ctx: IndexContext, ns: str) -> None:
    if not ctx.store.namespace_exists(ns):
        raise ApiProblem(404, "Namespace not found")


async def fetch_by_metadata(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    doc = await read_json_object(request, plane="data")
    ns, echo = namespace_of(doc.get("namespace"), api_version(request))
    predicate = compile_filter(doc.get("filter"))
    limit = parse_limit(doc.get("limit"), default=LIST_DEFAULT, maximum=FETCH_BY_METADATA_MAX, clamp=False)
    after = decode_token(doc.get("paginationToken"))
    if after is not None and not isinstance(after, str):
        raise ApiProblem(400, "paginationToken is not valid: pass the token a previous page returned.")
    await ctx.admission.admit("fetch_by_metadata", ctx.meta.name, ns)
    ids = await _matching_ids(ctx, ns, predicate, after=after, limit=limit + 1)
    page = ids[:limit]
    found = dict(ctx.store.get_json(ns, page, None))
    body: dict[str, Any] = {
        "vectors": {i: orjson.Fragment(found[i]) for i in page if i in found},
        "namespace": echo,
        "usage": {"readUnits": _read_units(len(page))},
    }
    if len(ids) > limit:
        body["pagination"] = {"next": encode_token({"skip_past": page[-1]})}
    return json_response(body)


async def update(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    version = api_version(request)
    doc = await read_json_object(request, plane="data")
    ns, _ = namespace_of(doc.get("namespace"), version)
    record_id, filter_doc = doc.get("id"), doc.get("filter")
    set_metadata = doc.get("setMetadata")
    if set_metadata is not None:
        problem = validate_metadata(str(record_id or "(filter)"), set_metadata)
        if problem:
            raise ApiProblem(400, problem.replace("metadata of", "setMetadata of"))
    if (record_id is None) == (filter_doc is None):
        raise ApiProblem(400, "Exactly one of id or filter must be given.")
    if filter_doc is not None:
        predicate = compile_filter(filter_doc)
        dry_run = doc.get("dryRun", False)
        if not isinstance(dry_run, bool):
            raise ApiProblem(400, "dryRun must be true or false.")
        if doc.get("values") is not None or doc.get("sparseValues") is not None:
            raise ApiProblem(400, "Update by filter can only set metadata (setMetadata).")
        await ctx.admission.admit("update_by_metadata", ctx.meta.name, ns)
        matched = await _matching_ids(ctx, ns, predicate)
        if not dry_run and set_metadata:
            rows = [(r.id, _merged(r.metadata, set_metadata)) for r in ctx.store.get(ns, matched, None)]
            ctx.store.set_metadata_many(ns, rows)
        return json_response({"matchedRecords": len(matched)})
    if not isinstance(record_id, str) or not record_id:
        raise ApiProblem(400, "id must be a non-empty string.")
    values = doc.get("values")
    blob = None
    if values is not None:
        array = dense_array(values, "values")
        if ctx.meta.dimension is None:
            raise ApiProblem(400, "Sparse index: send sparseValues only; dense values are not allowed.")
        if len(array) != ctx.meta.dimension:
            raise ApiProblem(
                400,
                f"Vector dimension {len(array)} does not match the dimension of the index "
                f"{ctx.meta.dimension}",
            )
        blob = array.tobytes()
    sparse = doc.get("sparseValues")
    sparse_blob = sparse_json(sparse, "sparseValues") if sparse is not None else None
    await ctx.admission.admit("update", ctx.meta.name, ns, {"requests": 1, "records": 1})
    existing = ctx.store.get(ns, [record_id], None)
    meta_blob = _merged(existing[0].metadata, set_metadata) if existing and set_metadata else None
    updated = ctx.store.update(ns, record_id, blob, sparse_blob, meta_blob) if existing else False
    return json_response({"matchedRecords": int(updated)} if version >= "2025-10" else {})


def _merged(current: bytes | None, changes: dict[str, Any]) -> bytes:
    merged = orjson.loads(current) if current is not None else {}
    merged.update(changes)
    blob = orjson.dumps(merged)
    if len(blob) > MAX_METADATA_BYTES:
        raise ApiProblem(
            400, f"Metadata size after update is {len(blob)} bytes; the limit is {MAX_METADATA_BYTES}."
        )
    return blob


async def describe_index_stats(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    version = api_version(request)
    doc = (
        await read_json_object(request, plane="data")
        if request.method == "POST" and request.can_read_body
        else {}
    )
    await ctx.admission.admit("describe_index_stats", ctx.meta.name, "")
    if doc.get("filter") is not None:
        predicate = compile_filter(doc["filter"])
        counts = {ns: len(await _matching_ids(ctx, ns, predicate)) for ns in ctx.store.namespace_counts()}
    else:
        counts = ctx.store.namespace_counts()
    default_key = "" if version < "2025-10" else DEFAULT_ALIAS
    namespaces = {(ns or default_key): {"vectorCount": n} for ns, n in counts.items() if n > 0}
    body: dict[str, Any] = {
        "namespaces": namespaces,
        "indexFullness": 0.0,
        "totalVectorCount": sum(counts.values()),
        "metric": ctx.meta.metric,
        "vectorType": ctx.meta.vector_type,
    }
    if ctx.meta.dimension is not None:
        body["dimension"] = ctx.meta.dimension
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
