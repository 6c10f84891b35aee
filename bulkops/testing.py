"""Test doubles for code built on bulkops (and for bulkops's own tests), like ``trio.testing``.

- :class:`FakeClock` — virtual time: ``jump()`` (synchronous), ``advance()``, or ``autojump=True``.
  Pass it as ``clock=`` to the client, the engine, the jobs or the local server.
- :class:`MockTransport` — the client's HTTP seam answered by a function; every request recorded.
  :class:`MockGrpcTransport` — the same for its gRPC seam (``GrpcReply`` answers, ``SentRpc`` kept).
- :class:`FakeDataPlane` — an in-memory :class:`~bulkops.api.protocols.DataPlane` (keyset-paginated
  list, fetch, deletes, upsert) whose calls take ``latency`` seconds on its clock.
- :func:`settle` — return once every other task is blocked (what ``FakeClock`` waits for).
- :func:`local_server` / :func:`local_server_thread` — the local Pinecone-compatible server in this
  process on a free port, with indexes created and seeded directly (no HTTP) before it is handed out.

Not re-exported from ``bulkops``, and nothing in the library imports this module.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.grpc.transport import GrpcReply, MockGrpcTransport, SentRpc
from bulkops.api.rest.transport import HttpResponse, MockTransport, SentRequest
from bulkops.clock import SYSTEM_CLOCK, Clock, FakeClock, settle
from bulkops.errors import BadRequestError, ServerError
from bulkops.limits import ScopedLimiter
from bulkops.models import MAX_IDS_PER_REQUEST, FetchPage, IdPage, Record
from bulkops.server import LocalServer, ServerConfig, ServerThread, serve_local

__all__ = [
    "FakeClock",
    "FakeDataPlane",
    "GrpcReply",
    "HttpResponse",
    "MockGrpcTransport",
    "MockTransport",
    "SeedIndex",
    "SentRequest",
    "SentRpc",
    "local_server",
    "local_server_thread",
    "settle",
]

_TOKEN_PREFIX = "after:"


class FakeDataPlane:
    """IDs kept sorted (bitwise order) per namespace; a list token is ``"after:" + last ID``.

    ``page_cap`` caps list pages whatever limit is asked. ``latency`` is the seconds every call sleeps
    on ``clock`` (so calls overlap like real requests; use a :class:`FakeClock` to make that free and
    exact). ``fail_every``: every n-th ``delete_ids`` raises a 500 before deleting anything.
    ``metadata`` maps an ID to its metadata, for equality filters. ``limiter``: list requests pass
    it first, as the client's executor passes every request (fan-out tests under a list budget).
    ``calls``, ``deleted_batches`` and ``max_in_flight`` record what the code under test asked for.
    """

    def __init__(
        self,
        records: Mapping[str, Iterable[str]] | None = None,
        *,
        page_cap: int = 100,
        latency: float = 0.0,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
        fail_every: int | None = None,
        limiter: ScopedLimiter | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.limiter = limiter
        self.namespaces: dict[str, list[str]] = {ns: sorted(set(ids)) for ns, ids in (records or {}).items()}
        self.metadata: dict[str, Mapping[str, Any]] = dict(metadata or {})
        self.page_cap = page_cap
        self.latency = latency
        self.fail_every = fail_every
        self.clock = clock
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
            await self.clock.sleep(self.latency)
        finally:
            self.in_flight -= 1

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        if self.limiter is not None:
            await self.limiter.acquire("list", namespace=namespace)
        await self._call("list")
        ids = self.namespaces.get(namespace, [])
        prefix = prefix or ""
        start = bisect.bisect_left(ids, prefix)
        if token is not None:
            if not token.startswith(_TOKEN_PREFIX):
                raise BadRequestError(400, "bad pagination token")
            start = max(start, bisect.bisect_right(ids, token[len(_TOKEN_PREFIX) :]))
        size = min(limit, self.page_cap)
        out: list[str] = []
        for record_id in ids[start:]:
            if not record_id.startswith(prefix):
                break
            out.append(record_id)
            if len(out) >= size:
                break
        more = bool(out) and len(out) >= size
        if more:
            after = bisect.bisect_right(ids, out[-1])
            more = after < len(ids) and ids[after].startswith(prefix)
        return IdPage(tuple(out), _TOKEN_PREFIX + out[-1] if more else None)

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        await self._call("fetch")
        present = set(self.namespaces.get(namespace, []))
        return {i: Record(i, (0.0,)) for i in ids if i in present}

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await self._call("delete")
        if self.fail_every is not None and self.calls["delete"] % self.fail_every == 0:
            raise ServerError(500, "injected failure (FakeDataPlane fail_every)")
        if len(ids) > MAX_IDS_PER_REQUEST:
            raise BadRequestError(400, f"too many ids: {len(ids)} > {MAX_IDS_PER_REQUEST}")
        self.deleted_batches.append(tuple(ids))
        doomed = set(ids)
        self.namespaces[namespace] = [i for i in self.namespaces.get(namespace, []) if i not in doomed]

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


def _matches(metadata: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    """Equality filters only (``{"field": value}`` or ``{"field": {"$eq": value}}``)."""
    for key, want in filter.items():
        if isinstance(want, Mapping):
            want = want.get("$eq")
        if metadata.get(key) != want:
            return False
    return True


@dataclass(frozen=True, slots=True)
class SeedIndex:
    """An index :func:`local_server` creates before handing the server out; ``records`` per namespace."""

    name: str
    dimension: int | None = 8
    metric: str = "cosine"
    records: Mapping[str, Iterable[Record]] = field(default_factory=dict)


async def _create_indexes(server: LocalServer, indexes: Iterable[SeedIndex | str]) -> None:
    for index in indexes:
        seed = SeedIndex(index) if isinstance(index, str) else index
        await server.create_index_direct(seed.name, seed.dimension, seed.metric)
        for namespace, records in seed.records.items():
            await server.seed(seed.name, namespace, records)


@asynccontextmanager
async def local_server(
    *indexes: SeedIndex | str, config: ServerConfig | None = None, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[LocalServer]:
    """The local server in the current event loop (``ServerConfig()``: a free port on 127.0.0.1).

    ``indexes`` (a name alone means 8 dimensions, cosine) are created and seeded without HTTP.
    A pytest fixture is then ``async with local_server("src", config=ServerConfig(api_key=KEY)) as s:
    yield s``.
    """
    async with serve_local(config, clock=clock) as server:
        await _create_indexes(server, indexes)
        yield server


@contextmanager
def local_server_thread(
    *indexes: SeedIndex | str, config: ServerConfig | None = None
) -> Iterator[ServerThread]:
    """:func:`local_server` on a background thread with its own loop, for sync callers and child
    processes (the SDK, kill tests)."""
    with ServerThread(config) as thread:
        thread.run(_create_indexes(thread.server, indexes))
        yield thread
