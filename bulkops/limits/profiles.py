"""Pinecone's documented rate limits as data, shared by the client's limiters and the local server.

A profile is a list of :class:`Limit` rows. Each row caps one *operation* within one *scope kind*
(``index`` or ``namespace``), counted in one *unit* (requests, records, or bytes). A request is
admitted only when every row that applies to it has room: a delete of 1000 IDs in namespace ``a``
takes 1 from each delete *requests* row and 1000 from each delete *records* row.

``default`` is Pinecone's published rate-limits table. ``strict`` adds the newer per-namespace
request limits (100 req/s for delete, upsert, query and update; 5000 deleted records/s).

The 429 message the server sends, and the client parses to learn which scope to slow down, lives in
the leaf :mod:`bulkops.limits.rate_limit_message` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from bulkops.errors import UsageError
from bulkops.limits.rate_limit_message import (
    NamedLimit,
    ScopeKind,
    Unit,
    format_rate_limit_message,
    parse_rate_limit_message,
)

__all__ = [
    "OPERATIONS",
    "PROFILES",
    "Limit",
    "NamedLimit",
    "Profile",
    "ScopeKind",
    "Unit",
    "format_rate_limit_message",
    "load_profile",
    "parse_rate_limit_message",
]

OPERATIONS: tuple[str, ...] = (
    "upsert",
    "fetch",
    "list",
    "delete",
    "delete_by_metadata",
    "fetch_by_metadata",
    "describe_index_stats",
    "query",
    "update",
    "update_by_metadata",
)


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` units per second for ``operation`` within each ``scope`` (each index, or each namespace)."""

    operation: str
    scope: ScopeKind
    unit: Unit
    rate: float

    @property
    def key(self) -> tuple[str, ScopeKind, Unit]:
        return (self.operation, self.scope, self.unit)


@dataclass(frozen=True, slots=True)
class Profile:
    """A named set of limits. ``limits_for(op)`` lists the rows a request of ``op`` must pass."""

    name: str
    limits: tuple[Limit, ...]

    def limits_for(self, operation: str) -> tuple[Limit, ...]:
        return tuple(limit for limit in self.limits if limit.operation == operation)

    def rate(self, operation: str, scope: ScopeKind, unit: Unit = "requests") -> float | None:
        for limit in self.limits:
            if limit.key == (operation, scope, unit):
                return limit.rate
        return None

    def with_overrides(self, overrides: Iterable[Limit]) -> Profile:
        """Replace rows with the same (operation, scope, unit); add the rest."""
        table = {limit.key: limit for limit in self.limits}
        for limit in overrides:
            table[limit.key] = limit
        return replace(self, limits=tuple(table.values()))


_DEFAULT = (
    Limit("upsert", "namespace", "bytes", 50_000_000),
    Limit("fetch", "index", "requests", 100),
    Limit("list", "index", "requests", 200),
    Limit("delete", "namespace", "requests", 5000),
    Limit("delete", "index", "requests", 5000),
    Limit("delete_by_metadata", "namespace", "requests", 5),
    Limit("delete_by_metadata", "index", "requests", 500),
    Limit("fetch_by_metadata", "namespace", "requests", 10),
    Limit("describe_index_stats", "index", "requests", 100),
    Limit("update", "namespace", "records", 100),
    Limit("update_by_metadata", "namespace", "requests", 5),
    Limit("update_by_metadata", "index", "requests", 500),
)

_STRICT_EXTRA = (
    Limit("delete", "namespace", "requests", 100),
    Limit("delete", "namespace", "records", 5000),
    Limit("delete", "index", "records", 5000),
    Limit("upsert", "namespace", "requests", 100),
    Limit("query", "namespace", "requests", 100),
    Limit("update", "namespace", "requests", 100),
)

PROFILES: Mapping[str, Profile] = {
    "default": Profile("default", _DEFAULT),
    "strict": Profile("strict", _DEFAULT).with_overrides(_STRICT_EXTRA),
    "none": Profile("none", ()),
}


def load_profile(spec: str | Path | None) -> Profile:
    """Resolve ``default`` / ``strict`` / ``none`` or a JSON file of overrides.

    The file is ``{"base": "default", "limits": [{"operation", "scope", "unit", "rate"}, ...]}``;
    each row replaces the base row with the same operation, scope and unit.
    """
    if spec is None:
        return PROFILES["default"]
    text = str(spec)
    if text in PROFILES:
        return PROFILES[text]
    path = Path(text)
    if not path.is_file():
        raise UsageError(
            f"unknown limit profile {text!r}: use default, strict, none, or the path of a JSON file"
        )
    try:
        doc = orjson.loads(path.read_bytes())
        base = PROFILES[str(doc.get("base", "default"))]
        rows = [_limit_from_json(row) for row in doc.get("limits", [])]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(
            f"limit profile file {text} is not valid: {exc}. Expected "
            '{"base": "default", "limits": [{"operation": "list", "scope": "index", '
            '"unit": "requests", "rate": 200}]}'
        ) from exc
    return replace(base.with_overrides(rows), name=path.name)


def _limit_from_json(row: Mapping[str, object]) -> Limit:
    operation, scope, unit, rate = row["operation"], row["scope"], row.get("unit", "requests"), row["rate"]
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r} (one of {', '.join(OPERATIONS)})")
    if scope not in ("index", "namespace"):
        raise ValueError(f"scope must be index or namespace, not {scope!r}")
    if unit not in ("requests", "records", "bytes"):
        raise ValueError(f"unit must be requests, records or bytes, not {unit!r}")
    if not isinstance(rate, int | float) or rate <= 0:
        raise ValueError(f"rate must be a positive number, not {rate!r}")
    return Limit(str(operation), scope, unit, float(rate))
