"""The wording of a 429: the local server formats it, the client parses it to learn which scope to slow.

One module owns both directions so that they cannot drift. It is a leaf (it imports nothing from
bulkops), because both the error layer and the limit profiles sit above it. The wording is modelled on
Pinecone's own messages, and the parser also reads the variants its documentation shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "NamedLimit",
    "ScopeKind",
    "Unit",
    "format_rate_limit_message",
    "parse_rate_limit_message",
]

ScopeKind = Literal["index", "namespace"]
Unit = Literal["requests", "records", "bytes"]


class _LimitRow(Protocol):
    """What the formatter needs of a limit (``bulkops.limits.profiles.Limit`` has it)."""

    @property
    def operation(self) -> str: ...
    @property
    def scope(self) -> ScopeKind: ...
    @property
    def unit(self) -> Unit: ...
    @property
    def rate(self) -> float: ...


@dataclass(frozen=True, slots=True)
class NamedLimit:
    """What a 429 message says was exceeded."""

    operation: str
    scope_kind: ScopeKind
    scope_name: str
    unit: Unit


_UNIT_WORDS: Mapping[Unit, str] = {"requests": "requests", "records": "records", "bytes": "bytes"}


def _spoken(operation: str) -> str:
    """How an operation is spelled inside the human-readable message (``delete by metadata``)."""
    return operation.replace("_", " ")


def format_rate_limit_message(limit: _LimitRow, scope_name: str) -> str:
    """Pinecone-style 429 text naming the operation, the scope and the limit."""
    spoken = _spoken(limit.operation)
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
    operation = match["op"].strip().replace(" ", "_")
    kind: ScopeKind = "index" if match["kind"] == "index" else "namespace"
    return NamedLimit(operation, kind, match["name"].strip().strip("'\"<>"), unit)
