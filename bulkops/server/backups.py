"""Backups (real snapshots of every namespace) and restore jobs (new index from a backup).

A backup is taken at once with SQLite's backup API, so it is consistent; it reports ``Initializing``
for ``ServerConfig.backup_ready_ms`` and then ``Ready``. Pinecone's backups "only include vectors that
were in the index at least 15 minutes prior to the backup time"; the server models that window with
``ServerConfig.backup_freshness_s`` (``--backup-freshness``; 0 by default, so tests stay fast): the
snapshot leaves out every record upserted within that many seconds before it (a record replaced in the
window is left out too, where Pinecone would keep its older version), and its counts say so.

A restore copies the snapshot into the new index at once; the job reports ``percent_complete`` rising
to 100 over ``restore_ms`` and the index reports ``Initializing`` until the job is ``Completed``. A
backup cannot be deleted while a restore from it is still running (412).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bulkops.server.catalog import BackupMeta, IndexMeta, RestoreJobMeta
from bulkops.server.context import (
    SERVER,
    decode_token,
    encode_token,
    index_or_404,
    parse_tags,
    validate_index_name,
)
from bulkops.server.shapes import backup_model, restore_job_model
from bulkops.server.storage import IndexStore
from bulkops.server.wire import ApiProblem, api_version, json_response, read_json_object

__all__ = ["add_backup_routes"]

_T = TypeVar("_T")


def _page(request: web.Request, items: Sequence[_T], render: Callable[[_T], dict[str, Any]]) -> web.Response:
    """One page of a control-plane list: ``limit`` 1..100 (default 10), opaque offset token."""
    raw_limit = request.query.get("limit")
    try:
        limit = 10 if raw_limit in (None, "") else int(raw_limit)
    except ValueError:
        raise ApiProblem(400, f"limit must be an integer from 1 to 100, not {raw_limit!r}.") from None
    if not 1 <= limit <= 100:
        raise ApiProblem(400, f"limit must be an integer from 1 to 100, not {limit}.")
    offset = decode_token(request.query.get("paginationToken"), int, key="offset") or 0
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    return json_response(
        {
            "data": [render(item) for item in chunk],
            "pagination": {"next": encode_token({"offset": offset + limit})} if more else None,
        }
    )


def _backup_or_404(request: web.Request) -> BackupMeta:
    backup_id = request.match_info["backup_id"]
    backup = request.app[SERVER].catalog.backups.get(backup_id)
    if backup is None:
        raise ApiProblem(404, f"Backup {backup_id} not found.")
    return backup


def _optional_text(doc: dict[str, Any], field: str) -> str | None:
    value = doc.get(field)
    if value is not None and not isinstance(value, str):
        raise ApiProblem(400, f"{field} must be a string.")
    return value


async def create_backup(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    meta = index_or_404(server, request.match_info["name"])
    doc = await read_json_object(request, plane="control")
    name, description = _optional_text(doc, "name"), _optional_text(doc, "description")
    backup_id = str(uuid.uuid4())
    store = server.indexes[meta.name].context.store
    snapshot = store.copy_to(server.catalog.backup_path(backup_id))
    now = server.clock.wall()
    if server.config.backup_freshness_s > 0:
        snapshot.forget_written_after(now - server.config.backup_freshness_s)
    counts = snapshot.namespace_counts()
    backup = BackupMeta(
        backup_id=backup_id,
        source_index_name=meta.name,
        source_index_id=meta.index_id,
        name=name,
        description=description,
        cloud=meta.cloud,
        region=meta.region,
        dimension=meta.dimension,
        metric=meta.metric,
        vector_type=meta.vector_type,
        record_count=sum(counts.values()),
        namespace_count=sum(1 for n in counts.values() if n > 0),
        size_bytes=snapshot.size_bytes(),
        created_at=now,
        ready_at=now + server.config.backup_ready_ms / 1000,
        tags=dict(meta.tags),
    )
    if snapshot.path is None:
        server.backup_stores[backup_id] = snapshot
    else:
        snapshot.close()
    server.catalog.save_backup(backup)
    return json_response(backup_model(backup, now, api_version(request)), 201)


def _sorted_backups(backups: Sequence[BackupMeta]) -> list[BackupMeta]:
    return sorted(backups, key=lambda b: (-b.created_at, b.backup_id))


async def list_index_backups(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    name = request.match_info["name"]
    index_or_404(server, name)
    version, now = api_version(request), server.clock.wall()
    items = _sorted_backups([b for b in server.catalog.backups.values() if b.source_index_name == name])
    return _page(request, items, lambda b: backup_model(b, now, version))


async def list_project_backups(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    version, now = api_version(request), server.clock.wall()
    items = _sorted_backups(list(server.catalog.backups.values()))
    return _page(request, items, lambda b: backup_model(b, now, version))


async def describe_backup(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    return json_response(backup_model(_backup_or_404(request), server.clock.wall(), api_version(request)))


async def delete_backup(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    backup = _backup_or_404(request)
    now = server.clock.wall()
    pending = [
        job.restore_job_id
        for job in server.catalog.restores.values()
        if job.backup_id == backup.backup_id and now < job.done_at
    ]
    if pending:
        raise ApiProblem(
            412,
            "Unable to delete backup. There are pending restore jobs for this backup: "
            f"[{', '.join(pending)}]",
        )
    server.catalog.drop_backup(backup.backup_id)
    store = server.backup_stores.pop(backup.backup_id, None)
    if store is not None:
        store.close()
    path = server.catalog.backup_path(backup.backup_id)
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return web.Response(status=202)


async def create_index_from_backup(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    backup = _backup_or_404(request)
    doc = await read_json_object(request, plane="control")
    name = validate_index_name(doc.get("name"))
    tags = parse_tags(doc.get("tags"), allow_empty_values=False)
    protection = doc.get("deletion_protection", "disabled")
    if protection not in ("enabled", "disabled"):
        raise ApiProblem(400, f"deletion_protection must be 'enabled' or 'disabled', not {protection!r}.")
    if name in server.indexes:
        raise ApiProblem(409, "Resource already exists.")
    now = server.clock.wall()
    done_at = now + server.config.restore_ms / 1000
    meta = IndexMeta(
        name=name,
        index_id=str(uuid.uuid4()),
        dimension=backup.dimension,
        metric=backup.metric,
        vector_type=backup.vector_type,
        cloud=backup.cloud,
        region=backup.region,
        deletion_protection=str(protection),
        created_at=now,
        tags=tags or dict(backup.tags),
        source_backup_id=backup.backup_id,
        ready_at=done_at,
    )
    source = server.backup_stores.get(backup.backup_id)
    opened = source is None
    if source is None:
        source = IndexStore(server.catalog.backup_path(backup.backup_id))
    try:
        store = source.copy_to(server.catalog.index_path(meta.index_id))
    finally:
        if opened:
            source.close()
    await server.add_index(meta, store)
    job = RestoreJobMeta(
        restore_job_id=str(uuid.uuid4()),
        backup_id=backup.backup_id,
        target_index_name=name,
        target_index_id=meta.index_id,
        created_at=now,
        done_at=done_at,
    )
    server.catalog.save_restore(job)
    return json_response({"restore_job_id": job.restore_job_id, "index_id": meta.index_id}, 202)


async def list_restore_jobs(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    now = server.clock.wall()
    jobs = sorted(server.catalog.restores.values(), key=lambda j: (-j.created_at, j.restore_job_id))
    return _page(request, jobs, lambda j: restore_job_model(j, now))


async def describe_restore_job(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    job_id = request.match_info["job_id"]
    job = server.catalog.restores.get(job_id)
    if job is None:
        raise ApiProblem(404, f"Restore job {job_id} not found.")
    return json_response(restore_job_model(job, server.clock.wall()))


def add_backup_routes(app: web.Application) -> None:
    app.router.add_post("/indexes/{name}/backups", create_backup)
    app.router.add_get("/indexes/{name}/backups", list_index_backups)
    app.router.add_get("/backups", list_project_backups)
    app.router.add_get("/backups/{backup_id}", describe_backup)
    app.router.add_delete("/backups/{backup_id}", delete_backup)
    app.router.add_post("/backups/{backup_id}/create-index", create_index_from_backup)
    app.router.add_get("/restore-jobs", list_restore_jobs)
    app.router.add_get("/restore-jobs/{job_id}", describe_restore_job)
