"""The local server: control plane on one port, one socket per index (REST and gRPC), one loop.

``serve_local(config)`` starts it in the current loop; :class:`LocalServer` also offers direct
helpers (create an index, seed records, read them back) that skip HTTP, for fast test fixtures.
Both planes are composed here from the routes modules' ``add_*_routes(app)``; the handlers reach the
server through ``context.SERVER`` / ``context.CONTEXT`` and never import this module.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiohttp import web

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.models import Record
from bulkops.server.admission import Admission
from bulkops.server.backups import add_backup_routes
from bulkops.server.bulk_import import IMPORTS, BulkImports, add_import_routes
from bulkops.server.catalog import Catalog, IndexMeta
from bulkops.server.codec import record_from_stored, stored_from_record
from bulkops.server.config import ServerConfig
from bulkops.server.context import CONTEXT, SERVER, IndexContext, IndexRuntime
from bulkops.server.control_plane import add_index_routes
from bulkops.server.data_plane import add_record_routes
from bulkops.server.front import IndexFront, PipeRegistry
from bulkops.server.grpc_service import VectorService
from bulkops.server.middleware import HANDLER_ARGS, MAX_BODY_BYTES, make_middleware
from bulkops.server.namespaces import add_namespace_routes
from bulkops.server.ports import PortInUseError, bind_failure, listen_on_index_port
from bulkops.server.query import add_query_routes
from bulkops.server.storage import IndexStore
from bulkops.server.tls import server_tls_context

__all__ = ["LocalServer", "serve_local"]


def _runner(app: web.Application) -> web.AppRunner:
    # A short shutdown grace: a stalled request (fault injection) must not hold up closing the server.
    return web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)


async def _start_site(
    app: web.Application, config: ServerConfig, tls: ssl.SSLContext | None
) -> tuple[web.AppRunner, int]:
    runner = _runner(app)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_address=True, ssl_context=tls)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise PortInUseError(
            f"the control plane cannot listen on port {config.port} ({bind_failure(exc)}): "
            "choose another --port (0 = any free port)"
        ) from None
    bound = runner.addresses[0][1]
    return runner, int(bound)


class LocalServer:
    """A running local Pinecone-compatible server (see :func:`serve_local`)."""

    def __init__(self, config: ServerConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.clock = clock
        # TLS files are checked before anything is created on disk.
        self._tls = (
            server_tls_context(config.tls_cert, config.tls_key)
            if config.tls_cert is not None and config.tls_key is not None
            else None
        )
        self.catalog = Catalog(config.data_dir)
        self.admission = Admission(config, clock)
        self.indexes: dict[str, IndexRuntime] = {}
        self.backup_stores: dict[str, IndexStore] = {}  # in-memory mode only
        self.imports = BulkImports(self.catalog, config, clock, self._context_by_id)
        self._control: web.AppRunner | None = None
        self.pipes = PipeRegistry()
        self.grpc = VectorService(
            api_key=config.api_key, admission=self.admission, pipes=self.pipes, index_context=self._context
        )
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.grpc.start()
        for meta in list(self.catalog.indexes.values()):
            await self._open(meta, IndexStore(self.catalog.index_path(meta.index_id)))
        self.imports.resume_all()
        control = web.Application(
            middlewares=[make_middleware("control", self.config.api_key)], client_max_size=MAX_BODY_BYTES
        )
        control[SERVER] = self
        add_index_routes(control)
        add_backup_routes(control)
        self._control, self.port = await _start_site(control, self.config, self._tls)

    async def close(self) -> None:
        await self.imports.close()
        if self._control is not None:
            await self._control.cleanup()
        for runtime in list(self.indexes.values()):
            await runtime.close()
        self.indexes.clear()
        await self.grpc.stop()
        for store in self.backup_stores.values():
            store.close()
        self.catalog.close()

    @property
    def url(self) -> str:
        return f"{self.config.scheme}://{self.config.host}:{self.port}"

    def index_host(self, name: str) -> str:
        return f"{self.config.scheme}://{self.config.host}:{self._runtime(name).port}"

    def _context(self, name: str) -> IndexContext | None:
        runtime = self.indexes.get(name)
        return runtime.context if runtime is not None else None

    # -- indexes ------------------------------------------------------------------------------
    async def _open(self, meta: IndexMeta, store: IndexStore) -> IndexRuntime:
        context = IndexContext(meta, store, self.config, self.clock, self.admission)
        app = web.Application(
            middlewares=[make_middleware("data", self.config.api_key, self.admission)],
            client_max_size=MAX_BODY_BYTES,
            handler_args=HANDLER_ARGS,
        )
        app[CONTEXT] = context
        app[IMPORTS] = self.imports
        add_record_routes(app)
        add_namespace_routes(app)
        add_query_routes(app)
        add_import_routes(app)
        runner = _runner(app)
        await runner.setup()
        front = IndexFront(meta.name, runner, self.grpc.port, self.pipes)
        try:
            port = await listen_on_index_port(
                lambda p: front.start(self.config.host, p, self._tls),
                index=meta.name,
                kept=meta.port,
                base=self.config.new_index_ports_from,
                taken={other.port for other in self.catalog.indexes.values() if other.name != meta.name},
            )
        except BaseException:
            await runner.cleanup()
            store.close()
            raise
        if meta.port != port:
            meta.port = port
            self.catalog.save_index(meta)
        runtime = self.indexes[meta.name] = IndexRuntime(context, runner, front, port)
        return runtime

    async def add_index(self, meta: IndexMeta, store: IndexStore | None = None) -> IndexRuntime:
        """Register ``meta`` in the catalog and serve it (with ``store``, or a new empty one)."""
        if store is None:
            store = IndexStore(self.catalog.index_path(meta.index_id))
        self.catalog.save_index(meta)
        return await self._open(meta, store)

    async def drop_index(self, name: str) -> None:
        await self.imports.forget_index(self.indexes[name].context.meta.index_id)
        runtime = self.indexes.pop(name)
        await runtime.close()
        self.catalog.drop_index(name)
        path = self.catalog.index_path(runtime.context.meta.index_id)
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)

    def _context_by_id(self, index_id: str) -> IndexContext | None:
        for runtime in self.indexes.values():
            if runtime.context.meta.index_id == index_id:
                return runtime.context
        return None

    def _runtime(self, name: str) -> IndexRuntime:
        try:
            return self.indexes[name]
        except KeyError:
            raise KeyError(f"no index named {name!r} on this server") from None

    async def create_index_direct(
        self,
        name: str,
        dimension: int | None = 8,
        metric: str = "cosine",
        *,
        vector_type: str = "dense",
        deletion_protection: str = "disabled",
        tags: dict[str, str] | None = None,
    ) -> str:
        """Create and serve an index without HTTP; returns its host URL."""
        if name in self.indexes:
            raise ValueError(f"index {name!r} already exists")
        meta = IndexMeta(
            name=name,
            index_id=str(uuid.uuid4()),
            dimension=None if vector_type == "sparse" else dimension,
            metric=metric,
            vector_type=vector_type,
            cloud="aws",
            region="us-east-1",
            deletion_protection=deletion_protection,
            created_at=self.clock.wall(),
            tags=dict(tags or {}),
        )
        await self.add_index(meta)
        return self.index_host(name)

    # -- direct data access (tests and fixtures) ---------------------------------------------
    async def seed(
        self, index: str, namespace: str, records: Iterable[Record], *, batch: int = 10_000
    ) -> int:
        """Write records straight to storage (no HTTP, no validation beyond the ID); returns the count."""
        store = self._runtime(index).context.store
        total, chunk = 0, []
        for record in records:
            chunk.append(stored_from_record(record))
            if len(chunk) >= batch:
                total += store.upsert(namespace, chunk, self.clock.wall())
                chunk = []
        if chunk or total == 0:
            total += store.upsert(namespace, chunk, self.clock.wall())
        return total

    def ids(self, index: str, namespace: str = "") -> list[str]:
        """Every live ID in ``namespace``, in bitwise order."""
        store = self._runtime(index).context.store
        return store.all_ids(namespace)

    def get_records(self, index: str, namespace: str, ids: Iterable[str]) -> list[Record]:
        """The live records among ``ids``, in the order asked (missing ones left out)."""
        wanted = list(ids)
        found = {r.id: r for r in self._runtime(index).context.store.get(namespace, wanted, None)}
        return [record_from_stored(found[i]) for i in wanted if i in found]

    def count(self, index: str, namespace: str = "") -> int:
        return self._runtime(index).context.store.count(namespace)


@asynccontextmanager
async def serve_local(
    config: ServerConfig | None = None, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[LocalServer]:
    """Run the server in the current event loop for the duration of the ``async with``."""
    server = LocalServer(config or ServerConfig(), clock)
    try:
        await server.start()
        yield server
    finally:
        await server.close()
