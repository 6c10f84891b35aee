"""Counting what the official SDK sends, without changing what it does.

The SDK retries inside its own httpx transport wrapper; the wrapper calls the plain
``httpx.HTTPTransport`` (or ``AsyncHTTPTransport``) once per attempt. Counting at that inner class
gives attempts and 429s; every retry waits in the SDK's one backoff-sleep function, counted too.
The baselines build the SDK with ``connection_pool_maxsize`` sized to their concurrency and with
progress bars off (``show_progress=False``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

__all__ = ["COUNTS", "chunks", "install_counters", "read_ids", "read_jsonl", "vector_line"]


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


def read_ids(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="ascii").splitlines() if line]


def read_jsonl(path: str) -> Iterator[dict[str, Any]]:
    import orjson

    with open(path, "rb") as source:
        for line in source:
            if line.strip():
                yield orjson.loads(line)


def chunks(items: Any, size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def vector_line(vector: Any) -> bytes:
    """One JSONL line in Pinecone's vector JSON, as a user's export loop would write it."""
    import orjson

    doc: dict[str, Any] = {"id": vector.id, "values": list(vector.values)}
    if vector.sparse_values is not None:
        doc["sparseValues"] = {
            "indices": list(vector.sparse_values.indices),
            "values": list(vector.sparse_values.values),
        }
    if vector.metadata:
        doc["metadata"] = dict(vector.metadata)
    return orjson.dumps(doc) + b"\n"
