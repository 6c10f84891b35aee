"""The wire: an async client for Pinecone's control plane and data plane, over REST or gRPC.

``Client`` owns the connections (an aiohttp session; one gRPC channel per index host);
``client.control`` is the :class:`ControlPlaneClient`; ``await client.index(name=...)`` /
``client.index_at(host)`` give an :class:`IndexClient` — a :class:`GrpcDataPlane` or a REST
:class:`DataPlaneClient`, picked per host by ``Client(transport="auto" | "grpc" | "rest")`` — which
implements :class:`bulkops.api.protocols.DataPlane` with scoped rate limits, adaptive pacing and retries.
"""

from __future__ import annotations

from bulkops.api.bulk_import import BulkImportClient, ImportModel
from bulkops.api.client import Client
from bulkops.api.config import ClientConfig, normalize_host
from bulkops.api.control_plane import (
    BackupModel,
    ControlPlaneClient,
    IndexModel,
    ResourceFailedError,
    RestoreJobModel,
    WaitTimeoutError,
)
from bulkops.api.grpc import GrpcDataPlane, GrpcReply, GrpcTransport, MockGrpcTransport, SentRpc
from bulkops.api.protocols import DataPlane, IndexClient, TransportName
from bulkops.api.rest.data_plane import DataPlaneClient
from bulkops.api.rest.transport import AiohttpTransport, HttpResponse, MockTransport, SentRequest, Transport
from bulkops.api.rest.wire import split_fetch_batches
from bulkops.api.stats import RequestEvent, RequestStats

__all__ = [
    "AiohttpTransport",
    "BackupModel",
    "BulkImportClient",
    "Client",
    "ClientConfig",
    "ControlPlaneClient",
    "DataPlane",
    "DataPlaneClient",
    "GrpcDataPlane",
    "GrpcReply",
    "GrpcTransport",
    "HttpResponse",
    "ImportModel",
    "IndexClient",
    "IndexModel",
    "MockGrpcTransport",
    "MockTransport",
    "RequestEvent",
    "RequestStats",
    "ResourceFailedError",
    "RestoreJobModel",
    "SentRequest",
    "SentRpc",
    "Transport",
    "TransportName",
    "WaitTimeoutError",
    "normalize_host",
    "split_fetch_batches",
]
