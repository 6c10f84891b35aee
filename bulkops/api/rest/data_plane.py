"""The REST data-plane client for one index host: implements :class:`bulkops.api.protocols.DataPlane`.

Each method is one logical request, paced by the index's :class:`~bulkops.limits.scoped.ScopedLimiter`
(weighted by the records it carries), retried by the :class:`~bulkops.api.executor.RequestExecutor`,
and raising :mod:`bulkops.errors`. Two methods may send more than one request, on purpose:

- :meth:`DataPlaneClient.fetch` cuts the IDs by count and encoded-URL budget
  (:func:`~bulkops.api.rest.wire.split_fetch_batches`) and, when the server still answers 413/414/431,
  splits the rejected batch in half, retries the halves and lowers its budget for later fetches;
- :meth:`DataPlaneClient.list_namespaces` follows pagination, as the protocol promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from bulkops.api.config import DEFAULT_MAX_FETCH_URL_BYTES
from bulkops.api.data_plane import (
    DataPlaneBase,
    check_delete_ids,
    check_fetch_ids,
    check_list_limit,
    check_upsert,
    require_filter,
)
from bulkops.api.executor import RequestExecutor
from bulkops.api.rest.exchange import http_call
from bulkops.api.rest.transport import HttpResponse, Transport
from bulkops.api.rest.wire import (
    dumps,
    fetch_target,
    list_target,
    loads,
    namespace_path,
    namespaces_target,
    parse_fetch,
    parse_fetch_by_metadata,
    parse_list,
    plan_fetches,
    upsert_body,
)
from bulkops.errors import RequestTooLargeError
from bulkops.limits.scoped import ScopedLimiter
from bulkops.models import FetchPage, IdPage, Record

__all__ = ["DataPlaneClient"]

_MIN_FETCH_URL_BYTES = 256


class DataPlaneClient(DataPlaneBase):
    """REST data-plane requests to one index host. Get one from ``Client.index(...)`` or ``index_at``."""

    transport: Literal["rest"] = "rest"

    def __init__(
        self,
        host: str,
        *,
        executor: RequestExecutor,
        transport: Transport,
        limiter: ScopedLimiter,
        name: str | None = None,
        max_fetch_url_bytes: int = DEFAULT_MAX_FETCH_URL_BYTES,
    ) -> None:
        super().__init__(host, limiter=limiter, name=name)
        self._executor = executor
        self._transport = transport
        self.max_fetch_url_bytes = max_fetch_url_bytes

    async def _send(
        self,
        operation: str,
        method: str,
        target: str,
        *,
        body: Mapping[str, Any] | bytes | None = None,
        namespace: str = "",
        records: int = 0,
    ) -> HttpResponse:
        call = http_call(
            self._transport,
            operation,
            method,
            self._host + target,
            body=dumps(body) if isinstance(body, Mapping) else body,
            namespace=namespace,
            records=records,
            limiter=self.limiter,
        )
        return await self._executor.run(call)

    async def _json(self, operation: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        response = await self._send(operation, *args, **kwargs)
        return loads(response.body, status=response.status, operation=operation)

    # --- list ---------------------------------------------------------------------------------------

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        """One ``GET /vectors/list`` page, IDs in bitwise order; ``next_token`` None at the end."""
        check_list_limit(limit)
        doc = await self._json(
            "list", "GET", list_target(namespace, prefix, limit, token), namespace=namespace
        )
        return parse_list(doc)

    # --- fetch --------------------------------------------------------------------------------------

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        """``GET /vectors/fetch``; missing IDs are absent. Batches are cut to fit, split on 413/414/431."""
        check_fetch_ids(ids)
        found: dict[str, Record] = {}
        for batch, target in plan_fetches(ids, namespace, self.max_fetch_url_bytes):
            await self._fetch_splitting(batch, namespace, found, target)
        return found

    async def _fetch_splitting(
        self, ids: Sequence[str], namespace: str, into: dict[str, Record], target: str | None = None
    ) -> None:
        target = target or fetch_target(ids, namespace)
        try:
            doc = await self._json("fetch", "GET", target, namespace=namespace, records=len(ids))
        except RequestTooLargeError:
            if len(ids) < 2:
                raise
            # The host takes shorter URLs than the budget: remember it, so the next fetches are cut to
            # fit at once instead of each paying a rejected round trip.
            self.max_fetch_url_bytes = max(
                _MIN_FETCH_URL_BYTES, min(self.max_fetch_url_bytes, len(target) // 2)
            )
            half = len(ids) // 2
            await self._fetch_splitting(ids[:half], namespace, into)
            await self._fetch_splitting(ids[half:], namespace, into)
            return
        into.update(parse_fetch(doc))

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        """One ``POST /vectors/fetch_by_metadata`` page (API 2025-10)."""
        require_filter(filter)
        body: dict[str, Any] = {"filter": dict(filter), "namespace": namespace, "limit": limit}
        if token:
            body["paginationToken"] = token
        doc = await self._json(
            "fetch_by_metadata", "POST", "/vectors/fetch_by_metadata", body=body, namespace=namespace
        )
        return parse_fetch_by_metadata(doc)

    # --- delete -------------------------------------------------------------------------------------

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        """``POST /vectors/delete`` with 1..1000 IDs (weighted as 1 request + ``len(ids)`` records)."""
        check_delete_ids(ids)
        body = {"namespace": namespace, "ids": list(ids)}
        await self._send(
            "delete", "POST", "/vectors/delete", body=body, namespace=namespace, records=len(ids)
        )

    async def delete_all(self, *, namespace: str) -> None:
        """``POST /vectors/delete`` with ``deleteAll`` (one request; the records count is unknown)."""
        body = {"namespace": namespace, "deleteAll": True}
        await self._send("delete", "POST", "/vectors/delete", body=body, namespace=namespace)

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        """``POST /vectors/delete`` with a metadata filter (the delete-by-metadata limits apply)."""
        require_filter(filter)
        body = {"namespace": namespace, "filter": dict(filter)}
        await self._send("delete_by_metadata", "POST", "/vectors/delete", body=body, namespace=namespace)

    # --- upsert -------------------------------------------------------------------------------------

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        """``POST /vectors/upsert`` (≤ 1000 records, ≤ 2 MB); returns ``upsertedCount``."""
        check_upsert(records)
        body = upsert_body(records, namespace)
        doc = await self._json(
            "upsert", "POST", "/vectors/upsert", body=body, namespace=namespace, records=len(records)
        )
        count = doc.get("upsertedCount")
        return int(count) if isinstance(count, int) else len(records)

    # --- stats and namespaces -----------------------------------------------------------------------

    async def describe_index_stats(self) -> Mapping[str, Any]:
        """``POST /describe_index_stats`` as the wire JSON."""
        return await self._json("describe_index_stats", "POST", "/describe_index_stats", body={})

    async def list_namespaces_page(
        self, *, prefix: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        """One ``GET /namespaces`` page: the NamespaceDescription objects and the next token."""
        doc = await self._json("list_namespaces", "GET", namespaces_target(prefix, limit, token))
        pagination = doc.get("pagination")
        token = pagination.get("next") if isinstance(pagination, Mapping) else None
        return list(doc.get("namespaces") or []), (token or None)

    async def describe_namespace(self, name: str) -> Mapping[str, Any]:
        """``GET /namespaces/{name}`` (404 → NotFoundError)."""
        return await self._json("describe_namespace", "GET", namespace_path(name), namespace=name)

    async def delete_namespace(self, name: str) -> None:
        """``DELETE /namespaces/{name}``; the default namespace is sent as ``__default__``."""
        await self._send("delete_namespace", "DELETE", namespace_path(name), namespace=name)


if TYPE_CHECKING:
    from bulkops.api.protocols import DataPlane

    _conforms: type[DataPlane] = DataPlaneClient  # mypy proves the client implements the protocol
