"""Pinecone's bulk import endpoints on an index host (REST only: there is no gRPC for them).

``POST /bulk/imports`` ``{"uri", "integrationId"?, "errorMode": {"onError": "continue"|"abort"}}`` →
``{"id"}``; ``GET /bulk/imports?limit=&paginationToken=`` → ``{"data": [ImportModel], "pagination"}``;
``GET /bulk/imports/{id}`` → ``ImportModel``; ``DELETE /bulk/imports/{id}`` cancels. Requests go through
the client's executor (retries, budget, deadline, statistics, the key scrubbed from errors) and the
index's limiter, like every data-plane request. Starting an import is not idempotent: a lost answer may
hide an import that started, so it is retried only after a 429 (the job that starts one finds it again
by its URI, :mod:`bulkops.jobs.bulk_import`); the reads and the cancel are retried as usual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, TypedDict, cast

from bulkops.api.executor import RequestExecutor
from bulkops.api.rest.exchange import json_exchange
from bulkops.api.rest.transport import Transport
from bulkops.api.rest.wire import encode_query
from bulkops.errors import UsageError
from bulkops.limits.scoped import ScopedLimiter

__all__ = [
    "ERROR_MODES",
    "FINISHED_STATUSES",
    "BulkImportClient",
    "ErrorMode",
    "ImportList",
    "ImportModel",
]

ErrorMode = Literal["continue", "abort"]
ERROR_MODES: tuple[ErrorMode, ...] = ("continue", "abort")
FINISHED_STATUSES = ("Completed", "Failed", "Cancelled")
_MAX_URI = 1500
_MAX_INTEGRATION_ID = 1000


class ImportModel(TypedDict, total=False):
    """One import as Pinecone describes it (``status``: Pending, InProgress, Failed, Completed,
    Cancelled)."""

    id: str
    uri: str
    status: str
    createdAt: str
    finishedAt: str
    percentComplete: float
    recordsImported: int
    error: str


class ImportList(TypedDict, total=False):
    data: list[ImportModel]
    pagination: dict[str, str]


def _quote(segment: str) -> str:
    if not segment:
        raise UsageError("an import id must not be empty")
    return encode_query([("", segment)])[1:]


class BulkImportClient:
    """The bulk import endpoints of one index host. Get one from ``await client.bulk_imports(...)``."""

    def __init__(
        self, host: str, *, executor: RequestExecutor, transport: Transport, limiter: ScopedLimiter
    ) -> None:
        self.host = host
        self._executor = executor
        self._transport = transport
        self._limiter = limiter

    def __repr__(self) -> str:
        return f"BulkImportClient(host={self.host!r})"

    async def _request(
        self, operation: str, method: str, path: str, body: dict[str, object] | None = None
    ) -> dict[str, object]:
        answer: dict[str, object] = await json_exchange(
            self._executor,
            self._transport,
            operation,
            method,
            self.host + path,
            body=body,
            limiter=self._limiter,
            idempotent=operation != "start_import",
        )
        return answer

    async def start_import(
        self, uri: str, *, integration_id: str | None = None, error_mode: ErrorMode = "continue"
    ) -> str:
        """Start importing the Parquet files under ``uri``; the new import's id."""
        if not isinstance(uri, str) or not 1 <= len(uri) <= _MAX_URI:
            raise UsageError(f"an import URI is 1 to {_MAX_URI} characters")
        if error_mode not in ERROR_MODES:
            raise UsageError(f"error_mode must be 'continue' or 'abort', not {error_mode!r}")
        body: dict[str, object] = {"uri": uri, "errorMode": {"onError": error_mode}}
        if integration_id is not None:
            if not integration_id or len(integration_id) > _MAX_INTEGRATION_ID:
                raise UsageError(f"an integration id is 1 to {_MAX_INTEGRATION_ID} characters")
            body["integrationId"] = integration_id
        answer = await self._request("start_import", "POST", "/bulk/imports", body)
        import_id = answer.get("id")
        if not isinstance(import_id, str) or not import_id:
            raise UsageError(f"the index host answered the start of an import without an id: {answer!r}")
        return import_id

    async def describe_import(self, import_id: str) -> ImportModel:
        return cast(
            ImportModel, await self._request("describe_import", "GET", f"/bulk/imports/{_quote(import_id)}")
        )

    async def list_imports_page(self, *, limit: int | None = None, token: str | None = None) -> ImportList:
        """One page of this index's imports (``limit`` 1..100; Pinecone's default 100)."""
        params: list[tuple[str, str]] = []
        if limit is not None:
            if not 1 <= limit <= 100:
                raise UsageError(f"limit must be between 1 and 100, not {limit}")
            params.append(("limit", str(limit)))
        if token:
            params.append(("paginationToken", token))
        query = f"?{encode_query(params)}" if params else ""
        return cast(ImportList, await self._request("list_imports", "GET", "/bulk/imports" + query))

    async def iter_imports(self, *, limit: int = 100) -> AsyncIterator[ImportModel]:
        """Every import of this index, following pagination."""
        token: str | None = None
        while True:
            page = await self.list_imports_page(limit=limit, token=token)
            for item in page.get("data") or []:
                yield item
            token = (page.get("pagination") or {}).get("next") or None
            if token is None:
                return

    async def list_imports(self) -> list[ImportModel]:
        return [item async for item in self.iter_imports()]

    async def cancel_import(self, import_id: str) -> None:
        """Cancel an unfinished import (no effect on a finished one)."""
        await self._request("cancel_import", "DELETE", f"/bulk/imports/{_quote(import_id)}")
