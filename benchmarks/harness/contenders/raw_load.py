"""Raw load on the local server, for its ceiling: as many fetches or list pages as it answers.

Not a user's client: the thinnest one that can keep the server busy, so the figure is the server's.
``concurrency`` (default 8) loops for the time budget, over REST (aiohttp, the answer counted without
decoding its floats) or gRPC (grpc.aio with the project's messages, the answer decoded by upb, which
costs ~1 ms per 1,000 records). Each fetch asks for the next 1,000 IDs of the IDs file (in its shuffled
order, wrapping around), so records are fetched about once each, as an export fetches them, rather than
served from the server's answer cache; each list loop follows one pagination chain over a sixteenth of
the target prefix and starts over at its end. The harness divides the server's CPU over the run by the
requests counted here: server CPU per request, the figure that does not depend on what else shares the
machine.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import WorkerSpec, transport_of

__all__ = ["run"]

_DEFAULT_CONCURRENCY = 8
_MAX_MESSAGE = 256 * 1024 * 1024
_HEX = "0123456789abcdef"


def run(spec: WorkerSpec) -> Outcome:
    return asyncio.run(_run(spec))


class _Ids:
    """The next 1,000 IDs to fetch, shared by every loop."""

    def __init__(self, path: str) -> None:
        with open(path, encoding="ascii") as source:
            ids = [line.strip() for line in source if line.strip()]
        self._batches = itertools.cycle([ids[i : i + 1000] for i in range(0, len(ids), 1000)])

    def next(self) -> list[str]:
        return next(self._batches)


async def _run(spec: WorkerSpec) -> Outcome:
    outcome = Outcome(transport=transport_of(spec.contender))
    one = await (_grpc_call if outcome.transport == "grpc" else _rest_call)(spec)
    deadline = time.perf_counter() + spec.budget_s

    async def loop(worker: int) -> None:
        token: list[str | None] = [None]
        while time.perf_counter() < deadline:
            items = await one(worker, token)
            outcome.processed += items
            outcome.requests += 1

    try:
        await asyncio.gather(*(loop(w) for w in range(spec.concurrency or _DEFAULT_CONCURRENCY)))
    except Exception as exc:
        code = getattr(exc, "code", None)
        if callable(code):  # a gRPC status: its code and message, not the multi-line repr
            raise RuntimeError(f"gRPC {code().name}: {exc.details()}") from None  # type: ignore[attr-defined]
        raise
    finally:
        closer = getattr(one, "close", None)
        if closer is not None:
            await closer()
    return outcome


Call = Callable[[int, list[str | None]], Awaitable[int]]


async def _rest_call(spec: WorkerSpec) -> Call:
    import aiohttp

    headers = {"Api-Key": spec.api_key, "X-Pinecone-Api-Version": "2025-04"}
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    host, ns = spec.host.rstrip("/"), quote(spec.namespace, safe="")
    ids = _Ids(str(spec.ids_file))

    async def fetch(worker: int, token: list[str | None]) -> int:
        query = "&".join("ids=" + quote(i, safe="") for i in ids.next())
        async with session.get(f"{host}/vectors/fetch?namespace={ns}&{query}", headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"fetch answered {response.status}: {body[:200]!r}")
        return body.count(b'{"id":"')

    async def list_page(worker: int, token: list[str | None]) -> int:
        prefix = quote(spec.prefix + _HEX[worker % 16], safe="")
        url = f"{host}/vectors/list?namespace={ns}&prefix={prefix}&limit=100"
        if token[0]:
            url += "&paginationToken=" + quote(token[0], safe="")
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"list answered {response.status}: {body[:200]!r}")
        doc = orjson.loads(body)
        token[0] = (doc.get("pagination") or {}).get("next")
        return len(doc.get("vectors") or [])

    call: Any = fetch if spec.scenario == "server-fetch" else list_page
    call.close = session.close
    return call  # type: ignore[no-any-return]


async def _grpc_call(spec: WorkerSpec) -> Call:
    import grpc

    from bulkops.protos import vector_service_pb2 as pb
    from bulkops.protos.methods import METHODS

    address = urlsplit(spec.host).netloc
    options = [
        ("grpc.max_receive_message_length", _MAX_MESSAGE),
        ("grpc.max_send_message_length", _MAX_MESSAGE),
    ]
    channel = grpc.aio.insecure_channel(address, options=options)
    metadata = (("api-key", spec.api_key),)
    ids = _Ids(str(spec.ids_file))

    def stub(name: str) -> Any:
        method = METHODS[name]
        return channel.unary_unary(
            method.path,
            request_serializer=method.request.SerializeToString,
            response_deserializer=method.response.FromString,
        )

    fetch_rpc, list_rpc = stub("Fetch"), stub("List")

    async def fetch(worker: int, token: list[str | None]) -> int:
        answer = await fetch_rpc(pb.FetchRequest(ids=ids.next(), namespace=spec.namespace), metadata=metadata)
        return len(answer.vectors)

    async def list_page(worker: int, token: list[str | None]) -> int:
        request = pb.ListRequest(prefix=spec.prefix + _HEX[worker % 16], limit=100, namespace=spec.namespace)
        if token[0]:
            request.pagination_token = token[0]
        answer = await list_rpc(request, metadata=metadata)
        token[0] = (
            answer.pagination.next if answer.HasField("pagination") and answer.pagination.next else None
        )
        return len(answer.vectors)

    call: Any = fetch if spec.scenario == "server-fetch" else list_page
    call.close = channel.close
    return call  # type: ignore[no-any-return]
