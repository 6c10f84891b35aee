"""What the handlers share: the served index (data plane), the server as the control plane sees it
(:class:`ControlServer`, so that handlers need not import ``app.py``), and request validation helpers."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiohttp import web

from bulkops.clock import Clock
from bulkops.models import MAX_ID_LENGTH
from bulkops.server.admission import Admission
from bulkops.server.catalog import Catalog, IndexMeta
from bulkops.server.config import ServerConfig
from bulkops.server.front import IndexFront
from bulkops.server.storage import IndexStore
from bulkops.server.wire import ApiProblem

__all__ = [
    "CONTEXT",
    "DEFAULT_ALIAS",
    "SERVER",
    "ControlServer",
    "IndexContext",
    "IndexRuntime",
    "decode_token",
    "encode_token",
    "index_or_404",
    "missing_field",
    "namespace_of",
    "next_request_id",
    "parse_limit",
    "parse_tags",
    "validate_index_name",
]

DEFAULT_ALIAS = "__default__"
_request_ids = itertools.count(1)
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$")
_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TAG_VALUE_RE = re.compile(r"^[A-Za-z0-9;@_\-.+ ]{0,120}$")


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


class ControlServer(Protocol):
    """What the control-plane handlers use of the running server (``LocalServer`` implements it)."""

    config: ServerConfig
    clock: Clock
    catalog: Catalog
    indexes: dict[str, IndexRuntime]
    backup_stores: dict[str, IndexStore]

    def index_host(self, name: str) -> str: ...

    async def add_index(self, meta: IndexMeta, store: IndexStore | None = None) -> IndexRuntime: ...

    async def drop_index(self, name: str) -> None: ...


SERVER: web.AppKey[ControlServer] = web.AppKey("local_server")


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


def decode_token(token: str | None, kind: type[str] | type[int], *, key: str = "skip_past") -> Any:
    """The ``key`` field of a token made by :func:`encode_token`, of type ``kind`` (an ``int`` is never
    negative); 400 for anything else, so that a forged token (``{"skip_past": 5}`` where an ID belongs)
    is refused here and never reaches a comparison."""
    if token is None or token == "":
        return None
    try:
        doc = orjson.loads(base64.b64decode(token.encode("ascii"), validate=True))
        value = doc[key]
    except (binascii.Error, ValueError, UnicodeEncodeError, KeyError, TypeError, orjson.JSONDecodeError):
        value = None
    # bool is an int to Python, never to a token
    if type(value) is not kind or (isinstance(value, int) and value < 0):
        raise ApiProblem(
            400, f"paginationToken {token[:60]!r} is not valid: pass the token a previous page returned."
        )
    return value


def missing_field(field: str) -> ApiProblem:
    return ApiProblem(
        422, f"Failed to deserialize the JSON body into the target type: missing field `{field}`"
    )


def validate_index_name(name: Any, field: str = "name") -> str:
    if name is None:
        raise missing_field(field)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ApiProblem(
            400,
            f"Invalid index name {name!r}: use 1-45 lower-case letters, digits or '-', "
            "starting and ending with a letter or digit.",
        )
    return name


def index_or_404(server: ControlServer, name: str) -> IndexMeta:
    runtime = server.indexes.get(name)
    if runtime is None:
        raise ApiProblem(404, f"Index {name} not found.")
    return runtime.context.meta


def parse_tags(tags: Any, *, allow_empty_values: bool) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise ApiProblem(400, "tags must be an object of string keys to string values.")
    for key, value in tags.items():
        if not _TAG_KEY_RE.match(key):
            raise ApiProblem(400, f"Invalid tag key {key!r}: 1-80 letters, digits, '_' or '-'.")
        if (
            not isinstance(value, str)
            or not _TAG_VALUE_RE.match(value)
            or (value == "" and not allow_empty_values)
        ):
            raise ApiProblem(
                400, f"Invalid value for tag {key!r}: up to 120 letters, digits, spaces or ;@_-.+ characters."
            )
    return dict(tags)
