"""A local Pinecone-compatible server: control plane + one port per index (REST and gRPC on the same
port), SQLite storage, rate limits, latency and fault injection. See docs/architecture.md, "Local
server".

Entry points: ``serve_local`` (async, current loop), ``ServerThread`` (background thread),
``ServerProcess`` (child process, in ``bulkops.server.process``), and ``bulkops serve`` (CLI).
"""

from __future__ import annotations

from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import DEFAULT_LIST_PAGE_MAX, Latency, ServerConfig, parse_latency
from bulkops.server.faults import FaultRule, parse_faults
from bulkops.server.process import ServerProcess
from bulkops.server.thread import ServerThread

__all__ = [
    "DEFAULT_LIST_PAGE_MAX",
    "FaultRule",
    "Latency",
    "LocalServer",
    "ServerConfig",
    "ServerProcess",
    "ServerThread",
    "parse_faults",
    "parse_latency",
    "serve_local",
]
