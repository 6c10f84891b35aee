"""The local server: control plane on one port, one socket per index (REST and gRPC), one loop.

``serve_local(config)`` starts it in the current loop; :class:`LocalServer` also offers direct
helpers (create an index, seed records, read them back) that skip HTTP, for fast test fixtures.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.models import Record
from bulkops.server.admission import Admission, InjectedReset
from bulkops.server.auth import check_api_key
from bulkops.server.catalog import Catalog, IndexMeta
from bulkops.server.codec import record_from_stored, stored_from_record
from bulkops.server.config import ServerConfig
from bulkops.server.context import CONTEXT, IndexContext, next_request_id
from bulkops.server.data_plane import add_record_routes
from bulkops.server.front import IndexFront, PipeRegistry, reset_connection
from bulkops.server.grpc_service import VectorService
from bulkops.server.namespaces import add_namespace_routes
from bulkops.server.ports import PortInUseError, bind_failure, listen_on_index_port
from bulkops.server.query import add_query_routes
from bulkops.server.storage import IndexStore
from bulkops.server.tls import server_tls_context
from bulkops.server.wire import ApiProblem, Plane, problem_response

__all__ = ["LocalServer", "serve_local"]

log = logging.getLogger("bulkops.server")

MAX_BODY_BYTES = 64 * 1024 * 1024  # so we answer oversize upserts ourselves, with Pinecone's 400
MAX_LINE_BYTES = 4 * 1024 * 1024  # fetch puts up to 1000 IDs of 512 characters in the query string
_HANDLER_ARGS = {"max_line_size": MAX_LINE_BYTES, "max_field_size": MAX_LINE_BYTES}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST and no answer (an injected 'connection reset')."""
    if isinstance(request.transport, asyncio.Transport):
        reset_connection(request.transport)


def make_middleware(plane: Plane, api_key: str | None, admission: Admission | None = None) -> Middleware:
    """Key check, Pinecone-shaped errors, and the promise that nothing escapes as a crash."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if admission is not None:
            admission.begin_request()
        try:
            check_api_key(request.headers.get("Api-Key"), api_key)
            response = await handler(request)
            if admission is not None:
                await admission.after_work()
        except ApiProblem as problem:
            response = problem_response(problem, plane)
        except InjectedReset:
            _reset(request)
            response = web.Response(status=500)
        except web.HTTPException as exc:
            if exc.status == 413:
                text = f"Request body is larger than {MAX_BODY_BYTES} bytes."
            elif exc.status == 404:
                text = f"Not found: {request.method} {request.path}"
            elif exc.status == 405:
                text = f"Method {request.method} is not allowed on {request.path}"
            else:
                text = exc.reason
            response = problem_response(ApiProblem(exc.status, text), plane)
        except Exception as exc:  # never crash: a bug answers 500 and is logged
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = problem_response(ApiProblem(500, f"Internal error: {type(exc).__name__}"), plane)
        response.headers["x-pinecone-request-id"] = next_request_id()
        return response

    return middleware


@dataclass(slots=True)
class IndexRuntime:
    """A served index: its context (meta + store), its REST app's runner, and the front answering
    REST and gRPC on ``port``."""

    context: IndexContext
    runner: web.AppRunner
    front: IndexFront
    port: int

    async def close(self) -> None:
        await self.front.close()
        await self.runner.cleanup()
        self.context.store.close()


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
        self._control: web.AppRunner | None = None
        self.pipes = PipeRegistry()
        self.grpc = VectorService(
            api_key=config.api_key, admission=self.admission, pipes=self.pipes, index_context=self._context
        )
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        from bulkops.server.control_plane import build_control_app

        await self.grpc.start()
        for meta in list(self.catalog.indexes.values()):
            await self._open(meta, IndexStore(self.catalog.index_path(meta.index_id)))
        self._control, self.port = await _start_site(build_control_app(self), self.config, self._tls)

    async def close(self) -> None:
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
            handler_args=_HANDLER_ARGS,
        )
        app[CONTEXT] = context
        add_record_routes(app)
        add_namespace_routes(app)
        add_query_routes(app)
        runner = _runner(app)
        await runner.setup()
        front = IndexFront(meta.name, runner, self.grpc.port, self.pipes)
        try:
            port = await listen_on_index_port(
                lambda p: front.start(self.config.host, p, self._tls),
                index=meta.name,
                kept=meta.port,
                base=self.config.index_port_base,
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
        runtime = self.indexes.pop(name)
        await runtime.close()
        self.catalog.drop_index(name)
        path = self.catalog.index_path(runtime.context.meta.index_id)
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)

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
