"""One adapter per RPC of ``VectorService``: decode the request, call the operation, encode the answer.

Each handler takes the index, the request's raw bytes and the API version, and returns the answer's
bytes; the semantics are in :mod:`bulkops.server.ops`, shared with the REST routes. Fields that
proto3 cannot leave out (``namespace``, ``id``, ``top_k``) mean "not given" when empty or zero, as
in Pinecone's own gRPC service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bulkops.protos import vector_service_pb2 as pb
from bulkops.server import ops
from bulkops.server.context import IndexContext
from bulkops.server.grpc_service.messages import (
    PROTO_ANSWER,
    dense_or_none,
    parse,
    record_from_proto,
    scored_vector,
    sparse_doc,
    struct_or_none,
)
from bulkops.server.ops.namespaces import NamespaceInfo
from bulkops.server.problems import ApiProblem

__all__ = ["HANDLERS", "Handler"]

Handler = Callable[[IndexContext, bytes, str], Awaitable[bytes]]


def _usage(read_units: int) -> pb.Usage:
    return pb.Usage(read_units=read_units)


def _given(message: Any, field: str) -> Any:
    """An ``optional`` field's value, or None when the sender left it out."""
    return getattr(message, field) if message.HasField(field) else None


async def upsert(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    ops.check_upsert_size(len(raw))
    request = parse(pb.UpsertRequest, raw)
    count = await ops.upsert(
        ctx,
        namespace=request.namespace,
        version=version,
        size_bytes=len(raw),
        vectors=list(request.vectors),
        decode=record_from_proto,
        warm=PROTO_ANSWER,
    )
    return pb.UpsertResponse(upserted_count=count).SerializeToString()


def _records_then(answers: ops.Answers, tail: bytes) -> bytes:
    """The cached map entries of the records, then the rest of the answer (messages merge)."""
    return b"".join([*(encoded for _, encoded in answers.records), tail])


async def fetch(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.FetchRequest, raw)
    answers = await ops.fetch(
        ctx, namespace=request.namespace, version=version, ids=list(request.ids), encoding=PROTO_ANSWER
    )
    tail = pb.FetchResponse(namespace=answers.namespace, usage=_usage(answers.read_units))
    return _records_then(answers, tail.SerializeToString())


async def fetch_by_metadata(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.FetchByMetadataRequest, raw)
    answers = await ops.fetch_by_metadata(
        ctx,
        namespace=request.namespace,
        version=version,
        filter_doc=struct_or_none(request, "filter"),
        limit=_given(request, "limit"),
        token=_given(request, "pagination_token"),
        encoding=PROTO_ANSWER,
    )
    tail = pb.FetchByMetadataResponse(namespace=answers.namespace, usage=_usage(answers.read_units))
    if answers.next_token is not None:
        tail.pagination.next = answers.next_token
    return _records_then(answers, tail.SerializeToString())


async def list_ids(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.ListRequest, raw)
    page = await ops.list_ids(
        ctx,
        namespace=request.namespace,
        version=version,
        prefix=request.prefix,
        limit=_given(request, "limit"),
        token=_given(request, "pagination_token"),
    )
    answer = pb.ListResponse(
        vectors=[pb.ListItem(id=i) for i in page.ids], namespace=page.namespace, usage=_usage(1)
    )
    if page.next_token is not None:  # no pagination at all on the last page, as over REST
        answer.pagination.next = page.next_token
    return answer.SerializeToString()


async def delete(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.DeleteRequest, raw)
    await ops.delete(
        ctx,
        namespace=request.namespace,
        version=version,
        ids=list(request.ids) or None,
        delete_all=request.delete_all,
        filter_doc=struct_or_none(request, "filter"),
    )
    return pb.DeleteResponse().SerializeToString()


async def query(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.QueryRequest, raw)
    if request.queries:
        raise ApiProblem(400, "queries (deprecated) is not supported: send vector, sparse_vector or id.")
    result = await ops.query(
        ctx,
        namespace=request.namespace,
        version=version,
        top_k=request.top_k,
        vector=dense_or_none(request, "vector", 7, "vector"),
        record_id=request.id or None,
        sparse=sparse_doc(request, "sparse_vector"),
        filter_doc=struct_or_none(request, "filter"),
    )
    matches = [
        scored_vector(record, score, values=request.include_values, metadata=request.include_metadata)
        for record, score in result.matches
    ]
    return pb.QueryResponse(matches=matches, namespace=result.namespace, usage=_usage(1)).SerializeToString()


async def update(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.UpdateRequest, raw)
    matched = await ops.update(
        ctx,
        namespace=request.namespace,
        version=version,
        record_id=request.id or None,
        filter_doc=struct_or_none(request, "filter"),
        set_metadata=struct_or_none(request, "set_metadata"),
        values=dense_or_none(request, "values", 2, "values"),
        sparse=sparse_doc(request, "sparse_values"),
        dry_run=request.dry_run,
    )
    answer = pb.UpdateResponse() if matched is None else pb.UpdateResponse(matched_records=matched)
    return answer.SerializeToString()


async def describe_index_stats(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.DescribeIndexStatsRequest, raw)
    stats = await ops.describe_index_stats(ctx, version=version, filter_doc=struct_or_none(request, "filter"))
    answer = pb.DescribeIndexStatsResponse(
        index_fullness=0.0, total_vector_count=stats.total, metric=stats.metric, vector_type=stats.vector_type
    )
    for name, count in stats.namespaces.items():
        answer.namespaces[name].vector_count = count
    if stats.dimension is not None:
        answer.dimension = stats.dimension
    return answer.SerializeToString()


def _description(info: NamespaceInfo) -> pb.NamespaceDescription:
    description = pb.NamespaceDescription(name=info.name, record_count=info.record_count)
    if info.indexed_fields:
        description.indexed_fields.SetInParent()
    return description


async def list_namespaces(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.ListNamespacesRequest, raw)
    page = await ops.list_namespaces(
        ctx,
        version=version,
        limit=_given(request, "limit"),
        token=_given(request, "pagination_token"),
        prefix=request.prefix,
    )
    answer = pb.ListNamespacesResponse(namespaces=[_description(info) for info in page.namespaces])
    if page.next_token is not None:
        answer.pagination.next = page.next_token
    if page.total_count is not None:
        answer.total_count = page.total_count
    return answer.SerializeToString()


async def describe_namespace(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.DescribeNamespaceRequest, raw)
    info = await ops.describe_namespace(ctx, version=version, name=request.namespace)
    return _description(info).SerializeToString()


async def create_namespace(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.CreateNamespaceRequest, raw)
    info = await ops.create_namespace(ctx, version=version, name=request.name)
    answer = _description(info)
    if request.HasField("schema"):
        answer.schema.CopyFrom(request.schema)
    return answer.SerializeToString()


async def delete_namespace(ctx: IndexContext, raw: bytes, version: str) -> bytes:
    request = parse(pb.DeleteNamespaceRequest, raw)
    await ops.delete_namespace(ctx, version=version, name=request.namespace)
    return pb.DeleteResponse().SerializeToString()


HANDLERS: Mapping[str, Handler] = {
    "Upsert": upsert,
    "Delete": delete,
    "Fetch": fetch,
    "List": list_ids,
    "Query": query,
    "Update": update,
    "DescribeIndexStats": describe_index_stats,
    "ListNamespaces": list_namespaces,
    "DescribeNamespace": describe_namespace,
    "DeleteNamespace": delete_namespace,
    "CreateNamespace": create_namespace,
    "FetchByMetadata": fetch_by_metadata,
}
