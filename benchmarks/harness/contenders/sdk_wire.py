"""What the SDK baselines share: counting what the official SDK sends, and the files a user's loop uses.

Counting, without changing what the SDK does. REST: the SDK retries inside its own httpx transport
wrapper, which calls the plain ``httpx.HTTPTransport`` (or ``AsyncHTTPTransport``) once per attempt;
counting at that inner class gives attempts and 429s, and every retry waits in the SDK's one
backoff-sleep function, counted too. gRPC: the SDK's channel (compiled, not grpcio) retries inside, so
the loop counts its own calls (:func:`count_calls`) and the throttles the channel reports to the SDK's
process-wide bulk registry (RESOURCE_EXHAUSTED / UNAVAILABLE / ABORTED); retries are not visible.

Files: :class:`RecordOut` writes what a loop fetched as JSONL (Pinecone's vector JSON, one record per
line) or a Parquet directory (bulk-import layout, via :class:`~benchmarks.harness.parquet_out.ParquetOut`);
:func:`read_input` reads an import file back as upsertable dicts.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import orjson

from benchmarks.harness.parquet_out import ParquetOut

__all__ = [
    "COUNTS",
    "RecordOut",
    "chunks",
    "count_calls",
    "install_counters",
    "install_grpc_counters",
    "read_ids",
    "read_input",
    "upsert_chunks",
    "vector_doc",
]


class _Counts:
    attempts = 0
    http_429 = 0
    retries = 0


COUNTS = _Counts()


def install_counters() -> None:
    sync_handle = httpx.HTTPTransport.handle_request
    async_handle = httpx.AsyncHTTPTransport.handle_async_request

    def counted(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        COUNTS.attempts += 1
        response = sync_handle(self, request)
        if response.status_code == 429:
            COUNTS.http_429 += 1
        return response

    async def counted_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        COUNTS.attempts += 1
        response = await async_handle(self, request)
        if response.status_code == 429:
            COUNTS.http_429 += 1
        return response

    from pinecone._internal import http_client

    sync_sleep, async_sleep = http_client._retry_sleep, http_client._async_retry_sleep

    def counted_sleep(delay: float) -> None:
        COUNTS.retries += 1
        sync_sleep(delay)

    async def counted_async_sleep(delay: float) -> None:
        COUNTS.retries += 1
        await async_sleep(delay)

    http_client._retry_sleep = counted_sleep  # type: ignore[assignment]
    http_client._async_retry_sleep = counted_async_sleep  # type: ignore[assignment]
    httpx.HTTPTransport.handle_request = counted  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = counted_async  # type: ignore[method-assign]


def install_grpc_counters() -> None:
    """Count the throttles the SDK's gRPC channel reports (its retries stay inside the channel)."""
    from pinecone._internal.bulk.registry import GateRegistry

    report = GateRegistry.report_throttled

    def counted(self: GateRegistry, host: str, *args: Any, **kwargs: Any) -> None:
        COUNTS.http_429 += 1
        report(self, host, *args, **kwargs)

    GateRegistry.report_throttled = counted  # type: ignore[method-assign]


def count_calls(index: Any, *names: str) -> Any:
    """Count each call of ``index.<name>`` (one request each) as an attempt; returns ``index``."""
    for name in names:
        method = getattr(index, name)

        @functools.wraps(method)
        def counted(*args: Any, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            COUNTS.attempts += 1
            return _method(*args, **kwargs)

        setattr(index, name, counted)
    return index


def read_ids(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="ascii").splitlines() if line]


def read_input(path: str, fmt: str) -> Iterator[dict[str, Any]]:
    """The records of an import file as upsertable dicts (``id``, ``values``, ``metadata``)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for part in sorted(p for p in Path(path).rglob("*.parquet") if not p.name.startswith(".")):
            for batch in pq.ParquetFile(part).iter_batches(batch_size=1000):
                for row in batch.to_pylist():
                    meta = row.get("metadata")
                    yield {
                        "id": row["id"],
                        "values": row["values"],
                        "metadata": orjson.loads(meta) if meta else {},
                    }
        return
    with open(path, "rb") as source:
        for line in source:
            if line.strip():
                yield orjson.loads(line)


def chunks(items: Any, size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


MAX_UPSERT_BYTES = 2_000_000


def _wire_size(record: Any, wire: str) -> int:
    doc = record if isinstance(record, dict) else vector_doc(record)
    if wire == "grpc":  # packed float32 values, metadata as a Struct (about its JSON size)
        return 4 * len(doc.get("values") or ()) + len(orjson.dumps(doc.get("metadata"))) + len(doc["id"]) + 16
    return len(orjson.dumps(doc))


def upsert_chunks(records: Any, wire: str) -> Iterator[list[Any]]:
    """Batches of ≤ 1000 records and ≤ 2 MB on ``wire``, as a careful user sizes them: from the size of
    the first record of the stream, with 25 % headroom for records bigger than it."""
    iterator = iter(records)
    first = next(iterator, None)
    if first is None:
        return
    size = max(1, min(1000, int(MAX_UPSERT_BYTES / (1.25 * _wire_size(first, wire)))))
    yield from chunks(itertools.chain([first], iterator), size)


def vector_doc(vector: Any) -> dict[str, Any]:
    """One fetched SDK vector in Pinecone's vector JSON, as a user's export loop would build it."""
    doc: dict[str, Any] = {"id": vector.id, "values": list(vector.values)}
    if vector.sparse_values is not None:
        doc["sparseValues"] = {
            "indices": list(vector.sparse_values.indices),
            "values": list(vector.sparse_values.values),
        }
    if vector.metadata:
        doc["metadata"] = dict(vector.metadata)
    return doc


class RecordOut:
    """Where an export loop writes: ``write(namespace, vectors)`` with the SDK's fetched vectors."""

    def __init__(self, path: str, fmt: str) -> None:
        self._parquet = ParquetOut(Path(path)) if fmt == "parquet" else None
        self._jsonl = None if self._parquet is not None else open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, namespace: str, vectors: Any) -> int:
        docs = [vector_doc(v) for v in vectors]
        if self._parquet is not None:
            if docs:
                self._parquet.write(
                    namespace,
                    [d["id"] for d in docs],
                    [d["values"] for d in docs],
                    [d.get("metadata") for d in docs],
                )
        else:
            assert self._jsonl is not None
            self._jsonl.write(b"".join(orjson.dumps(d) + b"\n" for d in docs))
        return len(docs)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._jsonl is not None:
            self._jsonl.close()

    def __enter__(self) -> RecordOut:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
