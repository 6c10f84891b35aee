"""Which namespaces a job works on: one, several, or every namespace of the index; checked before it starts.

The default namespace is ``""`` (:data:`bulkops.models.DEFAULT_NAMESPACE`) inside bulkops; the API and
the CLI also call it ``__default__`` (:data:`DEFAULT_LABEL`), which :func:`normalize` maps back.

A namespace that does not exist is a mistake (a typo purges nothing and reports success), so a job
refuses it unless ``allow_missing``; when the caller named no namespace and the default one is empty,
the refusal says where the records are and suggests ``all_namespaces``.

Many namespaces at once (:func:`for_each_namespace`): namespace-per-tenant indexes hold thousands of
small namespaces, and one after another each costs a few round trips however small it is. A job runs up
to ``lanes`` namespaces at once, each lane a task that takes the next namespace when its last one is
done, so the tasks and buffers a job holds depend on ``lanes``, never on how many namespaces there are.
The index's limits (list, fetch, delete by metadata per index) are shared by every lane through the
client's limiter, so lanes add requests in flight, not a bigger budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.errors import ApiError, Param, UsageError
from bulkops.jobs.groups import single_errors
from bulkops.models import DEFAULT_NAMESPACE

__all__ = [
    "DEFAULT_LABEL",
    "NAMESPACE_LANES",
    "NamespaceSelection",
    "existing_namespaces",
    "for_each_namespace",
    "label",
    "normalize",
    "resolve_namespace_sizes",
    "resolve_namespaces",
    "summarize",
]

DEFAULT_LABEL = "__default__"
# Namespaces a job works on at once. A small namespace costs a few round trips (list, fetch or delete,
# upsert): at 25 ms and the default limits (fetch 100 req/s per index), about 8 of them must be in
# flight to keep the fetch budget busy (Little's law); 32 leaves room for slower servers and bigger
# namespaces without holding much (every lane's buffers are bounded).
NAMESPACE_LANES = 32
_MAX_NAME = 512
_SHOWN = 5  # namespaces named in a message before "…"


def normalize(name: str) -> str:
    """The namespace as bulkops holds it: ``__default__`` is the default namespace, ``""``."""
    return DEFAULT_NAMESPACE if name == DEFAULT_LABEL else name


def label(name: str) -> str:
    """The namespace as people read it: the default one is ``__default__``."""
    return name or DEFAULT_LABEL


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(label(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


@dataclass(frozen=True, slots=True)
class NamespaceSelection:
    """``names`` (None: every namespace of the index, listed when the job starts).

    ``implied``: the caller named none and the default namespace was assumed; ``allow_missing``: a
    named namespace that does not exist is skipped instead of refused. Neither is part of the job's
    identity.
    """

    names: tuple[str, ...] | None = (DEFAULT_NAMESPACE,)
    implied: bool = False
    allow_missing: bool = False

    @classmethod
    def build(
        cls,
        *,
        namespace: str | None = None,
        namespaces: Sequence[str] | None = None,
        all_namespaces: bool = False,
        allow_missing: bool = False,
    ) -> NamespaceSelection:
        """Validate the caller's choice (at most one of the three ways to give it)."""
        given = [
            p
            for p, used in (
                (Param("namespace"), namespace is not None),
                (Param("namespaces"), namespaces is not None),
                (Param("all_namespaces", True), all_namespaces),
            )
            if used
        ]
        if len(given) > 1:
            raise UsageError("give at most one of ", given[0], " or ", given[1], param=given[0].name)
        if all_namespaces:
            return cls(None, allow_missing=allow_missing)
        if namespaces is not None:
            if isinstance(namespaces, str) or not list(namespaces):
                raise UsageError(Param("namespaces"), " must be a non-empty list of namespace names")
            names = tuple(normalize(n) for n in namespaces)
        else:
            names = (normalize(namespace) if namespace is not None else DEFAULT_NAMESPACE,)
        for name in names:
            if not isinstance(name, str) or len(name) > _MAX_NAME or not name.isascii() or "\x00" in name:
                raise UsageError(
                    Param("namespace", name),
                    f" is not a valid namespace: ASCII without NUL, at most {_MAX_NAME} characters",
                )
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise UsageError(Param("namespace", label(twice)), " is given twice")
        return cls(names, implied=namespace is None and namespaces is None, allow_missing=allow_missing)

    def identity(self) -> list[str] | str:
        return "all" if self.names is None else list(self.names)

    def to_json(self) -> dict[str, Any]:
        return {"names": self.identity(), "implied": self.implied, "allow_missing": self.allow_missing}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> NamespaceSelection:
        names = doc["names"]
        return cls(
            None if names == "all" else tuple(str(n) for n in names),
            implied=bool(doc.get("implied", False)),
            allow_missing=bool(doc.get("allow_missing", False)),
        )

    def describe(self) -> str:
        if self.names is None:
            return "every namespace"
        return ", ".join(repr(label(n)) for n in self.names)


def summarize(counts: Mapping[str, int], *, shown: int = _SHOWN) -> str:
    """Per-namespace counts in one readable line, however many namespaces there are."""
    items = list(counts.items())
    text = ", ".join(f"{label(ns)}: {n:,}" for ns, n in items[:shown])
    if len(items) > shown:
        text += f" … and {len(items) - shown:,} more namespaces ({sum(counts.values()):,} in all)"
    return text


async def for_each_namespace(
    names: Iterable[str], work: Callable[[str], Awaitable[None]], *, lanes: int = NAMESPACE_LANES
) -> None:
    """``await work(ns)`` for every namespace, at most ``lanes`` at once, in ``names`` order of start.

    One task per lane, each taking the next namespace from the shared iterator: never one task (or
    one buffer) per namespace for all of them at once. The first error stops every lane and is raised
    as itself.
    """
    pending = iter(names)

    async def lane() -> None:
        for namespace in pending:
            await work(namespace)

    with single_errors():
        async with anyio.create_task_group() as tg:
            for _ in range(max(1, lanes)):
                tg.start_soon(lane)


async def existing_namespaces(dp: DataPlane) -> dict[str, int]:
    """Every namespace of the index with its record count (the namespaces API, else the index stats)."""
    try:
        rows = await dp.list_namespaces()
        return {normalize(str(r["name"])): int(r.get("record_count") or 0) for r in rows}
    except ApiError:
        stats = await dp.describe_index_stats()
        spaces: Mapping[str, Any] = stats.get("namespaces") or {}
        return {
            normalize(str(name)): int(entry.get("vectorCount", entry.get("vector_count", 0)) or 0)
            for name, entry in spaces.items()
        }


async def resolve_namespaces(dp: DataPlane, selection: NamespaceSelection, *, index: str) -> list[str]:
    """The namespaces to work on, in order; refuses missing ones as the module docstring says.

    ``index`` names the index in messages.
    """
    return list(await resolve_namespace_sizes(dp, selection, index=index))


async def resolve_namespace_sizes(
    dp: DataPlane, selection: NamespaceSelection, *, index: str
) -> dict[str, int]:
    """:func:`resolve_namespaces` with each namespace's record count, from the same answer (0 for a
    named namespace that does not exist, when that is allowed)."""
    existing = await existing_namespaces(dp)
    if selection.names is None:
        return existing
    if selection.allow_missing:
        return {name: existing.get(name, 0) for name in selection.names}
    if selection.implied and existing.get(DEFAULT_NAMESPACE, 0) == 0:
        others = [n for n, count in existing.items() if n != DEFAULT_NAMESPACE and count > 0]
        if others:
            raise UsageError(
                f"the default namespace of {index} is empty; its records are in {len(others)} other "
                f"namespace(s) ({_some(others)}): name them with ",
                Param("namespace"),
                ", or take every namespace with ",
                Param("all_namespaces", True),
                param="namespace",
            )
        raise UsageError(
            f"the default namespace of {index} is empty (the index holds no records); pass ",
            Param("allow_missing", True),
            " to go on anyway",
            param="namespace",
        )
    missing = [n for n in selection.names if n not in existing]
    if missing:
        have = [n for n in existing if n not in missing]
        where = f" (it has: {_some(have)})" if have else " (it has no namespaces)"
        raise UsageError(
            Param("namespace", label(missing[0])),
            f" does not exist in {index}{where}"
            + (f"; {len(missing) - 1} more named namespace(s) are missing too" if len(missing) > 1 else "")
            + ". Check the name, or pass ",
            Param("allow_missing", True),
            " to go on without it",
            param="namespace",
        )
    return {name: existing[name] for name in selection.names}
