"""The data plane's semantics, once, for both transports.

Each operation takes the request's values as the transport decoded them (JSON values from REST,
message fields from gRPC), validates them, passes admission (latency, faults, rate limits: the same
:class:`~bulkops.server.admission.Admission` for both), does its work on the index's store under the
configured consistency lag, and returns plain values. It raises
:class:`~bulkops.server.problems.ApiProblem` for every refusal, which each transport renders in its
own shape (an HTTP status and JSON body, or a gRPC status code). The REST routes
(``data_plane.py``, ``namespaces.py``, ``query.py``) and the gRPC handlers (``grpc_service``) are
thin adapters around these functions.
"""

from __future__ import annotations

from bulkops.server.ops.namespaces import (
    NamespacePage,
    create_namespace,
    delete_namespace,
    describe_namespace,
    list_namespaces,
)
from bulkops.server.ops.records import (
    FETCH_BY_METADATA_MAX,
    FETCH_BY_METADATA_MAX_BYTES,
    Answers,
    IdPage,
    IndexStats,
    check_upsert_size,
    delete,
    describe_index_stats,
    fetch,
    fetch_by_metadata,
    list_ids,
    update,
    upsert,
)
from bulkops.server.ops.search import QueryResult, query

__all__ = [
    "FETCH_BY_METADATA_MAX",
    "FETCH_BY_METADATA_MAX_BYTES",
    "Answers",
    "IdPage",
    "IndexStats",
    "NamespacePage",
    "QueryResult",
    "check_upsert_size",
    "create_namespace",
    "delete",
    "delete_namespace",
    "describe_index_stats",
    "describe_namespace",
    "fetch",
    "fetch_by_metadata",
    "list_ids",
    "list_namespaces",
    "query",
    "update",
    "upsert",
]
