"""The gRPC data-plane client for one index host: implements :class:`bulkops.api.protocols.DataPlane`.

Same methods, same arguments, same answers and same errors as the REST client
(:class:`~bulkops.api.rest.data_plane.DataPlaneClient`); each call goes through the same
:class:`~bulkops.api.executor.RequestExecutor`, so pacing, retries, the retry budget, the deadline,
statistics and key redaction are the REST path's. What differs is the encoding: records arrive as
float32 array views of the packed floats and upserts are encoded from arrays (see
:mod:`bulkops.api.grpc.messages`).

The transport probe's ``DescribeIndexStats`` answer (:mod:`bulkops.api.selection`) answers the first
``describe_index_stats`` when it comes within ``PROBE_STATS_SECONDS`` of the probe and no write went
through this client in between: every job asks for the stats right after the probe, and a second ask
was one more round trip at every start. Pinecone's own stats lag writes by more than that.

Fetch sends up to 1,000 IDs per call (there is no URL to budget); an answer larger than the channel's
message limit is a :class:`~bulkops.errors.RequestTooLargeError`, and the batch is then split in half
and fetched again, as the REST client does for 413/414/431.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from google.protobuf.message import Message

from bulkops.api.data_plane import (
    DataPlaneBase,
    check_delete_ids,
    check_fetch_ids,
    check_list_limit,
    check_upsert,
    require_filter,
)
from bulkops.api.executor import RequestExecutor
from bulkops.api.grpc.exchange import M, decode, grpc_call
from bulkops.api.grpc.messages import (
    fetch_page,
    id_page,
    index_stats_json,
    namespace_json,
    namespace_name,
    records_from_vectors,
    upsert_request,
)
from bulkops.api.grpc.transport import GrpcTransport
from bulkops.errors import RequestTooLargeError
from bulkops.limits.scoped import ScopedLimiter
from bulkops.models import MAX_IDS_PER_REQUEST, FetchPage, IdPage, Record
from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import struct_from_dict

__all__ = ["PROBE_STATS_SECONDS", "GrpcDataPlane"]

PROBE_STATS_SECONDS = 1.0
_READS = frozenset(
    {"list", "fetch", "fetch_by_metadata", "describe_index_stats", "list_namespaces", "describe_namespace"}
)


class GrpcDataPlane(DataPlaneBase):
    """gRPC data-plane calls to one index host. Get one from ``Client(transport="grpc").index(...)``."""

    transport: Literal["grpc"] = "grpc"

    def __init__(
        self,
        host: str,
        *,
        executor: RequestExecutor,
        transport: GrpcTransport,
        limiter: ScopedLimiter,
        name: str | None = None,
        probe_stats: bytes | None = None,
    ) -> None:
        super().__init__(host, limiter=limiter, name=name)
        self._executor = executor
        self._transport = transport
        self._probe_stats = probe_stats
        self._probe_stats_until = executor.clock.now() + PROBE_STATS_SECONDS

    async def _call(
        self,
        operation: str,
        method: str,
        request: Message,
        answer: type[M],
        *,
        namespace: str = "",
        records: int = 0,
    ) -> M:
        if operation not in _READS:
            self._probe_stats = None  # a write: the probe's stats may no longer be what a caller expects
        call = grpc_call(
            self._transport,
            self._host,
            method,
            request,
            operation=operation,
            namespace=namespace,
            records=records,
            limiter=self.limiter,
        )
        return decode(answer, await self._executor.run(call), operation=operation)

    # --- list ---------------------------------------------------------------------------------------

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        """One ``List`` page, IDs in bitwise order; ``next_token`` None at the end."""
        check_list_limit(limit)
        request = pb.ListRequest(namespace=namespace, limit=limit)
        if prefix:
            request.prefix = prefix
        if token:
            request.pagination_token = token
        response = await self._call("list", "List", request, pb.ListResponse, namespace=namespace)
        return id_page(response)

    # --- fetch --------------------------------------------------------------------------------------

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        """``Fetch`` in batches of up to 1,000 IDs; missing IDs are absent. Values are float32 arrays."""
        check_fetch_ids(ids)
        found: dict[str, Record] = {}
        for start in range(0, len(ids), MAX_IDS_PER_REQUEST):
            await self._fetch_splitting(ids[start : start + MAX_IDS_PER_REQUEST], namespace, found)
        return found

    async def _fetch_splitting(self, ids: Sequence[str], namespace: str, into: dict[str, Record]) -> None:
        request = pb.FetchRequest(ids=ids, namespace=namespace)
        try:
            response = await self._call(
                "fetch", "Fetch", request, pb.FetchResponse, namespace=namespace, records=len(ids)
            )
        except RequestTooLargeError:
            if len(ids) < 2:
                raise
            half = len(ids) // 2
            await self._fetch_splitting(ids[:half], namespace, into)
            await self._fetch_splitting(ids[half:], namespace, into)
            return
        into.update(records_from_vectors(response.vectors))

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        """One ``FetchByMetadata`` page (API 2025-10)."""
        require_filter(filter)
        request = pb.FetchByMetadataRequest(namespace=namespace, limit=limit)
        struct_from_dict(filter, into=request.filter)
        if token:
            request.pagination_token = token
        response = await self._call(
            "fetch_by_metadata", "FetchByMetadata", request, pb.FetchByMetadataResponse, namespace=namespace
        )
        return fetch_page(response)

    # --- delete -------------------------------------------------------------------------------------

    async def _delete(self, operation: str, request: pb.DeleteRequest, records: int = 0) -> None:
        await self._call(
            operation, "Delete", request, pb.DeleteResponse, namespace=request.namespace, records=records
        )

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        """``Delete`` with 1..1000 IDs (weighted as 1 request + ``len(ids)`` records)."""
        check_delete_ids(ids)
        await self._delete("delete", pb.DeleteRequest(ids=ids, namespace=namespace), len(ids))

    async def delete_all(self, *, namespace: str) -> None:
        """``Delete`` with ``delete_all`` (one request; the records count is unknown)."""
        await self._delete("delete", pb.DeleteRequest(delete_all=True, namespace=namespace))

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        """``Delete`` with a metadata filter (the delete-by-metadata limits apply)."""
        require_filter(filter)
        request = pb.DeleteRequest(namespace=namespace)
        struct_from_dict(filter, into=request.filter)
        await self._delete("delete_by_metadata", request)

    # --- upsert -------------------------------------------------------------------------------------

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        """``Upsert`` (≤ 1000 records); returns ``upserted_count``. The request's size weighs in the
        limiter's ``bytes`` rows, as the REST body's does."""
        check_upsert(records)
        response = await self._call(
            "upsert",
            "Upsert",
            upsert_request(records, namespace),
            pb.UpsertResponse,
            namespace=namespace,
            records=len(records),
        )
        return int(response.upserted_count)

    # --- stats and namespaces -----------------------------------------------------------------------

    async def describe_index_stats(self) -> Mapping[str, Any]:
        """``DescribeIndexStats``, in the REST answer's JSON shape (the probe's answer, once, if fresh)."""
        probed, self._probe_stats = self._probe_stats, None
        if probed is not None and self._executor.clock.now() <= self._probe_stats_until:
            answer = decode(pb.DescribeIndexStatsResponse, probed, operation="describe_index_stats")
            return index_stats_json(answer)
        request = pb.DescribeIndexStatsRequest()
        response = await self._call(
            "describe_index_stats", "DescribeIndexStats", request, pb.DescribeIndexStatsResponse
        )
        return index_stats_json(response)

    async def list_namespaces_page(
        self, *, prefix: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        """One ``ListNamespaces`` page: the descriptions (REST JSON shape) and the next token."""
        request = pb.ListNamespacesRequest()
        if prefix:
            request.prefix = prefix
        if limit is not None:
            request.limit = limit
        if token:
            request.pagination_token = token
        response = await self._call("list_namespaces", "ListNamespaces", request, pb.ListNamespacesResponse)
        next_token = response.pagination.next if response.HasField("pagination") else ""
        return [namespace_json(n) for n in response.namespaces], (next_token or None)

    async def describe_namespace(self, name: str) -> Mapping[str, Any]:
        """``DescribeNamespace`` (NOT_FOUND → NotFoundError), in the REST answer's JSON shape."""
        request = pb.DescribeNamespaceRequest(namespace=namespace_name(name))
        response = await self._call(
            "describe_namespace", "DescribeNamespace", request, pb.NamespaceDescription, namespace=name
        )
        return namespace_json(response)

    async def delete_namespace(self, name: str) -> None:
        """``DeleteNamespace``; the default namespace is sent as ``__default__``."""
        request = pb.DeleteNamespaceRequest(namespace=namespace_name(name))
        await self._call("delete_namespace", "DeleteNamespace", request, pb.DeleteResponse, namespace=name)


if TYPE_CHECKING:
    from bulkops.api.protocols import DataPlane

    _conforms: type[DataPlane] = GrpcDataPlane  # mypy proves the client implements the protocol
