"""Which records of a namespace a job works on: ID prefixes, an IDs input, a metadata filter, or all.

The validators here are the only ones: the CLI calls them for its early checks, so both refuse the same
input with the same words (the CLI spells the parameters as its options).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.concurrency import RateMeter
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import IdSource, IdsSource, ListSource
from bulkops.errors import Param, UsageError
from bulkops.jobs.ids import IdsInput, prepare_ids
from bulkops.jobs.ids import IdsSource as IdsArgument
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST, validate_record_id

__all__ = [
    "FIELD_OPERATORS",
    "IdsRef",
    "Selection",
    "SelectionKind",
    "build_selection",
    "id_source",
    "ids_for",
    "validate_filter",
    "validate_prefixes",
]

SelectionKind = Literal["everything", "prefixes", "ids", "filter"]

# Pinecone's metadata filter language: field operators, and the two that combine filters.
MAX_IN_VALUES = 10_000  # Pinecone's documented limit per $in / $nin ("Metadata filter limits")
FIELD_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")
_COMBINATORS = ("$and", "$or")
_MAX_FILTER_DEPTH = 20
_FILTER_EXAMPLE = '{"genre": {"$eq": "drama"}}'


@dataclass(frozen=True, slots=True)
class IdsRef:
    """An IDs input as a spec holds it: its file (None: given in memory), fingerprint and size."""

    path: str | None
    sha256: str
    count: int

    @classmethod
    def of(cls, ids: IdsInput) -> IdsRef:
        return cls(ids.path, ids.digest, ids.count)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "count": self.count}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> IdsRef:
        return cls(doc.get("path"), str(doc["sha256"]), int(doc.get("count") or 0))


@dataclass(frozen=True, slots=True)
class Selection:
    """``kind`` and its argument: ``prefixes`` (disjoint, sorted), ``ids``, or ``filter``."""

    kind: SelectionKind
    prefixes: tuple[str, ...] = ()
    ids: IdsRef | None = None
    filter: Mapping[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        """What makes two selections the same: for IDs their content (SHA-256), not where the file is."""
        return {
            "kind": self.kind,
            "prefixes": list(self.prefixes),
            "ids_sha256": self.ids.sha256 if self.ids else None,
            "filter": dict(self.filter) if self.filter is not None else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "prefixes": list(self.prefixes),
            "ids": self.ids.to_json() if self.ids else None,
            "filter": dict(self.filter) if self.filter is not None else None,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Selection:
        ids = doc.get("ids")
        kind = doc["kind"]
        if kind not in ("everything", "prefixes", "ids", "filter"):
            raise ValueError(f"unknown selection kind {kind!r}")
        return cls(
            kind,
            tuple(str(p) for p in doc.get("prefixes") or ()),
            IdsRef.from_json(ids) if ids else None,
            doc.get("filter"),
        )

    def describe(self) -> str:
        if self.kind == "prefixes":
            return "prefix " + ", ".join(repr(p) for p in self.prefixes)
        if self.kind == "ids":
            assert self.ids is not None
            return (
                f"the {self.ids.count:,} IDs of {self.ids.path}"
                if self.ids.path
                else f"{self.ids.count:,} IDs"
            )
        if self.kind == "filter":
            return f"filter {dict(self.filter or {})}"
        return "every record"


def validate_prefixes(prefix: str | Sequence[str]) -> tuple[str, ...]:
    """Non-empty ID prefixes without whitespace (Pinecone's list prefix may not hold spaces), sorted;
    a prefix that starts with another given one is dropped (the shorter one covers it), so no record
    is listed twice."""
    given = [prefix] if isinstance(prefix, str) else list(prefix)
    if not given:
        raise UsageError(Param("prefix"), " names no prefix; give at least one")
    for value in given:
        if not isinstance(value, str):
            raise UsageError(Param("prefix", value), f" is {type(value).__name__}, not a string")
        if value == "":
            raise UsageError(
                Param("prefix", ""),
                " would target the whole namespace; say so with ",
                Param("all", True),
                param="prefix",
            )
        if any(ch.isspace() for ch in value):
            raise UsageError(
                Param("prefix", value),
                " contains whitespace; Pinecone ID prefixes cannot contain spaces",
            )
        problem = validate_record_id(value)
        if problem is not None:
            raise UsageError(Param("prefix", value), f" is not a valid ID prefix: {problem}")
    kept: list[str] = []
    for value in sorted(set(given)):
        if not any(value.startswith(shorter) for shorter in kept):
            kept.append(value)
    return tuple(kept)


def validate_filter(filter: Any) -> dict[str, Any]:
    """A metadata filter in Pinecone's language, or UsageError saying what is wrong (nothing is sent)."""
    if not isinstance(filter, Mapping) or not filter:
        raise UsageError(Param("filter"), f" must be a non-empty metadata filter, e.g. {_FILTER_EXAMPLE}")
    _check_filter(filter, 0)
    return dict(filter)


def _bad_filter(reason: str) -> UsageError:
    return UsageError(Param("filter"), f" is not valid: {reason}")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


def _check_filter(node: Any, depth: int) -> None:
    if depth > _MAX_FILTER_DEPTH:
        raise _bad_filter("nested too deeply")
    if not isinstance(node, Mapping) or not node:
        raise _bad_filter(f"expected a non-empty object, got {node!r}")
    for key, value in node.items():
        if not isinstance(key, str):
            raise _bad_filter(f"field names are strings, not {key!r}")
        if key in _COMBINATORS:
            if not isinstance(value, list) or not value:
                raise _bad_filter(f"{key} needs a non-empty array of filters")
            for item in value:
                _check_filter(item, depth + 1)
        elif key.startswith("$"):
            raise _bad_filter(f"unknown operator {key!r}; only $and and $or combine filters")
        elif isinstance(value, Mapping):
            if not value:
                raise _bad_filter(f"the condition on {key!r} is empty")
            for op, operand in value.items():
                _check_operator(key, op, operand)
        else:
            _check_operator(key, "$eq", value)


def _check_operator(field: str, op: Any, operand: Any) -> None:
    if op not in FIELD_OPERATORS:
        raise _bad_filter(
            f"the operator {op!r} on {field!r} is not supported; use one of {' '.join(FIELD_OPERATORS)}"
        )
    if op in ("$eq", "$ne") and not _is_scalar(operand):
        raise _bad_filter(f"{op} on {field!r} needs a string, number or boolean")
    if op in ("$in", "$nin") and not (isinstance(operand, list) and all(_is_scalar(x) for x in operand)):
        raise _bad_filter(f"{op} on {field!r} needs an array of strings, numbers or booleans")
    if op in ("$in", "$nin") and len(operand) > MAX_IN_VALUES:
        raise _bad_filter(
            f"{op} on {field!r} has {len(operand):,} values; Pinecone takes at most {MAX_IN_VALUES:,}"
        )
    if op in ("$gt", "$gte", "$lt", "$lte") and (
        isinstance(operand, bool) or not isinstance(operand, int | float)
    ):
        raise _bad_filter(f"{op} on {field!r} needs a number")
    if op == "$exists" and not isinstance(operand, bool):
        raise _bad_filter(f"$exists on {field!r} needs true or false")


def build_selection(
    *,
    prefix: str | Sequence[str] | None,
    ids: IdsArgument | IdsInput | None,
    filter: Mapping[str, Any] | None,
    everything: bool,
    required: bool,
) -> tuple[Selection, IdsInput | None]:
    """The caller's selection, validated (IDs read, checked and fingerprinted once).

    ``required``: exactly one of the four must be given (a purge says what to delete); otherwise at
    most one of prefix, ids and filter, and none means every record.
    """
    chosen = [
        p
        for p, used in (
            (Param("prefix"), prefix is not None),
            (Param("ids"), ids is not None),
            (Param("filter"), filter is not None),
            (Param("all", True), everything and required),
        )
        if used
    ]
    if required and len(chosen) != 1:
        raise UsageError(
            "say what to work on with exactly one of ",
            Param("prefix"),
            ", ",
            Param("ids"),
            ", ",
            Param("filter"),
            " or ",
            Param("all", True),
            f" (got {len(chosen)})" if chosen else "",
            param=chosen[0].name if chosen else "prefix",
        )
    if len(chosen) > 1:
        raise UsageError(
            "give at most one of ", Param("prefix"), ", ", Param("ids"), " or ", Param("filter"),
            param=chosen[0].name,
        )  # fmt: skip
    if prefix is not None:
        return Selection("prefixes", prefixes=validate_prefixes(prefix)), None
    if ids is not None:
        prepared = prepare_ids(ids)
        return Selection("ids", ids=IdsRef.of(prepared)), prepared
    if filter is not None:
        return Selection("filter", filter=validate_filter(filter)), None
    return Selection("everything"), None


def ids_for(selection: Selection, ids: IdsInput | None) -> IdsInput | None:
    """The IDs an IDs selection names: ``ids`` if given, else its file read again. Either way they must
    be the IDs the job was started with (same SHA-256): a checkpoint is tied to its input."""
    ref = selection.ids
    if selection.kind != "ids" or ref is None:
        return None
    if ids is None:
        if ref.path is None:
            raise UsageError(
                "this job was given its IDs in memory, so they are not in the checkpoint: pass them again "
                "with ",
                Param("ids"),
            )
        ids = prepare_ids(ref.path)
    if ids.digest != ref.sha256:
        raise UsageError(
            Param("ids", ids.source),
            f" are not the IDs this job was started with ({ids.count:,} IDs, SHA-256 {ids.digest[:12]}… "
            f"instead of {ref.sha256[:12]}…); pass the original IDs, or start over with a new checkpoint",
        )
    return ids


def id_source(
    dp: DataPlane,
    namespace: str,
    selection: Selection,
    ids: IdsInput | None,
    chains: list[Chain] | None,
    *,
    list_rate: float | None,
    target_chains: int | None,
    achieved: RateMeter,
    clock: Clock,
    records: int | None = None,
) -> IdSource:
    """The IDs a job reads in ``namespace``: the IDs input again (one chain, 1000 IDs a page), else a
    listing of the selection's prefixes (fanned out by carving; ``achieved`` shared by the job's
    namespaces; ``records``: the namespace's count, which caps the carves' estimates), resumed from
    ``chains``. Export and copy read their IDs this way."""
    if ids is not None:
        return IdsSource(ids.open(), chains=chains or None, page_size=MAX_IDS_PER_REQUEST)
    return ListSource(
        dp,
        namespace=namespace,
        prefixes=selection.prefixes,
        chains=chains or None,
        list_rate=list_rate,
        target_chains=target_chains,
        page_limit=LIST_PAGE_IDS,
        achieved=achieved,
        records=records,
        clock=clock,
    )
