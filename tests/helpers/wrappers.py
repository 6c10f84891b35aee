"""A DataPlane wrapper for job tests: shuffle completion order, crash after N calls, another host."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from bulkops.models import Record


class Crash(Exception):
    """Stands for the process dying in the middle of a job."""


class Wrapped:
    """Delegates to a real DataPlane; ``fetch``/``upsert``/deletes get random delays and an optional crash.

    ``host``: answer as if the index were served from another host (a restarted server).
    """

    def __init__(
        self,
        inner: Any,
        *,
        seed: int = 0,
        crash_after: int | None = None,
        max_delay: float = 0.01,
        host: str | None = None,
    ) -> None:
        self._inner = inner
        self._host = host
        self._rng = random.Random(seed)
        self._crash_after = crash_after
        self._max_delay = max_delay
        self.calls = 0
        self.upsert_sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def host(self) -> str:
        return self._host or str(self._inner.host)

    async def _maybe(self) -> None:
        self.calls += 1
        if self._crash_after is not None and self.calls > self._crash_after:
            raise Crash(f"crash after {self._crash_after} calls")
        await anyio.sleep(self._rng.random() * self._max_delay)

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        await self._maybe()
        result: Mapping[str, Record] = await self._inner.fetch(ids, namespace=namespace)
        return result

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        await self._maybe()
        self.upsert_sizes.append(len(records))
        count: int = await self._inner.upsert(records, namespace=namespace)
        return count

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await self._maybe()
        await self._inner.delete_ids(ids, namespace=namespace)

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        await self._maybe()
        await self._inner.delete_by_filter(filter, namespace=namespace)

    async def delete_all(self, *, namespace: str) -> None:
        await self._maybe()
        await self._inner.delete_all(namespace=namespace)

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> Any:
        await self._maybe()
        return await self._inner.fetch_by_metadata(filter, namespace=namespace, limit=limit, token=token)
