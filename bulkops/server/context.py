"""What a data-plane handler needs about its index, and request helpers shared by the handlers."""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from bulkops.clock import Clock
from bulkops.models import MAX_ID_LENGTH
from bulkops.server.admission import Admission
from bulkops.server.catalog import IndexMeta
from bulkops.server.config import ServerConfig
from bulkops.server.storage import IndexStore
from bulkops.server.wire import ApiProblem

__all__ = [
    "CONTEXT",
    "DEFAULT_ALIAS",
    "IndexContext",
    "decode_token",
    "encode_token",
    "namespace_of",
    "parse_limit",
]

DEFAULT_ALIAS = "__default__"
_request_ids = itertools.count(1)


@dataclass(slots=True)
class IndexContext:
    """One served index: its catalog entry, its store, and the server-wide knobs."""

    meta: IndexMeta
    store: IndexStore
    config: ServerConfig
    clock: Clock
    admission: Admission

    def visible_now(self) -> float:
        return self.clock.wall()

    def dead_at(self) -> float | None:
        """When a record deleted now stops being visible (None: at once)."""
        lag = self.config.consistency_lag_ms
        return self.clock.wall() + lag / 1000 if lag > 0 else None

    def purge_expired(self) -> None:
        if self.config.consistency_lag_ms > 0:
            self.store.purge_dead(self.clock.wall())


CONTEXT = web.AppKey("index_context", IndexContext)


def next_request_id() -> str:
    return f"local-{next(_request_ids)}"


def namespace_of(raw: Any, version: str) -> tuple[str, str]:
    """(storage key, name to echo) for a namespace given in a request; ``__default__`` maps to ``""``."""
    if raw is None:
        return "", ""
    if not isinstance(raw, str):
        raise ApiProblem(400, f"namespace must be a string, not {type(raw).__name__}.")
    if len(raw) > MAX_ID_LENGTH or not raw.isascii() or "\x00" in raw:
        raise ApiProblem(
            400, f"Namespace name {raw[:40]!r} is not valid: use at most 512 ASCII characters, no NUL."
        )
    if "/" in raw or ".." in raw:
        raise ApiProblem(400, f"Namespace name {raw[:40]!r} is not valid: it must not contain '/' or '..'.")
    if raw == DEFAULT_ALIAS:
        if version < "2025-04":
            raise ApiProblem(
                400, "Use of namespace='__default__' is not allowed in API versions prior to 2025-04"
            )
        return "", raw
    return raw, raw


def parse_limit(raw: Any, *, default: int, maximum: int, name: str = "limit", clamp: bool = True) -> int:
    """A positive page size; values above ``maximum`` are clamped (or refused when ``clamp`` is False)."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if not isinstance(raw, bool) else -1
    except (TypeError, ValueError):
        raise ApiProblem(400, f"{name} must be a positive integer, not {raw!r}.") from None
    if isinstance(raw, float) and raw != value:
        raise ApiProblem(400, f"{name} must be a positive integer, not {raw!r}.")
    if value < 1:
        raise ApiProblem(400, f"{name} must be a positive integer, not {raw!r}.")
    if value > maximum:
        if not clamp:
            raise ApiProblem(400, f"{name} must be at most {maximum}, not {value}.")
        return maximum
    return value


def encode_token(doc: dict[str, Any]) -> str:
    """Opaque pagination token: base64 of a small JSON object (like Pinecone's own)."""
    return base64.b64encode(orjson.dumps(doc)).decode("ascii")


def decode_token(token: str | None, *, key: str = "skip_past") -> Any:
    """The ``key`` field of a token made by :func:`encode_token`; 400 if it is not one of ours."""
    if token is None or token == "":
        return None
    try:
        doc = orjson.loads(base64.b64decode(token.encode("ascii"), validate=True))
        value = doc[key]
    except (binascii.Error, ValueError, UnicodeEncodeError, KeyError, TypeError, orjson.JSONDecodeError):
        raise ApiProblem(
            400, f"paginationToken {token[:60]!r} is not valid: pass the token a previous page returned."
        ) from None
    return value
