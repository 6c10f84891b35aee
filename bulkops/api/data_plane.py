"""What the REST and gRPC data-plane clients share: argument checks and the pagination followers.

Both clients check arguments the same way before anything is sent (a bad call is a
:class:`~bulkops.errors.UsageError` whatever the transport), and both follow pagination with the same
loops on top of their one-page methods, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from bulkops.errors import UsageError
from bulkops.limits.scoped import ScopedLimiter
from bulkops.models import MAX_IDS_PER_REQUEST, IdPage, Record

__all__ = [
    "DataPlaneBase",
    "check_delete_ids",
    "check_fetch_ids",
    "check_list_limit",
    "check_upsert",
    "require_filter",
]


def check_fetch_ids(ids: Sequence[str]) -> None:
    if isinstance(ids, str):
        raise UsageError("fetch takes a sequence of IDs, not a single string")


def check_delete_ids(ids: Sequence[str]) -> None:
    if isinstance(ids, str):
        raise UsageError("delete_ids takes a sequence of IDs, not a single string")
    if not ids:
        raise UsageError("delete_ids needs at least one ID (an empty list would delete nothing)")
    if len(ids) > MAX_IDS_PER_REQUEST:
        raise UsageError(
            f"delete_ids got {len(ids)} IDs; Pinecone accepts at most {MAX_IDS_PER_REQUEST} per request"
        )


def check_upsert(records: Sequence[Record]) -> None:
    if not records:
        raise UsageError("upsert needs at least one record")
    if len(records) > MAX_IDS_PER_REQUEST:
        raise UsageError(
            f"upsert got {len(records)} records; Pinecone accepts at most "
            f"{MAX_IDS_PER_REQUEST} per request: split them into batches"
        )


def check_list_limit(limit: int) -> None:
    if limit < 1:
        raise UsageError(f"list limit must be at least 1, not {limit}")


def require_filter(filter: Mapping[str, Any]) -> None:
    if not isinstance(filter, Mapping) or not filter:
        raise UsageError('a metadata filter must be a non-empty mapping, e.g. {"genre": {"$eq": "drama"}}')


class DataPlaneBase:
    """What every index client holds (its host, name and the host's limiter), and the multi-page
    helpers, written once on top of a client's ``list_page`` / ``list_namespaces_page``."""

    def __init__(self, host: str, *, limiter: ScopedLimiter, name: str | None = None) -> None:
        self._host = host
        self.limiter = limiter
        self.name = name

    @property
    def host(self) -> str:
        """The index host URL, with scheme."""
        return self._host

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self._host!r}, name={self.name!r})"

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        raise NotImplementedError

    async def list_namespaces_page(
        self, *, prefix: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        raise NotImplementedError

    async def list_ids(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100
    ) -> AsyncIterator[IdPage]:
        """Every page of one list chain (a convenience; the engine drives pages itself)."""
        token: str | None = None
        while True:
            page = await self.list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)
            if page.ids:
                yield page
            if page.next_token is None:
                return
            token = page.next_token

    async def list_namespaces(self, *, prefix: str | None = None) -> list[Mapping[str, Any]]:
        """Every namespace (follows pagination), as the wire's NamespaceDescription objects."""
        found: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            page, token = await self.list_namespaces_page(prefix=prefix, token=token)
            found.extend(page)
            if token is None:
                return found
