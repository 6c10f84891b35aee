"""The seam between the engine and the wire: what a data-plane client must offer.

The engine (ID sources, pipeline, jobs) is written against :class:`DataPlane`, never against aiohttp,
so it can be driven by the real client, or by an in-memory double in tests. Every method is one
request (pagination over several requests is the caller's business), is already rate limited and
retried by the implementation, and raises :mod:`bulkops.errors` on failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, Protocol

from bulkops.limits.scoped import ScopedLimiter
from bulkops.models import FetchPage, IdPage, Record

__all__ = ["DataPlane", "IndexClient", "TransportName"]

TransportName = Literal["auto", "grpc", "rest"]
"""A data-plane transport. Asked for: ``auto`` uses gRPC where the index host speaks it, REST elsewhere.
In use: ``grpc`` or ``rest`` (``auto`` only for an ``index_at`` client before its first request)."""


class DataPlane(Protocol):
    @property
    def host(self) -> str:
        """The index host URL, with scheme."""
        ...

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        """One ``GET /vectors/list`` page, IDs in bitwise order."""
        ...

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        """``GET /vectors/fetch``; IDs that do not exist are absent from the result."""
        ...

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        """``POST /vectors/delete`` with at most 1000 IDs."""
        ...

    async def delete_all(self, *, namespace: str) -> None:
        """``POST /vectors/delete`` with ``deleteAll``."""
        ...

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        """``POST /vectors/delete`` with a metadata filter."""
        ...

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        """One ``POST /vectors/fetch_by_metadata`` page (API 2025-10)."""
        ...

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        """``POST /vectors/upsert`` (≤ 1000 records, ≤ 2 MB); returns ``upsertedCount``."""
        ...

    async def describe_index_stats(self) -> Mapping[str, Any]:
        """``POST /describe_index_stats`` as the wire JSON."""
        ...

    async def list_namespaces(self, *, prefix: str | None = None) -> list[Mapping[str, Any]]:
        """Every namespace (follows pagination), as the wire's NamespaceDescription objects."""
        ...

    async def delete_namespace(self, name: str) -> None:
        """``DELETE /namespaces/{name}``."""
        ...


class IndexClient(DataPlane, Protocol):
    """What ``Client.index()`` / ``Client.index_at()`` return, whichever transport carries it: the
    :class:`DataPlane` plus the conveniences both clients offer."""

    @property
    def transport(self) -> TransportName:
        """``"grpc"`` or ``"rest"`` (``"auto"`` for an ``index_at`` client before its first request)."""
        ...

    @property
    def name(self) -> str | None: ...

    @property
    def limiter(self) -> ScopedLimiter: ...

    def list_ids(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100
    ) -> AsyncIterator[IdPage]: ...

    async def list_namespaces_page(
        self, *, prefix: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[Mapping[str, Any]], str | None]: ...

    async def describe_namespace(self, name: str) -> Mapping[str, Any]: ...
