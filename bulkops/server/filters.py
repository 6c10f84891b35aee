"""Pinecone metadata filters compiled to Python predicates, with precise errors for bad filters.

Supported: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`` and the ``{"field": value}``
shorthand for ``$eq``. A list-valued metadata field (list of strings) matches ``$eq``/``$in`` when
any element matches, and ``$ne``/``$nin`` when none does. A record without the field matches
``$ne``, ``$nin`` and ``$exists: false`` only. ``$gt``..``$lte`` compare numbers only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from bulkops.server.wire import ApiProblem

__all__ = ["Predicate", "compile_filter", "validate_metadata"]

Predicate = Callable[[Mapping[str, Any]], bool]
MAX_IN_VALUES = 10_000
MAX_METADATA_BYTES = 40 * 1024
_MISSING = object()


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, f"Invalid filter: {message}")


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | bool | int | float)


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _matches_any(stored: object, wanted: list[Any]) -> bool:
    items = stored if isinstance(stored, list) else [stored]
    return any(_same(item, want) for item in items for want in wanted)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field_op(field: str, op: str, operand: Any) -> Predicate:
    if op in ("$eq", "$ne"):
        if not _is_scalar(operand):
            raise _bad(f"{op} on {field!r} needs a string, number or boolean, not {type(operand).__name__}")
        if op == "$eq":
            return lambda md: (v := md.get(field, _MISSING)) is not _MISSING and _matches_any(v, [operand])
        return lambda md: (v := md.get(field, _MISSING)) is _MISSING or not _matches_any(v, [operand])
    if op in ("$in", "$nin"):
        if not isinstance(operand, list) or not all(_is_scalar(x) for x in operand):
            raise _bad(f"{op} on {field!r} needs an array of strings, numbers or booleans")
        if len(operand) > MAX_IN_VALUES:
            raise _bad(f"{op} on {field!r} has {len(operand)} values; at most {MAX_IN_VALUES} are allowed")
        if op == "$in":
            return lambda md: (v := md.get(field, _MISSING)) is not _MISSING and _matches_any(v, operand)
        return lambda md: (v := md.get(field, _MISSING)) is _MISSING or not _matches_any(v, operand)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not _is_number(operand):
            raise _bad(f"{op} on {field!r} needs a number, not {type(operand).__name__}")
        limit = float(operand)
        compare: Callable[[float], bool] = {
            "$gt": lambda x: x > limit,
            "$gte": lambda x: x >= limit,
            "$lt": lambda x: x < limit,
            "$lte": lambda x: x <= limit,
        }[op]
        return lambda md: _is_number(v := md.get(field)) and compare(float(v))  # type: ignore[arg-type]
    if op == "$exists":
        if not isinstance(operand, bool):
            raise _bad(f"$exists on {field!r} needs true or false")
        return lambda md: (field in md) == operand
    raise _bad(f"unknown operator {op!r} on {field!r}; use one of $eq $ne $gt $gte $lt $lte $in $nin $exists")


def _all_of(subs: list[Predicate]) -> Predicate:
    return lambda md: all(p(md) for p in subs)


def _any_of(subs: list[Predicate]) -> Predicate:
    return lambda md: any(p(md) for p in subs)


def _compile(node: Any, depth: int) -> Predicate:
    if depth > 20:
        raise _bad("nested too deeply")
    if not isinstance(node, dict):
        raise _bad(f"expected an object, got {type(node).__name__}")
    parts: list[Predicate] = []
    for key, value in node.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _bad(f"{key} needs a non-empty array of filters")
            subs = [_compile(item, depth + 1) for item in value]
            parts.append(_all_of(subs) if key == "$and" else _any_of(subs))
        elif key.startswith("$"):
            raise _bad(f"unknown top-level operator {key!r}; only $and and $or combine filters")
        elif isinstance(value, dict):
            if not value:
                raise _bad(f"condition on {key!r} is empty")
            parts.extend(_field_op(key, op, operand) for op, operand in value.items())
        else:
            parts.append(_field_op(key, "$eq", value))
    return parts[0] if len(parts) == 1 else _all_of(parts)


def compile_filter(doc: Any) -> Predicate:
    """A predicate over a record's metadata dict; :class:`ApiProblem` 400 if ``doc`` is not a filter."""
    if not isinstance(doc, dict) or not doc:
        raise _bad('a filter must be a non-empty JSON object, e.g. {"genre": {"$eq": "drama"}}')
    return _compile(doc, 0)


def validate_metadata(record_id: str, metadata: Any) -> str | None:
    """Why ``metadata`` is not valid Pinecone metadata, or None."""
    if not isinstance(metadata, dict):
        return f"metadata of record {record_id!r} must be an object"
    for key, value in metadata.items():
        if isinstance(value, float) and not math.isfinite(value):  # gRPC's Struct can carry them
            return f"metadata field {key!r} of record {record_id!r} is {value}: numbers must be finite"
        if _is_scalar(value):
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            continue
        return (
            f"metadata field {key!r} of record {record_id!r} has an unsupported value: use a string, "
            "number, boolean or list of strings"
        )
    return None
