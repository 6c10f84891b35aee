"""An in-memory DataPlane double: sorted IDs per namespace, keyset list tokens, a page cap."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio

from bulkops.engine.sources import ListSource, Page
from bulkops.errors import BadRequestError, ServerError
from bulkops.models import FetchPage, IdPage, Record


class FakeDataPlane:
    """Keeps IDs sorted (bitwise order) per namespace; a list token is ``"after:" + last ID``.

    ``fail_every``: every n-th delete raises ServerError (the pipeline must not lose its place).
    ``latency``: seconds each call sleeps, so calls overlap like real requests.
    """

    def __init__(
        self,
        records: Mapping[str, Iterable[str]] | None = None,
        *,
        page_cap: int = 100,
        latency: float = 0.0,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.namespaces: dict[str, list[str]] = {ns: sorted(set(ids)) for ns, ids in (records or {}).items()}
        self.metadata: dict[str, Mapping[str, Any]] = dict(metadata or {})
        self.page_cap = page_cap
        self.latency = latency
        self.calls: dict[str, int] = {}
        self.deleted_batches: list[tuple[str, ...]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def host(self) -> str:
        return "http://fake.local"

    async def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.latency)
        finally:
            self.in_flight -= 1

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        await self._call("list")
        ids = self.namespaces.get(namespace, [])
        prefix = prefix or ""
        start = bisect.bisect_left(ids, prefix)
        if token is not None:
            if not token.startswith("after:"):
                raise BadRequestError(400, "bad pagination token")
            start = max(start, bisect.bisect_right(ids, token[len("after:") :]))
        out: list[str] = []
        for record_id in ids[start:]:
            if not record_id.startswith(prefix):
                break
            out.append(record_id)
            if len(out) >= min(limit, self.page_cap):
                break
        more = bool(out) and len(out) >= min(limit, self.page_cap)
        if more:
            index = bisect.bisect_right(ids, out[-1])
            more = index < len(ids) and ids[index].startswith(prefix)
        return IdPage(tuple(out), "after:" + out[-1] if more else None)

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        await self._call("fetch")
        present = set(self.namespaces.get(namespace, []))
        return {i: Record(i, (0.0,)) for i in ids if i in present}

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await self._call("delete")
        if len(ids) > 1000:
            raise BadRequestError(400, "too many ids")
        self.deleted_batches.append(tuple(ids))
        stored = self.namespaces.get(namespace, [])
        doomed = set(ids)
        self.namespaces[namespace] = [i for i in stored if i not in doomed]

    async def delete_all(self, *, namespace: str) -> None:
        await self._call("delete_all")
        self.namespaces[namespace] = []

    async def delete_by_filter(self, filter: Mapping[str, Any], *, namespace: str) -> None:
        await self._call("delete_by_filter")
        self.namespaces[namespace] = [
            i for i in self.namespaces.get(namespace, []) if not _matches(self.metadata.get(i, {}), filter)
        ]

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        await self._call("fetch_by_metadata")
        stored = self.namespaces.get(namespace, [])
        matching = [i for i in stored if _matches(self.metadata.get(i, {}), filter)]
        start = int(token or 0)
        chunk = matching[start : start + limit]
        nxt = str(start + limit) if start + limit < len(matching) else None
        return FetchPage(tuple(Record(i, (0.0,)) for i in chunk), nxt, namespace)

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        await self._call("upsert")
        ids = set(self.namespaces.get(namespace, []))
        ids.update(r.id for r in records)
        self.namespaces[namespace] = sorted(ids)
        return len(records)

    async def describe_index_stats(self) -> Mapping[str, Any]:
        await self._call("describe_index_stats")
        return {
            "namespaces": {ns: {"vectorCount": len(ids)} for ns, ids in self.namespaces.items() if ids},
            "totalVectorCount": sum(len(ids) for ids in self.namespaces.values()),
        }

    async def list_namespaces(self, *, prefix: str | None = None) -> list[Mapping[str, Any]]:
        await self._call("list_namespaces")
        return [
            {"name": ns, "record_count": len(ids)}
            for ns, ids in sorted(self.namespaces.items())
            if ids and ns.startswith(prefix or "")
        ]

    async def delete_namespace(self, name: str) -> None:
        await self._call("delete_namespace")
        self.namespaces.pop(name, None)


class FlakyDataPlane(FakeDataPlane):
    """Every ``fail_every``-th delete fails with a 500 before doing anything."""

    def __init__(self, *args: Any, fail_every: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fail_every = fail_every
        self._deletes = 0

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        self._deletes += 1
        if self._deletes % self.fail_every == 0:
            raise ServerError(500, "injected")
        await super().delete_ids(ids, namespace=namespace)


def _matches(metadata: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    """Equality filters only ({"field": value} or {"field": {"$eq": value}}): enough for engine tests."""
    for key, want in filter.items():
        if isinstance(want, Mapping):
            want = want.get("$eq")
        if metadata.get(key) != want:
            return False
    return True


async def collect_pages(source: ListSource) -> list[Page]:
    """Run ``source`` to the end and return every page it produced, in arrival order."""
    send, receive = anyio.create_memory_object_stream[Page](4)
    pages: list[Page] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(source.run, send)
        async with receive:
            async for page in receive:
                pages.append(page)
    return pages
