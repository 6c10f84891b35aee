"""Pinecone's gRPC data plane: the channel seam, one call as the executor's Call, messages, the client.

``transport.py`` keeps one ``grpc.aio`` channel per index host (TLS or plaintext, 64 MiB messages);
``exchange.py`` turns one RPC into the executor's transport-neutral call; ``messages.py`` converts
between the VectorService messages and bulkops values (float32 arrays, REST-shaped JSON);
``data_plane.py`` is :class:`GrpcDataPlane`, the same client as the REST one over gRPC.
"""

from __future__ import annotations

from bulkops.api.grpc.data_plane import GrpcDataPlane
from bulkops.api.grpc.transport import AioGrpcTransport, GrpcReply, GrpcTransport, MockGrpcTransport, SentRpc

__all__ = ["AioGrpcTransport", "GrpcDataPlane", "GrpcReply", "GrpcTransport", "MockGrpcTransport", "SentRpc"]
