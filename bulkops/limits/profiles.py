"""Pinecone's documented rate limits as data, shared by the client's limiters and the local server.

A profile is a list of :class:`Limit` rows. Each row caps one *operation* within one *scope kind*
(``index`` or ``namespace``), counted in one *unit* (requests, records, or bytes). A request is
admitted only when every row that applies to it has room: a delete of 1000 IDs in namespace ``a``
takes 1 from each delete *requests* row and 1000 from each delete *records* row.

``default`` is Pinecone's published rate-limits table. ``strict`` adds the newer per-namespace
request limits (100 req/s for delete, upsert, query and update; 5000 deleted records/s).

The 429 message the server sends, and the client parses to learn which scope to slow down, is
defined here too, so that both sides agree on one wording (modelled on Pinecone's own messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import orjson

from bulkops.errors import UsageError

__all__ = [
    "OPERATIONS",
    "PROFILES",
    "Limit",
    "NamedLimit",
    "Profile",
    "format_rate_limit_message",
    "load_profile",
    "parse_rate_limit_message",
]

ScopeKind = Literal["index", "namespace"]
Unit = Literal["requests", "records", "bytes"]

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

# How an operation is spelled inside Pinecone's human-readable 429 messages.
_SPOKEN: Mapping[str, str] = {op: op.replace("_", " ") for op in OPERATIONS}
_UNSPOKEN: Mapping[str, str] = {v: k for k, v in _SPOKEN.items()}


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


@dataclass(frozen=True, slots=True)
class NamedLimit:
    """What a 429 message says was exceeded."""

    operation: str
    scope_kind: ScopeKind
    scope_name: str
    unit: Unit


_UNIT_WORDS: Mapping[Unit, str] = {"requests": "requests", "records": "records", "bytes": "bytes"}


def format_rate_limit_message(limit: Limit, scope_name: str) -> str:
    """Pinecone-style 429 text naming the operation, the scope and the limit."""
    spoken = _SPOKEN[limit.operation]
    rate = f"{limit.rate:g}"
    return (
        f"Request failed. You've reached the max {spoken} {_UNIT_WORDS[limit.unit]} per second "
        f"for {limit.scope} {scope_name} ({rate}). Pace your {spoken} requests or contact Pinecone "
        "Support (https://app.pinecone.io/organizations/-/settings/support/ticket) to request a higher limit."
    )


_MAX_RE = re.compile(
    r"reached the max (?P<op>[a-z_ ]+?) (?P<unit>requests|records|bytes|size limit) per second "
    r"for (?P<kind>index|namespace) (?P<name>.*?)(?: \(|\. |$)"
)
_QPS_RE = re.compile(
    r"reached the (?P<op>[a-z_ ]+?) QPS limit for (?P<kind>index|namespace) (?P<name>.*?)(?: \(|\. |$)"
)


def parse_rate_limit_message(message: str) -> NamedLimit | None:
    """Read operation and scope out of a 429 message (ours, and the wordings in Pinecone's docs)."""
    match = _MAX_RE.search(message)
    unit: Unit
    if match:
        raw_unit = match["unit"]
        unit = "bytes" if raw_unit == "size limit" else raw_unit  # type: ignore[assignment]
    else:
        match = _QPS_RE.search(message)
        if not match:
            return None
        unit = "requests"
    op_words = match["op"].strip()
    operation = _UNSPOKEN.get(op_words, op_words.replace(" ", "_"))
    kind: ScopeKind = "index" if match["kind"] == "index" else "namespace"
    return NamedLimit(operation, kind, match["name"].strip().strip("'\"<>"), unit)
