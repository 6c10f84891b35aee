"""The control-plane client: indexes, backups, restore jobs (API 2025-10 JSON, snake_case).

Answers are returned as the wire's JSON objects, typed with :class:`typing.TypedDict` (``total=False``:
servers add fields over time and bulkops must not break on them). Control-plane requests have no
documented rate limits, so they pass no limiter but are retried like every other request.

Waiting helpers poll through the client's clock, so tests drive them with a fake clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, TypedDict, cast

from bulkops.api.executor import RequestExecutor
from bulkops.api.rest.exchange import json_exchange
from bulkops.api.rest.transport import Transport
from bulkops.api.rest.wire import encode_query
from bulkops.clock import Clock
from bulkops.errors import NotFoundError, ResourceFailedError, UsageError, WaitTimeoutError

__all__ = [
    "BackupList",
    "BackupModel",
    "ControlPlaneClient",
    "IndexModel",
    "IndexStatus",
    "ResourceFailedError",
    "RestoreJobList",
    "RestoreJobModel",
    "WaitTimeoutError",
]


class IndexStatus(TypedDict, total=False):
    ready: bool
    state: str


class IndexModel(TypedDict, total=False):
    name: str
    dimension: int
    metric: str
    host: str
    private_host: str
    deletion_protection: Literal["enabled", "disabled"]
    tags: dict[str, str]
    embed: dict[str, Any]
    spec: dict[str, Any]
    status: IndexStatus
    vector_type: str


class BackupModel(TypedDict, total=False):
    backup_id: str
    source_index_name: str
    source_index_id: str
    name: str
    description: str
    status: str
    cloud: str
    region: str
    dimension: int
    metric: str
    record_count: int
    namespace_count: int
    size_bytes: int
    tags: dict[str, str]
    created_at: str


class BackupList(TypedDict, total=False):
    data: list[BackupModel]
    pagination: dict[str, str]


class RestoreJobModel(TypedDict, total=False):
    restore_job_id: str
    backup_id: str
    target_index_name: str
    target_index_id: str
    status: str
    created_at: str
    completed_at: str
    percent_complete: float


class RestoreJobList(TypedDict, total=False):
    data: list[RestoreJobModel]
    pagination: dict[str, str]


class CreateIndexFromBackupResponse(TypedDict):
    restore_job_id: str
    index_id: str


# A lost answer to these may hide a success; repeating them could make a second backup or restore.
_NOT_IDEMPOTENT = {"create_index", "create_backup", "create_index_from_backup"}
_INDEX_FAILED = {"InitializationFailed", "Terminating", "Disabled"}
_DONE = {"ready", "completed", "succeeded"}
_FAILED = {"failed", "cancelled", "canceled", "error"}


def _quote(segment: str) -> str:
    if not segment:
        raise UsageError("a name or id must not be empty")
    return encode_query([("", segment)])[1:]


def _page_query(limit: int | None, token: str | None) -> str:
    params: list[tuple[str, str]] = []
    if limit is not None:
        if not 1 <= limit <= 100:
            raise UsageError(f"limit must be between 1 and 100, not {limit}")
        params.append(("limit", str(limit)))
    if token:
        params.append(("paginationToken", token))
    return f"?{encode_query(params)}" if params else ""


class ControlPlaneClient:
    """Indexes, backups and restore jobs at the controller host (``https://api.pinecone.io``)."""

    def __init__(self, host: str, *, executor: RequestExecutor, transport: Transport, clock: Clock) -> None:
        self.host = host
        self._executor = executor
        self._transport = transport
        self._clock = clock

    def __repr__(self) -> str:
        return f"ControlPlaneClient(host={self.host!r})"

    async def _request(
        self, operation: str, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> Any:
        return await json_exchange(
            self._executor,
            self._transport,
            operation,
            method,
            self.host + path,
            body=body,
            idempotent=operation not in _NOT_IDEMPOTENT,
            answer_has_body=method != "DELETE",  # 202 with an empty (or non-JSON) body
        )

    # --- indexes ------------------------------------------------------------------------------------

    async def list_indexes(self) -> list[IndexModel]:
        doc = await self._request("list_indexes", "GET", "/indexes")
        return cast(list[IndexModel], list(doc.get("indexes") or []))

    async def describe_index(self, name: str) -> IndexModel:
        return cast(IndexModel, await self._request("describe_index", "GET", f"/indexes/{_quote(name)}"))

    async def has_index(self, name: str) -> bool:
        try:
            await self.describe_index(name)
        except NotFoundError:
            return False
        return True

    async def create_index(
        self,
        name: str,
        *,
        dimension: int | None = None,
        metric: str | None = None,
        cloud: str = "aws",
        region: str = "us-east-1",
        deletion_protection: Literal["enabled", "disabled"] = "disabled",
        tags: Mapping[str, str] | None = None,
        vector_type: Literal["dense", "sparse"] = "dense",
    ) -> IndexModel:
        """``POST /indexes`` for a serverless index. Dense indexes need ``dimension``; sparse ones use
        ``dotproduct`` (the default metric for them; ``cosine`` for dense). Returns at once; use
        :meth:`wait_until_index_ready` to wait."""
        if vector_type == "dense" and dimension is None:
            raise UsageError("a dense index needs a dimension (e.g. dimension=1536)")
        if vector_type == "sparse" and dimension is not None:
            raise UsageError("a sparse index takes no dimension")
        if metric is None:
            metric = "dotproduct" if vector_type == "sparse" else "cosine"
        body: dict[str, Any] = {
            "name": name,
            "metric": metric,
            "spec": {"serverless": {"cloud": cloud, "region": region}},
            "deletion_protection": deletion_protection,
            "vector_type": vector_type,
        }
        if dimension is not None:
            body["dimension"] = dimension
        if tags:
            body["tags"] = dict(tags)
        return cast(IndexModel, await self._request("create_index", "POST", "/indexes", body))

    async def configure_index(
        self,
        name: str,
        *,
        deletion_protection: Literal["enabled", "disabled"] | None = None,
        tags: Mapping[str, str] | None = None,
        embed: Mapping[str, Any] | None = None,
    ) -> IndexModel:
        """``PATCH /indexes/{name}``. A tag set to ``""`` is removed; tags not given are kept."""
        body: dict[str, Any] = {}
        if deletion_protection is not None:
            body["deletion_protection"] = deletion_protection
        if tags is not None:
            body["tags"] = dict(tags)
        if embed is not None:
            body["embed"] = dict(embed)
        if not body:
            raise UsageError("configure_index needs at least one of deletion_protection, tags, embed")
        return cast(
            IndexModel, await self._request("configure_index", "PATCH", f"/indexes/{_quote(name)}", body)
        )

    async def delete_index(self, name: str) -> None:
        """``DELETE /indexes/{name}`` (403 DeletionProtectedError when protection is on)."""
        await self._request("delete_index", "DELETE", f"/indexes/{_quote(name)}")

    # --- backups ------------------------------------------------------------------------------------

    async def create_backup(
        self, index_name: str, *, name: str | None = None, description: str | None = None
    ) -> BackupModel:
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        path = f"/indexes/{_quote(index_name)}/backups"
        return cast(BackupModel, await self._request("create_backup", "POST", path, body))

    async def describe_backup(self, backup_id: str) -> BackupModel:
        return cast(
            BackupModel, await self._request("describe_backup", "GET", f"/backups/{_quote(backup_id)}")
        )

    async def list_backups_page(
        self, *, index_name: str | None = None, limit: int | None = 10, token: str | None = None
    ) -> BackupList:
        """One page of backups: of one index, or of the whole project when ``index_name`` is None."""
        base = f"/indexes/{_quote(index_name)}/backups" if index_name else "/backups"
        return cast(BackupList, await self._request("list_backups", "GET", base + _page_query(limit, token)))

    async def iter_backups(
        self, *, index_name: str | None = None, limit: int = 100
    ) -> AsyncIterator[BackupModel]:
        """Every backup, following pagination."""
        token: str | None = None
        while True:
            page = await self.list_backups_page(index_name=index_name, limit=limit, token=token)
            for backup in page.get("data") or []:
                yield backup
            token = (page.get("pagination") or {}).get("next") or None
            if token is None:
                return

    async def list_backups(self, *, index_name: str | None = None, limit: int = 100) -> list[BackupModel]:
        """Every backup as a list (follows pagination)."""
        return [backup async for backup in self.iter_backups(index_name=index_name, limit=limit)]

    async def delete_backup(self, backup_id: str) -> None:
        await self._request("delete_backup", "DELETE", f"/backups/{_quote(backup_id)}")

    # --- restore ------------------------------------------------------------------------------------

    async def create_index_from_backup(
        self,
        backup_id: str,
        *,
        name: str,
        deletion_protection: Literal["enabled", "disabled"] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> CreateIndexFromBackupResponse:
        """``POST /backups/{id}/create-index``: returns ``restore_job_id`` and ``index_id``."""
        body: dict[str, Any] = {"name": name}
        if deletion_protection is not None:
            body["deletion_protection"] = deletion_protection
        if tags:
            body["tags"] = dict(tags)
        path = f"/backups/{_quote(backup_id)}/create-index"
        return cast(
            CreateIndexFromBackupResponse, await self._request("create_index_from_backup", "POST", path, body)
        )

    async def list_restore_jobs_page(
        self, *, limit: int | None = 10, token: str | None = None
    ) -> RestoreJobList:
        return cast(
            RestoreJobList,
            await self._request("list_restore_jobs", "GET", "/restore-jobs" + _page_query(limit, token)),
        )

    async def iter_restore_jobs(self, *, limit: int = 100) -> AsyncIterator[RestoreJobModel]:
        token: str | None = None
        while True:
            page = await self.list_restore_jobs_page(limit=limit, token=token)
            for job in page.get("data") or []:
                yield job
            token = (page.get("pagination") or {}).get("next") or None
            if token is None:
                return

    async def list_restore_jobs(self, *, limit: int = 100) -> list[RestoreJobModel]:
        """Every restore job (follows pagination)."""
        return [job async for job in self.iter_restore_jobs(limit=limit)]

    async def describe_restore_job(self, job_id: str) -> RestoreJobModel:
        return cast(
            RestoreJobModel,
            await self._request("describe_restore_job", "GET", f"/restore-jobs/{_quote(job_id)}"),
        )

    # --- waiting ------------------------------------------------------------------------------------

    async def wait_until_index_ready(
        self, name: str, *, timeout: float = 300.0, poll_interval: float = 2.0
    ) -> IndexModel:
        """Poll ``describe_index`` until ``status.ready``; raise on a failed state or after ``timeout``."""
        deadline = self._clock.now() + timeout
        while True:
            index = await self.describe_index(name)
            status = index.get("status") or {}
            if status.get("ready"):
                return index
            state = str(status.get("state", ""))
            if state in _INDEX_FAILED:
                raise ResourceFailedError(f"index {name!r} is {state}; it will not become ready")
            await self._pause(
                deadline, poll_interval, f"index {name!r} (state {state or 'unknown'})", timeout
            )

    async def wait_until_backup_ready(
        self, backup_id: str, *, timeout: float = 600.0, poll_interval: float = 2.0
    ) -> BackupModel:
        """Poll ``describe_backup`` until its status is Ready."""
        deadline = self._clock.now() + timeout
        while True:
            backup = await self.describe_backup(backup_id)
            status = str(backup.get("status", ""))
            if status.lower() in _DONE:
                return backup
            if status.lower() in _FAILED:
                raise ResourceFailedError(f"backup {backup_id!r} is {status}")
            await self._pause(
                deadline, poll_interval, f"backup {backup_id!r} (status {status or 'unknown'})", timeout
            )

    async def wait_until_restore_done(
        self, job_id: str, *, timeout: float = 1800.0, poll_interval: float = 2.0
    ) -> RestoreJobModel:
        """Poll ``describe_restore_job`` until its status is Completed."""
        deadline = self._clock.now() + timeout
        while True:
            job = await self.describe_restore_job(job_id)
            status = str(job.get("status", ""))
            if status.lower() in _DONE:
                return job
            if status.lower() in _FAILED:
                raise ResourceFailedError(f"restore job {job_id!r} is {status}")
            await self._pause(
                deadline, poll_interval, f"restore job {job_id!r} (status {status or 'unknown'})", timeout
            )

    async def _pause(self, deadline: float, poll_interval: float, what: str, timeout: float) -> None:
        remaining = deadline - self._clock.now()
        if remaining <= 0:
            raise WaitTimeoutError(
                f"{what} was not ready after {timeout:g} s; raise the timeout or check the console"
            )
        await self._clock.sleep(min(poll_interval, remaining))
