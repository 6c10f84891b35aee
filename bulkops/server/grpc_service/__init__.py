"""Pinecone's gRPC data plane (``VectorService``) for the local server; see :mod:`.service`."""

from __future__ import annotations

from bulkops.server.grpc_service.service import MAX_MESSAGE_BYTES, VectorService

__all__ = ["MAX_MESSAGE_BYTES", "VectorService"]
