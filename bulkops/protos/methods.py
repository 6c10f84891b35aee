"""The RPCs of Pinecone's ``VectorService``: wire path, request and response message of each.

Paths have no proto package (``/VectorService/Fetch``): that is how Pinecone serves them and what its
SDKs call, whatever package our messages are registered under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkops.protos import vector_service_pb2 as pb

__all__ = ["METHODS", "SERVICE", "Method"]

SERVICE = "VectorService"


@dataclass(frozen=True, slots=True)
class Method:
    """One unary RPC: ``name`` as in the service, its request and response message classes."""

    name: str
    request: Any
    response: Any

    @property
    def path(self) -> str:
        return f"/{SERVICE}/{self.name}"


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("Upsert", pb.UpsertRequest, pb.UpsertResponse),
        Method("Delete", pb.DeleteRequest, pb.DeleteResponse),
        Method("Fetch", pb.FetchRequest, pb.FetchResponse),
        Method("List", pb.ListRequest, pb.ListResponse),
        Method("Query", pb.QueryRequest, pb.QueryResponse),
        Method("Update", pb.UpdateRequest, pb.UpdateResponse),
        Method("DescribeIndexStats", pb.DescribeIndexStatsRequest, pb.DescribeIndexStatsResponse),
        Method("ListNamespaces", pb.ListNamespacesRequest, pb.ListNamespacesResponse),
        Method("DescribeNamespace", pb.DescribeNamespaceRequest, pb.NamespaceDescription),
        Method("DeleteNamespace", pb.DeleteNamespaceRequest, pb.DeleteResponse),
        Method("CreateNamespace", pb.CreateNamespaceRequest, pb.NamespaceDescription),
        Method("FetchByMetadata", pb.FetchByMetadataRequest, pb.FetchByMetadataResponse),
    )
}
