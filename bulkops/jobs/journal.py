"""A job's checkpoint for one run: locked, checked against the job's identity, removed if it stays blank.

Every job opens its checkpoint here, so they all behave the same way: a second run of the same
checkpoint is refused at once, a checkpoint of another job is refused naming both, the same job at a
new host is accepted (the report notes it), and a run that fails before recording anything leaves no
file behind. The checkpoint records the spec's JSON; :class:`JobSpec` is what every job's spec offers
to be stored, compared and read back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from bulkops.engine.checkpoint import Checkpoint, Differs
from bulkops.errors import CheckpointError
from bulkops.jobs.target import TargetSpec

__all__ = ["JobSpec", "describe_stored", "moved_note", "normalize_kind", "open_journal"]

_OLD_KINDS = {"import": "load"}  # checkpoints of the import job said "import"


class JobSpec(Protocol):
    """What every job's spec offers (:class:`bulkops.jobs.purge.spec.PurgeSpec` is one)."""

    kind: ClassVar[str]

    @property
    def target(self) -> TargetSpec: ...

    def identity(self) -> dict[str, Any]:
        """What makes the job this job, the target aside (compared with :meth:`TargetSpec.same_index`)."""
        ...

    def indexes(self) -> tuple[TargetSpec, ...]:
        """Every index the job works on, ``target`` first (a copy: its source and its destination);
        each must be the same index on a rerun."""
        ...

    def describe(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        """The spec from its JSON, including JSON written by earlier versions of bulkops."""
        ...


def normalize_kind(kind: str) -> str:
    """A stored kind's name today."""
    return _OLD_KINDS.get(kind, kind)


def describe_stored(kind: str, doc: Mapping[str, Any]) -> str:
    """A stored job of any kind in a line (its spec's non-empty values, nested keys dotted)."""
    parts: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key in sorted(value):
                walk(f"{prefix}{key}.", value[key])
        elif value not in (None, "", [], {}, False) and prefix.rstrip(".") not in ("version",):
            parts.append(f"{prefix.rstrip('.')}={value!r}")

    walk("", doc)
    return f"{normalize_kind(kind)}({', '.join(parts)})"


def _differs(spec: JobSpec) -> Differs:
    def why(kind: str, doc: Mapping[str, Any]) -> str | None:
        if normalize_kind(kind) != spec.kind:
            return f"it holds the job {describe_stored(kind, doc)}, this job is '{spec.describe()}'"
        try:
            stored = type(spec).from_json(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"the checkpoint's {kind} job cannot be read ({exc!r})") from exc
        pairs = zip(stored.indexes(), spec.indexes(), strict=True)
        if stored.identity() == spec.identity() and all(a.same_index(b) for a, b in pairs):
            return None
        return f"it holds '{stored.describe()}', this job is '{spec.describe()}'"

    return why


@contextmanager
def open_journal(path: str | Path, spec: JobSpec) -> Iterator[Checkpoint]:
    """The checkpoint at ``path``, open and locked for this run of ``spec``."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    journal = Checkpoint.open(
        path,
        kind=spec.kind,
        spec=spec.to_json(),
        differs=_differs(spec),
        describe=f"{program}: {spec.describe()}",
    )
    try:
        yield journal
    except BaseException:
        journal.close(discard=journal.created and journal.blank())
        raise
    journal.close()


def moved_note(journal: Checkpoint, spec: JobSpec) -> tuple[str, ...]:
    """A note for the report when the index is served from another host than in the last run."""
    if journal.previous_spec is None:
        return ()
    before = type(spec).from_json(journal.previous_spec).target.host
    now = spec.target.host
    if before and now and before.rstrip("/") != now.rstrip("/"):
        return (f"the index moved from {before} to {now} since the last run; this run used {now}",)
    return ()
