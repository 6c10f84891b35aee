"""Helpers every command uses: open the client from the global options, and parse option values.

Parsing happens before any request is sent, so bad input fails with a usage error (exit 2) and
nothing changes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson

from bulkops.cli.context import Settings
from bulkops.errors import UsageError

if TYPE_CHECKING:
    from bulkops.api import Client, IndexClient, RequestEvent

log = logging.getLogger("bulkops.cli")

__all__ = [
    "WAIT_POLL_SECONDS",
    "as_dict",
    "first_items",
    "open_client",
    "open_data_plane",
    "open_data_plane_at",
    "parse_filter",
    "parse_pairs",
]

# How often --wait polls the control plane. Backups and restores on Pinecone take minutes, but the
# control plane has no documented rate limit and a person is watching: half a second keeps it snappy.
WAIT_POLL_SECONDS = 0.5


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[Client]:
    """A library client built from the global options (key, controller host, limit profile, transport)."""
    from bulkops.api import Client
    from bulkops.limits.profiles import load_profile

    profile = load_profile(settings.limits)  # bad --limits fails here, before any request
    if not settings.api_key:
        raise UsageError("no API key: pass --api-key KEY or set PINECONE_API_KEY")
    async with Client(
        api_key=settings.api_key,
        controller_host=settings.controller_host,
        limits=profile,
        transport=settings.transport or "auto",
    ) as client:
        if settings.verbose:
            client.subscribe(_log_request)
        yield client


def _log_request(event: RequestEvent) -> None:
    """--verbose: one line per request answered, throttled or given up (the key is redacted)."""
    if event.kind == "retry":
        return  # the client logs its retries itself
    detail = f" after {event.elapsed * 1000:.0f} ms" if event.elapsed else ""
    status = f" HTTP {event.status}" if event.status is not None else ""
    error = f": {event.error}" if event.error else ""
    log.debug("%s %s (attempt %d)%s%s%s", event.operation, event.kind, event.attempt, status, detail, error)


async def open_data_plane(client: Client, settings: Settings) -> IndexClient:
    """The data plane of ``--index NAME`` (one describe call) or ``--host URL``."""
    settings.target_required()
    return await open_data_plane_at(client, index=settings.index, host=settings.host)


async def open_data_plane_at(client: Client, *, index: str | None, host: str | None) -> IndexClient:
    if host:
        return client.index_at(host, name=index)
    return await client.index(name=index)


def parse_filter(text: str) -> Any:
    """A metadata filter given on the command line as JSON (the library checks what it says)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f'--filter is not valid JSON ({exc}); example: --filter \'{{"genre": {{"$eq": "drama"}}}}\''
        ) from None


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    """``k=v`` pairs (``--tag env=prod``) into a dict."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes KEY=VALUE, got {value!r}")
        pairs[key] = val
    return pairs


async def first_items(pages: Callable[[int], AsyncIterable[Any]], limit: int | None) -> list[Any]:
    """The first ``limit`` items (all when None) of a paginated listing, ``pages(page_size)`` giving
    them: pages no bigger than needed (Pinecone's listings take at most 100 a page)."""
    found: list[Any] = []
    async for item in pages(min(limit or 100, 100)):
        found.append(item)
        if limit is not None and len(found) >= limit:
            break
    return found


def as_dict(obj: Any) -> dict[str, Any]:
    """A library result (dataclass or mapping) as a plain dict for printing."""
    if isinstance(obj, Mapping):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    raise TypeError(f"cannot show {type(obj).__name__}")
