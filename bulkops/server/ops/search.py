"""Exact brute-force query: enough for users' own tests, not a vector index.

Scores: cosine similarity, dot product, or squared euclidean distance (smaller is closer).
Sparse vectors contribute their dot product (hybrid = dense score + sparse dot product).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from bulkops.server.codec import dense_array, sparse_json
from bulkops.server.context import IndexContext, namespace_of
from bulkops.server.filters import compile_filter
from bulkops.server.problems import ApiProblem
from bulkops.server.storage import StoredRecord

__all__ = ["MAX_TOP_K", "QueryResult", "query"]

MAX_TOP_K = 10_000


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The best ``top_k`` records with their scores, best first."""

    namespace: str
    matches: list[tuple[StoredRecord, float]]


def _sparse_dot(a: dict[int, float], blob: bytes | None) -> float:
    if blob is None or not a:
        return 0.0
    doc = orjson.loads(blob)
    return float(sum(a.get(i, 0.0) * v for i, v in zip(doc["indices"], doc["values"], strict=True)))


def _sparse_map(blob: bytes) -> dict[int, float]:
    doc = orjson.loads(blob)
    return dict(zip(doc["indices"], doc["values"], strict=True))


async def query(
    ctx: IndexContext,
    *,
    namespace: Any,
    version: str,
    top_k: Any,
    vector: Any,
    record_id: Any,
    sparse: Any,
    filter_doc: Any,
) -> QueryResult:
    """Rank the namespace's records (those matching ``filter_doc``) against a vector, a sparse
    vector, or the values of the record ``record_id``."""
    ns, echo = namespace_of(namespace, version)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
        raise ApiProblem(400, f"topK must be an integer between 1 and {MAX_TOP_K}.")
    predicate = compile_filter(filter_doc) if filter_doc is not None else None
    dim = ctx.meta.dimension
    dense: np.ndarray[Any, np.dtype[np.float32]] | None = None
    sparse_query: dict[int, float] = {}
    if record_id is not None and (vector is not None or sparse is not None):
        raise ApiProblem(400, "Give either id or vector/sparseVector, not both.")
    if record_id is not None:
        if not isinstance(record_id, str):
            raise ApiProblem(400, "id must be a string.")
        found = ctx.store.get(ns, [record_id], None)
        if not found:
            raise ApiProblem(400, f"Vector with id {record_id!r} is missing from namespace {echo!r}.")
        if found[0].values is not None:
            dense = np.frombuffer(found[0].values, dtype=np.float32)
        if found[0].sparse is not None:
            sparse_query = _sparse_map(found[0].sparse)
    else:
        if vector is not None:
            dense = dense_array(vector, "vector")
            if dim is None or len(dense) != dim:
                raise ApiProblem(
                    400,
                    f"Query vector dimension {len(dense)} does not match the dimension of the index {dim}",
                )
        if sparse is not None:
            sparse_query = _sparse_map(sparse_json(sparse, "sparseVector"))
        if dense is None and not sparse_query:
            raise ApiProblem(400, "A query needs a vector, a sparseVector or an id.")
    await ctx.admission.admit("query", ctx.meta.name, ns)
    records: list[StoredRecord] = [
        r
        for r in ctx.store.scan(ns)
        if predicate is None or predicate(orjson.loads(r.metadata) if r.metadata is not None else {})
    ]
    scores = np.zeros(len(records), dtype=np.float64)
    metric = ctx.meta.metric
    if dense is not None and records:
        matrix = (
            np.frombuffer(b"".join(r.values or bytes(4 * len(dense)) for r in records), dtype=np.float32)
            .reshape(len(records), len(dense))
            .astype(np.float64)
        )
        q = dense.astype(np.float64)
        if metric == "euclidean":
            scores = ((matrix - q) ** 2).sum(axis=1)
        elif metric == "cosine":
            norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
            scores = matrix @ q / np.where(norms == 0, 1.0, norms)
        else:
            scores = matrix @ q
    if sparse_query:
        scores = scores + np.array([_sparse_dot(sparse_query, r.sparse) for r in records])
    order = np.argsort(scores if metric == "euclidean" else -scores, kind="stable")[:top_k]
    return QueryResult(echo, [(records[i], float(scores[i])) for i in order])
