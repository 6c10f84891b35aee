"""Bulk imports as background jobs of the server: start, progress, cancel, resume after a restart.

One asyncio task per running import. It lists the import directory and reads Parquet in worker
threads (pyarrow never runs on the event loop) and writes each batch with ``IndexStore.upsert`` on the
loop, validated as an upsert is validated (:mod:`rows`) but not paced by the upsert rate limits, as
Pinecone's import is not. Status: ``Pending`` (``ServerConfig.import_pending_ms``) → ``InProgress`` →
``Completed``, or ``Failed`` (with ``error``), or ``Cancelled`` (``DELETE``).

**All or nothing.** An import first claims its target namespaces: each must not exist yet (the default
namespace must be empty), as Pinecone requires, and is created at once so nobody else writes into it.
An import that does not complete (failed, cancelled) deletes the namespaces it claimed, so the index
is as it was; ``recordsImported`` then reads 0 and ``error`` says how many records were removed. Bad
rows (and files with wrong columns) are skipped under ``errorMode.onError = "continue"`` (Pinecone's
default) and fail the import under ``"abort"``; a directory that is not an import layout, an unknown
bucket, missing credentials or a store that cannot be read fail it in either mode.

**Restarts.** ``files_done`` and ``records_imported`` are saved in the catalog after each file. A server
that restarts resumes every ``Pending``/``InProgress`` import from its first unfinished file; rows of
that file already written are written again, which upsert makes harmless, so the end state is that
of an uninterrupted import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bulkops.clock import Clock
from bulkops.errors import BulkopsError
from bulkops.server.bulk_import.failure import ImportFailure
from bulkops.server.bulk_import.layout import MAX_RECORDS, ImportPlan, scan_layout
from bulkops.server.catalog import Catalog, ImportMeta
from bulkops.server.config import ServerConfig
from bulkops.server.context import IndexContext
from bulkops.storage import Storage, open_storage
from bulkops.storage.diagnosis import scrub

__all__ = ["FINISHED", "BulkImports"]

log = logging.getLogger("bulkops.server")

FINISHED = ("Completed", "Failed", "Cancelled")
_ACTIVE = ("Pending", "InProgress")


@dataclass(slots=True)
class _Running:
    """What is not in the catalog yet: the file being read, and why the task is being stopped."""

    task: asyncio.Task[None] | None = None
    records_in_file: int = 0
    percent: float = 0.0
    stop: str | None = None  # "cancel" (DELETE), "shutdown" (server closing), "gone" (index deleted)


class BulkImports:
    """Every bulk import of one server. ``context_of(index_id)`` finds a served index (or None)."""

    def __init__(
        self,
        catalog: Catalog,
        config: ServerConfig,
        clock: Clock,
        context_of: Callable[[str], IndexContext | None],
    ) -> None:
        self._catalog = catalog
        self._config = config
        self._clock = clock
        self._context_of = context_of
        self._running: dict[str, _Running] = {}
        self._next_id = 1 + max((int(i) for i in catalog.imports if i.isdigit()), default=0)

    # -- what the routes use ------------------------------------------------------------------------
    def start(self, ctx: IndexContext, uri: str, error_mode: str, integration_id: str | None) -> ImportMeta:
        meta = ImportMeta(
            import_id=str(self._next_id),
            index_id=ctx.meta.index_id,
            uri=uri,
            error_mode=error_mode,
            created_at=self._clock.wall(),
            integration_id=integration_id,
        )
        self._next_id += 1
        self._catalog.save_import(meta)
        self._launch(meta)
        return meta

    def of_index(self, index_id: str) -> list[ImportMeta]:
        found = [m for m in self._catalog.imports.values() if m.index_id == index_id]
        return sorted(found, key=lambda m: int(m.import_id))

    def get(self, index_id: str, import_id: str) -> ImportMeta | None:
        meta = self._catalog.imports.get(import_id)
        return meta if meta is not None and meta.index_id == index_id else None

    def progress(self, meta: ImportMeta) -> tuple[int, float]:
        """(records imported, percent complete) as of now, the running file included."""
        running = self._running.get(meta.import_id)
        if running is None or meta.status in FINISHED:
            return meta.records_imported, meta.percent_complete
        return meta.records_imported + running.records_in_file, running.percent

    async def cancel(self, meta: ImportMeta) -> None:
        """Stop an unfinished import and undo what it wrote (no effect on a finished one)."""
        if meta.status in FINISHED:
            return
        await self._stop(meta.import_id, "cancel")

    # -- server lifecycle -----------------------------------------------------------------------
    def resume_all(self) -> None:
        """Start again every import that was running when the server stopped."""
        for meta in list(self._catalog.imports.values()):
            if meta.status in _ACTIVE and self._context_of(meta.index_id) is not None:
                self._launch(meta)

    async def close(self) -> None:
        """Stop every task and keep its saved state, for :meth:`resume_all` at the next start."""
        for import_id in list(self._running):
            await self._stop(import_id, "shutdown")

    async def forget_index(self, index_id: str) -> None:
        """The index is being deleted: stop its imports and forget them."""
        for meta in self.of_index(index_id):
            await self._stop(meta.import_id, "gone")
            self._catalog.drop_import(meta.import_id)

    def _launch(self, meta: ImportMeta) -> None:
        running = self._running[meta.import_id] = _Running(percent=meta.percent_complete)
        running.task = asyncio.get_running_loop().create_task(self._run(meta, running))

    async def _stop(self, import_id: str, reason: str) -> None:
        running = self._running.get(import_id)
        if running is None or running.task is None:
            return
        running.stop = reason
        running.task.cancel()
        await asyncio.wait([running.task])  # not `await task`: its CancelledError is not ours

    # -- one import -----------------------------------------------------------------------------
    async def _run(self, meta: ImportMeta, running: _Running) -> None:
        ctx: IndexContext | None = None
        try:
            if meta.status == "Pending" and self._config.import_pending_ms > 0:
                await self._clock.sleep(self._config.import_pending_ms / 1000)
            ctx = self._context_of(meta.index_id)
            if ctx is None:
                return
            storage = await asyncio.to_thread(_open, meta.uri)
            plan = await asyncio.to_thread(scan_layout, storage)
            self._claim(ctx, meta, plan)
            for position in range(meta.files_done, len(plan.files)):
                await self._import_file(ctx, meta, running, storage, plan, position)
            self._finish(meta, running, "Completed", None, ctx)
        except ImportFailure as failure:
            self._finish(meta, running, "Failed", str(failure), ctx)
        except asyncio.CancelledError:
            if running.stop == "cancel":
                self._finish(meta, running, "Cancelled", None, ctx)
            raise
        except Exception as exc:  # a bug: fail the import, never the server
            log.exception("bulk import %s failed unexpectedly", meta.import_id)
            self._finish(meta, running, "Failed", f"internal error: {type(exc).__name__}", ctx)
        finally:
            self._running.pop(meta.import_id, None)

    def _claim(self, ctx: IndexContext, meta: ImportMeta, plan: ImportPlan) -> None:
        """Check and take the target namespaces (no await inside: no request can slip in between)."""
        if meta.namespaces:  # resumed after a restart: they are ours already
            if sorted(meta.namespaces) != sorted(plan.namespaces):
                raise ImportFailure(
                    f"{meta.uri} changed while the import was interrupted (it now holds namespaces "
                    f"{_names(plan.namespaces)}, not {_names(meta.namespaces)}): start a new import"
                )
            return
        for ns in plan.namespaces:
            if ns == "":
                held = ctx.store.count("")
                if held:
                    raise ImportFailure(
                        f"the default namespace (__default__) of index {ctx.meta.name!r} holds {held} "
                        "records; a bulk import only fills an empty default namespace: delete them first"
                    )
            elif ctx.store.namespace_exists(ns):
                raise ImportFailure(
                    f"namespace {ns!r} already exists in index {ctx.meta.name!r}; a bulk import only creates "
                    "new namespaces: delete it first or import into another directory name"
                )
        meta.namespaces = plan.namespaces
        meta.status = "InProgress"
        self._catalog.save_import(meta)  # saved before the namespaces exist: a crash now resumes here
        now = self._clock.wall()
        for ns in plan.namespaces:
            ctx.store.create_namespace(ns, now)

    async def _import_file(
        self,
        ctx: IndexContext,
        meta: ImportMeta,
        running: _Running,
        storage: Storage,
        plan: ImportPlan,
        position: int,
    ) -> None:
        from bulkops.server.bulk_import.source import FileRows  # pyarrow: only once an import runs

        item = plan.files[position]
        source = FileRows(storage, item, ctx.meta.dimension)
        problem = await asyncio.to_thread(source.open)
        abort = meta.error_mode == "abort"
        if problem is not None:
            if abort:
                raise ImportFailure(f"{source.where}: {problem}")
            log.warning("bulk import %s skips %s: %s", meta.import_id, source.where, problem)
        done_before = sum(f.size for f in plan.files[:position])
        rate = self._config.import_records_per_second
        ahead = None if problem is not None else asyncio.ensure_future(asyncio.to_thread(source.next))
        try:
            while ahead is not None:
                rows = await ahead
                if rows is None:
                    break
                ahead = asyncio.ensure_future(asyncio.to_thread(source.next))  # read while we write
                if rows.rejected:
                    row, why = rows.rejected[0]
                    if abort:
                        raise ImportFailure(f"{source.where} row {row}: {why}")
                    log.warning(
                        "bulk import %s skips %d rows of %s (row %d: %s)",
                        meta.import_id,
                        len(rows.rejected),
                        source.where,
                        row,
                        why,
                    )
                if rows.records:
                    ctx.store.upsert(item.namespace, rows.records, self._clock.wall())
                running.records_in_file += len(rows.records)
                if meta.records_imported + running.records_in_file > MAX_RECORDS:
                    raise ImportFailure(
                        f"{meta.uri} holds more than {MAX_RECORDS} records; one import takes at most "
                        f"{MAX_RECORDS}: split it into several imports"
                    )
                share = source.rows_read / source.total_rows if source.total_rows else 1.0
                running.percent = _percent(done_before + item.size * share, plan.total_bytes)
                if rate:
                    await self._clock.sleep((len(rows.records) + len(rows.rejected)) / rate)
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
        meta.files_done = position + 1
        meta.records_imported += running.records_in_file
        meta.percent_complete = running.percent = _percent(done_before + item.size, plan.total_bytes)
        running.records_in_file = 0
        self._catalog.save_import(meta)

    def _finish(
        self, meta: ImportMeta, running: _Running, status: str, error: str | None, ctx: IndexContext | None
    ) -> None:
        if running.stop in ("shutdown", "gone"):
            return  # the saved state stays as it was: resumed at the next start, or dropped
        if status != "Completed" and ctx is not None and meta.namespaces:
            removed = meta.records_imported + running.records_in_file
            for ns in meta.namespaces:
                ctx.store.delete_namespace(ns)
            meta.namespaces = []
            meta.records_imported = running.records_in_file = 0
            if removed and error is not None:
                error += f" (the {removed} records it had written were removed)"
        if status == "Completed":
            meta.percent_complete = 100.0
        meta.status = status
        meta.error = scrub(error) if error is not None else None
        meta.finished_at = self._clock.wall()
        self._catalog.save_import(meta)


def _open(uri: str) -> Storage:
    try:
        return open_storage(uri)
    except BulkopsError as exc:
        raise ImportFailure(str(exc)) from None


def _percent(done: float, total: int) -> float:
    return round(min(99.9, 100.0 * done / total), 1) if total else 0.0


def _names(namespaces: list[str]) -> str:
    return ", ".join(repr(ns or "__default__") for ns in namespaces)
