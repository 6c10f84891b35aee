"""Which transport an index host gets: the probe behind ``transport="auto"``, and the deferred client.

Real Pinecone serves gRPC (TLS, port 443) on the same host as REST; a local server may answer plaintext
HTTP/2 gRPC on its REST port, or HTTP/1.1 only. So ``auto`` asks once per host: one
``DescribeIndexStats`` call over gRPC (cheap, read-only, and answered by any VectorService), with a
short timeout and no retries. The answer decides:

- an answer from a VectorService (OK, or a status it sent: UNAUTHENTICATED, RESOURCE_EXHAUSTED, ...)
  means the host speaks gRPC;
- grpc's own report that the peer is not a gRPC server (it answered HTTP/1.x, or HTTP/2 without gRPC,
  or TLS to a plaintext port), or a gRPC server without the service (UNIMPLEMENTED), means it does
  not: ``auto`` falls back to REST, and an explicit ``transport="grpc"`` is a
  :class:`~bulkops.errors.UsageError` (never a silent fallback);
- UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED prove nothing (grpc reports a refused connection, a name
  that does not resolve or an untrusted certificate as UNAVAILABLE, like a server's own 503): ``auto``
  uses REST, whose own retries and errors then say what is wrong; an explicit ``grpc`` goes ahead.

The probe is not counted in the request statistics (it is not one of the job's requests); the pick is
logged at INFO on ``bulkops.api`` and kept in ``client.stats.transports``. Its answer is not thrown
away: the host's gRPC client answers the first ``describe_index_stats`` with it when that comes soon
after and nothing was written through the client in between (every job starts with a probe and then
asks for the stats; that was one round trip at every start, see
:class:`~bulkops.api.grpc.data_plane.GrpcDataPlane`).

:class:`DeferredIndexClient` is what the synchronous ``Client.index_at`` returns before a host's
transport is known: it picks at its first request, then forwards every call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bulkops.api.data_plane import DataPlaneBase
from bulkops.api.grpc.transport import GrpcTransport
from bulkops.api.protocols import IndexClient, TransportName
from bulkops.limits.scoped import ScopedLimiter
from bulkops.models import FetchPage, IdPage, Record
from bulkops.protos.methods import METHODS

__all__ = ["DeferredIndexClient", "ProbeResult", "probe_grpc"]

# grpc's wording when the peer is reachable but is not a gRPC server.
_NOT_GRPC_WORDS = (
    "http1.x server",  # an HTTP/1.1 server (today's local REST server) refused the HTTP/2 preface
    "failed parsing http/2",
    "received http2 header with status",  # HTTP/2 but no gRPC (a proxy or web server)
    "unexpected content-type",
    "h2 protocol error",
    "wrong_version_number",  # TLS spoken to a plaintext port
)


_NO_ANSWER = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED"})


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """``speaks_grpc``: True, False, or None when the host gave no answer either way."""

    speaks_grpc: bool | None
    reason: str
    stats: bytes | None = None
    """The serialized ``DescribeIndexStatsResponse`` when the probe was answered OK."""


async def probe_grpc(transport: GrpcTransport, host: str, *, timeout: float) -> ProbeResult:
    """Ask ``host`` one ``DescribeIndexStats`` over gRPC and read what the answer says about it."""
    reply = await transport.unary(host, METHODS["DescribeIndexStats"].path, b"", timeout=timeout)
    if reply.status == "OK":
        return ProbeResult(True, "DescribeIndexStats answered over gRPC", reply.body)
    said = f"{reply.status}: {reply.message}"
    lowered = reply.message.lower()
    if reply.status == "UNIMPLEMENTED" or any(words in lowered for words in _NOT_GRPC_WORDS):
        return ProbeResult(False, said)
    if reply.status in _NO_ANSWER:
        return ProbeResult(None, said)
    return ProbeResult(True, f"the VectorService answered {reply.status}")


class DeferredIndexClient(DataPlaneBase):
    """An index client whose transport is picked at its first request (``Client.index_at`` with
    ``auto`` or ``grpc`` before the host was probed); afterwards every call goes to the picked client."""

    def __init__(
        self,
        host: str,
        *,
        name: str | None,
        limiter: ScopedLimiter,
        resolve: Callable[[], Awaitable[IndexClient]],
    ) -> None:
        super().__init__(host, limiter=limiter, name=name)
        self._resolve = resolve
        self._target: IndexClient | None = None

    @property
    def transport(self) -> TransportName:
        """``auto`` until the first request picked ``grpc`` or ``rest``."""
        return self._target.transport if self._target is not None else "auto"

    def __repr__(self) -> str:
        return f"DeferredIndexClient(host={self._host!r}, name={self.name!r}, transport={self.transport!r})"

    async def resolved(self) -> IndexClient:
        """The client of the picked transport (probing the host the first time)."""
        if self._target is None:
            self._target = await self._resolve()
        return self._target

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        client = await self.resolved()
        return await client.list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        return await (await self.resolved()).fetch(ids, namespace=namespace)

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await (await self.resolved()).delete_ids(ids, namespace=namespace)

    async def delete_all(self, *, namespace: str) -> None:
        await (await self.resolved()).delete_all(namespace=namespace)

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        await (await self.resolved()).delete_by_filter(filter, namespace=namespace)

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        client = await self.resolved()
        return await client.fetch_by_metadata(filter, namespace=namespace, limit=limit, token=token)

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        return await (await self.resolved()).upsert(records, namespace=namespace)

    async def describe_index_stats(self) -> Mapping[str, Any]:
        return await (await self.resolved()).describe_index_stats()

    async def list_namespaces_page(
        self, *, prefix: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        client = await self.resolved()
        return await client.list_namespaces_page(prefix=prefix, limit=limit, token=token)

    async def describe_namespace(self, name: str) -> Mapping[str, Any]:
        return await (await self.resolved()).describe_namespace(name)

    async def delete_namespace(self, name: str) -> None:
        await (await self.resolved()).delete_namespace(name)


if TYPE_CHECKING:
    _conforms: type[IndexClient] = DeferredIndexClient  # mypy proves the wrapper is a full index client
