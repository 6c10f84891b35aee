"""The local server on a background thread with its own event loop, for sync callers (the SDK)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

from bulkops.models import Record
from bulkops.server.app import LocalServer
from bulkops.server.config import ServerConfig

__all__ = ["ServerThread"]

_T = TypeVar("_T")


class ServerThread:
    """``with ServerThread(config) as server:`` — same helpers as :class:`LocalServer`, callable
    from the calling thread (each runs on the server's loop)."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bulkops-server", daemon=True)
        self._server: LocalServer | None = None

    def __enter__(self) -> ServerThread:
        self._thread.start()
        server = LocalServer(self.config)
        try:
            self.run(server.start())
        except BaseException:
            self.run(server.close())
            self._stop_loop()
            raise
        self._server = server
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self.run(self._server.close())
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the server's loop and wait for its result (e.g. direct store access)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    async def _sync(self, fn: Any, *args: Any) -> Any:
        return fn(*args)

    @property
    def server(self) -> LocalServer:
        assert self._server is not None, "use ServerThread as a context manager"
        return self._server

    @property
    def url(self) -> str:
        return self.server.url

    def index_host(self, name: str) -> str:
        return str(self.run(self._sync(self.server.index_host, name)))

    def create_index_direct(
        self, name: str, dimension: int | None = 8, metric: str = "cosine", **kw: Any
    ) -> str:
        return self.run(self.server.create_index_direct(name, dimension, metric, **kw))

    def seed(self, index: str, namespace: str, records: Iterable[Record]) -> int:
        return self.run(self.server.seed(index, namespace, records))

    def ids(self, index: str, namespace: str = "") -> list[str]:
        result: list[str] = self.run(self._sync(self.server.ids, index, namespace))
        return result

    def get_records(self, index: str, namespace: str, ids: Iterable[str]) -> list[Record]:
        result: list[Record] = self.run(self._sync(self.server.get_records, index, namespace, list(ids)))
        return result

    def count(self, index: str, namespace: str = "") -> int:
        return int(self.run(self._sync(self.server.count, index, namespace)))
