"""Record operations of one index: upsert, fetch, list, delete, fetch_by_metadata, update, stats.

Each validates the whole request first (so bad input changes nothing), passes the admission gate
(latency, faults, rate limits), then does its work in one SQLite transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES
from bulkops.server.codec import dense_array, sparse_json
from bulkops.server.context import (
    DEFAULT_ALIAS,
    IndexContext,
    decode_token,
    encode_token,
    namespace_of,
    parse_limit,
)
from bulkops.server.filters import MAX_METADATA_BYTES, Predicate, compile_filter, validate_metadata
from bulkops.server.problems import ApiProblem
from bulkops.server.storage import AnswerEncoding, StoredRecord

__all__ = [
    "FETCH_BY_METADATA_MAX",
    "FETCH_BY_METADATA_MAX_BYTES",
    "Answers",
    "IdPage",
    "IndexStats",
    "RecordDecoder",
    "check_upsert_size",
    "delete",
    "describe_index_stats",
    "fetch",
    "fetch_by_metadata",
    "list_ids",
    "matching_ids",
    "update",
    "upsert",
]

LIST_DEFAULT = 100
SCAN_PAGE = 5000  # metadata rows per step of a filter scan
FETCH_BY_METADATA_MAX = 10_000  # the seed docs' limits table: limit up to 10,000 ...
FETCH_BY_METADATA_MAX_BYTES = 4 * 1024 * 1024  # ... and at most 4 MB per response
_ENVELOPE_BYTES = 1024  # namespace, usage and pagination around the records of an answer
_ENCODE_STEP = 256  # records encoded per step while filling a size-capped answer
_STATS_FILTER = (
    "Serverless and Starter indexes do not support describing index stats with metadata filtering."
)

# Turns one vector of a request (a JSON object or a gRPC message) into a validated stored row:
# (vector, index dimension or None for sparse, position in the request) -> StoredRecord.
RecordDecoder = Callable[[Any, int | None, int], StoredRecord]


@dataclass(frozen=True, slots=True)
class Answers:
    """Records of a fetch-like answer, encoded by the transport, in the order they were found."""

    namespace: str  # as the request named it (``__default__`` stays ``__default__``)
    records: list[tuple[str, bytes]]
    read_units: int
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class IdPage:
    """One page of ``list``: the IDs, and the token of the next page (None on the last page)."""

    namespace: str
    ids: list[str]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What ``describe_index_stats`` reports; ``namespaces`` keyed as the API version names them."""

    namespaces: dict[str, int]
    total: int
    dimension: int | None
    metric: str
    vector_type: str


def _read_units(records: int) -> int:
    return max(1, (records + 9) // 10)


def check_upsert_size(size_bytes: int) -> None:
    """Pinecone refuses an upsert over 2 MB with 400 (not 413), the size in whole MB."""
    if size_bytes > MAX_UPSERT_BYTES:
        megabytes = -(-size_bytes // (1024 * 1024))
        raise ApiProblem(400, f"Request size {megabytes}MB exceeds the maximum supported size of 2MB")


def _require_namespace(ctx: IndexContext, ns: str) -> None:
    if not ctx.store.namespace_exists(ns):
        raise ApiProblem(404, "Namespace not found")


async def upsert(
    ctx: IndexContext,
    *,
    namespace: Any,
    version: str,
    size_bytes: int,
    vectors: Any,
    decode: RecordDecoder,
    warm: AnswerEncoding | None = None,
) -> int:
    """Store ``vectors`` (each turned into a row by ``decode``); the caller checked the size first."""
    ns, _ = namespace_of(namespace, version)
    if not isinstance(vectors, list) or not vectors:
        raise ApiProblem(400, "vectors must be a non-empty array of vector objects.")
    if len(vectors) > MAX_IDS_PER_REQUEST:
        raise ApiProblem(
            400, f"Upsert of {len(vectors)} vectors exceeds the maximum of {MAX_IDS_PER_REQUEST} per request."
        )
    records = [decode(v, ctx.meta.dimension, i) for i, v in enumerate(vectors)]
    await ctx.admission.admit("upsert", ctx.meta.name, ns, {"requests": 1, "bytes": size_bytes})
    return ctx.store.upsert(ns, records, ctx.clock.wall(), warm)


def _check_ids(ids: Sequence[Any], verb: str) -> list[str]:
    if len(ids) > MAX_IDS_PER_REQUEST:
        raise ApiProblem(
            400, f"Cannot {verb} {len(ids)} ids in one request; the maximum is {MAX_IDS_PER_REQUEST}."
        )
    return list(ids)


async def fetch(
    ctx: IndexContext, *, namespace: Any, version: str, ids: Sequence[Any], encoding: AnswerEncoding
) -> Answers:
    ns, echo = namespace_of(namespace, version)
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ApiProblem(400, "ids must be given: one or more non-empty IDs.")
    wanted = _check_ids(ids, "fetch")
    await ctx.admission.admit("fetch", ctx.meta.name, ns)
    found = ctx.store.get_encoded(ns, wanted, ctx.visible_now(), encoding)
    return Answers(echo, found, _read_units(len(found)))


async def list_ids(
    ctx: IndexContext, *, namespace: Any, version: str, prefix: str, limit: Any, token: Any
) -> IdPage:
    ns, echo = namespace_of(namespace, version)
    size = parse_limit(limit, default=LIST_DEFAULT, maximum=ctx.config.list_page_max)
    after = decode_token(token, str)
    await ctx.admission.admit("list", ctx.meta.name, ns)
    ids = ctx.store.list_ids(ns, prefix, after, size + 1, ctx.visible_now())
    # No next token at all on the last page: the SDK loops on next="".
    following = encode_token({"skip_past": ids[size - 1], "prefix": prefix}) if len(ids) > size else None
    return IdPage(echo, ids[:size], following)


async def matching_ids(
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


async def delete(
    ctx: IndexContext, *, namespace: Any, version: str, ids: Any, delete_all: Any, filter_doc: Any
) -> None:
    """Delete by IDs, everything, or a filter (exactly one); 404 when the namespace does not exist."""
    ns, _ = namespace_of(namespace, version)
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
        targets = _check_ids(ids, "delete")
        await ctx.admission.admit("delete", ctx.meta.name, ns, {"requests": 1, "records": len(targets)})
        _require_namespace(ctx, ns)
        ctx.store.delete_ids(ns, targets, ctx.dead_at())
    elif delete_all:
        await ctx.admission.admit("delete", ctx.meta.name, ns, {"requests": 1})
        _require_namespace(ctx, ns)
        ctx.store.delete_all(ns, ctx.dead_at())
    else:
        predicate = compile_filter(filter_doc)
        await ctx.admission.admit("delete_by_metadata", ctx.meta.name, ns)
        _require_namespace(ctx, ns)
        ctx.store.delete_ids(ns, await matching_ids(ctx, ns, predicate), ctx.dead_at())
    ctx.purge_expired()


async def fetch_by_metadata(
    ctx: IndexContext,
    *,
    namespace: Any,
    version: str,
    filter_doc: Any,
    limit: Any,
    token: Any,
    encoding: AnswerEncoding,
) -> Answers:
    """Records matching a filter, in ID order: up to ``limit`` (≤ 10,000) and at most 4 MB per
    answer (measured on the transport's encoding); the next page continues after the last record
    sent, whether the page ended at ``limit`` or at the size cap."""
    ns, echo = namespace_of(namespace, version)
    predicate = compile_filter(filter_doc)
    size = parse_limit(limit, default=LIST_DEFAULT, maximum=FETCH_BY_METADATA_MAX, clamp=False)
    after = decode_token(token, str)
    await ctx.admission.admit("fetch_by_metadata", ctx.meta.name, ns)
    ids = await matching_ids(ctx, ns, predicate, after=after, limit=size + 1)
    page = ids[:size]
    records: list[tuple[str, bytes]] = []
    budget = FETCH_BY_METADATA_MAX_BYTES - _ENVELOPE_BYTES
    last: str | None = None
    capped = False
    for start in range(0, len(page), _ENCODE_STEP):
        step = page[start : start + _ENCODE_STEP]
        found = dict(ctx.store.get_encoded(ns, step, None, encoding))
        for record_id in step:
            encoded = found.get(record_id)
            if encoded is not None:
                cost = len(encoded) + len(record_id) + 8  # the map key and its framing
                if records and cost > budget:
                    capped = True
                    break
                records.append((record_id, encoded))
                budget -= cost
            last = record_id
        if capped:
            break
    more = capped or len(ids) > size
    following = encode_token({"skip_past": last}) if more and last is not None else None
    return Answers(echo, records, _read_units(len(records)), following)


async def update(
    ctx: IndexContext,
    *,
    namespace: Any,
    version: str,
    record_id: Any,
    filter_doc: Any,
    set_metadata: Any,
    values: Any,
    sparse: Any,
    dry_run: Any,
) -> int | None:
    """Update one record by ID, or set metadata on every record matching a filter.

    Returns the matched count (always for a filter; by ID from API 2025-10, None before)."""
    ns, _ = namespace_of(namespace, version)
    if set_metadata is not None:
        problem = validate_metadata(str(record_id or "(filter)"), set_metadata)
        if problem:
            raise ApiProblem(400, problem.replace("metadata of", "setMetadata of"))
    if (record_id is None) == (filter_doc is None):
        raise ApiProblem(400, "Exactly one of id or filter must be given.")
    if filter_doc is not None:
        predicate = compile_filter(filter_doc)
        if not isinstance(dry_run, bool):
            raise ApiProblem(400, "dryRun must be true or false.")
        if values is not None or sparse is not None:
            raise ApiProblem(400, "Update by filter can only set metadata (setMetadata).")
        await ctx.admission.admit("update_by_metadata", ctx.meta.name, ns)
        matched = await matching_ids(ctx, ns, predicate)
        if not dry_run and set_metadata:
            rows = [(r.id, _merged(r.metadata, set_metadata)) for r in ctx.store.get(ns, matched, None)]
            ctx.store.set_metadata_many(ns, rows)
        return len(matched)
    if not isinstance(record_id, str) or not record_id:
        raise ApiProblem(400, "id must be a non-empty string.")
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
    sparse_blob = sparse_json(sparse, "sparseValues") if sparse is not None else None
    await ctx.admission.admit("update", ctx.meta.name, ns, {"requests": 1, "records": 1})
    existing = ctx.store.get(ns, [record_id], None)
    meta_blob = _merged(existing[0].metadata, set_metadata) if existing and set_metadata else None
    updated = ctx.store.update(ns, record_id, blob, sparse_blob, meta_blob) if existing else False
    return int(updated) if version >= "2025-10" else None


def _merged(current: bytes | None, changes: dict[str, Any]) -> bytes:
    merged = orjson.loads(current) if current is not None else {}
    merged.update(changes)
    blob = orjson.dumps(merged)
    if len(blob) > MAX_METADATA_BYTES:
        raise ApiProblem(
            400, f"Metadata size after update is {len(blob)} bytes; the limit is {MAX_METADATA_BYTES}."
        )
    return blob


async def describe_index_stats(ctx: IndexContext, *, version: str, filter_doc: Any) -> IndexStats:
    """Record counts per namespace. A non-empty filter is refused, as serverless Pinecone does."""
    if filter_doc is not None and filter_doc != {}:
        raise ApiProblem(400, _STATS_FILTER)
    await ctx.admission.admit("describe_index_stats", ctx.meta.name, "")
    counts = ctx.store.namespace_counts()
    default_key = "" if version < "2025-10" else DEFAULT_ALIAS
    return IndexStats(
        namespaces={(ns or default_key): n for ns, n in counts.items() if n > 0},
        total=sum(counts.values()),
        dimension=ctx.meta.dimension,
        metric=ctx.meta.metric,
        vector_type=ctx.meta.vector_type,
    )
