"""A copy's verification: record counts per namespace on both sides, and a random sample compared.

Counts: every destination namespace must hold at least what it was given. For a copy of whole
namespaces that is the source namespaces' record counts (now), summed when several map to one; for a
prefix, IDs or filter copy it is what the copy wrote there (the destination may hold other records).
The destination's counts may lag behind its writes (eventual consistency), so they are read again
(every 50..500 ms) until they are there or ``verify_delay`` has passed: observed, not assumed.

Sample (``verify_sample``): that many copied records, drawn uniformly by reservoir sampling while they
are copied (bounded memory; kept in the checkpoint when each namespace finishes), are fetched from both
sides and compared: values bit for bit as float32, sparse values, metadata equal.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.jobs.copy.spec import CopySpec
from bulkops.jobs.namespaces import NAMESPACE_LANES, existing_namespaces, for_each_namespace, label
from bulkops.models import MAX_IDS_PER_REQUEST, Record, float32_values

__all__ = ["CopyVerification", "Sample", "same_record", "verify_copy"]

_FIRST_STEP = 0.05
_MAX_STEP = 0.5
_SHOWN = 20  # mismatches kept in the report (the counts are always exact)


class Sample:
    """A uniform sample of up to ``size`` copied records, as (source namespace, ID) pairs."""

    def __init__(
        self, size: int, *, seen: int = 0, picked: Sequence[Sequence[str]] = (), seed: int | None = None
    ) -> None:
        self.size = size
        self.seen = seen
        self.picked: list[tuple[str, str]] = [(str(ns), str(i)) for ns, i in picked][:size]
        self._rng = random.Random(seed)

    def offer(self, namespace: str, ids: Sequence[str]) -> None:
        if not self.size:
            return
        for record_id in ids:
            self.seen += 1
            if len(self.picked) < self.size:
                self.picked.append((namespace, record_id))
            else:
                slot = self._rng.randrange(self.seen)
                if slot < self.size:
                    self.picked[slot] = (namespace, record_id)

    def to_json(self) -> dict[str, Any]:
        return {"seen": self.seen, "picked": [list(p) for p in self.picked]}

    @classmethod
    def from_json(cls, size: int, doc: Mapping[str, Any] | None, *, seed: int | None = None) -> Sample:
        doc = doc or {}
        return cls(size, seen=int(doc.get("seen", 0)), picked=doc.get("picked") or (), seed=seed)


@dataclass(frozen=True, slots=True)
class CopyVerification:
    """``ok``: every destination namespace holds what it should, and the sample matched.

    ``short``: destination namespaces that hold fewer records than expected (``{"namespace", "expected",
    "found"}``, the first 20); ``mismatches``: sampled records that differ or are missing
    (``{"namespace", "id", "what"}``); ``waited``: seconds spent waiting for the counts to catch up.
    """

    checked: bool
    namespaces: int = 0
    short: tuple[Mapping[str, Any], ...] = ()
    short_count: int = 0
    sampled: int = 0
    mismatches: tuple[Mapping[str, Any], ...] = ()
    mismatch_count: int = 0
    waited: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.checked and not self.short_count and not self.mismatch_count

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "ok": self.ok,
            "namespaces": self.namespaces,
            "short": [dict(s) for s in self.short],
            "short_count": self.short_count,
            "sampled": self.sampled,
            "mismatches": [dict(m) for m in self.mismatches],
            "mismatch_count": self.mismatch_count,
            "waited": self.waited,
            "notes": list(self.notes),
            "note": self.note,
        }

    def describe(self) -> str:
        parts = []
        if self.short_count:
            first = self.short[0]
            parts.append(
                f"{self.short_count} destination namespace(s) hold fewer records than copied (e.g. "
                f"{label(str(first['namespace']))!r}: {first['found']:,} of {first['expected']:,})"
            )
        if self.mismatch_count:
            first = self.mismatches[0]
            parts.append(
                f"{self.mismatch_count} of {self.sampled} sampled records differ (e.g. {first['id']!r} in "
                f"{label(str(first['namespace']))!r}: {first['what']})"
            )
        return "; ".join(parts) or "ok"


def same_record(a: Record, b: Record) -> str | None:
    """What differs between two records (None: nothing): values bit for bit as float32, sparse values,
    metadata equal."""
    va, vb = float32_values(a.values), float32_values(b.values)
    if va.shape != vb.shape or va.tobytes() != vb.tobytes():
        return "values"
    sa, sb = a.sparse_values, b.sparse_values
    if (sa is None) != (sb is None):
        return "sparse values"
    if sa is not None and sb is not None:
        if list(sa.indices) != list(sb.indices):
            return "sparse indices"
        if np.asarray(sa.values, np.float32).tobytes() != np.asarray(sb.values, np.float32).tobytes():
            return "sparse values"
    if dict(a.metadata or {}) != dict(b.metadata or {}):
        return "metadata"
    return None


async def verify_copy(
    source: DataPlane,
    destination: DataPlane,
    spec: CopySpec,
    names: Sequence[str],
    copied: Mapping[str, int],
    sample: Sample,
    clock: Clock,
    *,
    lanes: int = NAMESPACE_LANES,
) -> CopyVerification:
    """Counts per destination namespace, then the sample (see the module docstring)."""
    whole = spec.selection.kind == "everything"
    expected: dict[str, int] = {}
    if whole:
        counts = await existing_namespaces(source)
        for ns in names:
            target = spec.destination_of(ns)
            expected[target] = expected.get(target, 0) + counts.get(ns, 0)
    else:
        for ns in names:
            target = spec.destination_of(ns)
            expected[target] = expected.get(target, 0) + copied.get(ns, 0)
    started = clock.now()
    deadline = started + spec.options.verify_delay
    step = _FIRST_STEP
    while True:
        found = await existing_namespaces(destination)
        short = [
            {"namespace": ns, "expected": want, "found": found.get(ns, 0)}
            for ns, want in expected.items()
            if found.get(ns, 0) < want
        ]
        left = deadline - clock.now()
        if not short or left <= 0:
            break
        await clock.sleep(min(step, left))
        step = min(2 * step, _MAX_STEP)
    notes: list[str] = []
    if whole:
        extra = sum(max(0, found.get(ns, 0) - want) for ns, want in expected.items())
        if extra:
            notes.append(
                f"the destination namespaces hold {extra:,} records that are not in the source (a copy "
                "writes, it never deletes)"
            )
    mismatches = await _compare_sample(source, destination, spec, sample, lanes)
    return CopyVerification(
        True,
        namespaces=len(expected),
        short=tuple(short[:_SHOWN]),
        short_count=len(short),
        sampled=len(sample.picked),
        mismatches=tuple(mismatches[:_SHOWN]),
        mismatch_count=len(mismatches),
        waited=clock.now() - started,
        notes=tuple(notes),
    )


async def _compare_sample(
    source: DataPlane, destination: DataPlane, spec: CopySpec, sample: Sample, lanes: int
) -> list[dict[str, Any]]:
    by_namespace: dict[str, list[str]] = {}
    for ns, record_id in sample.picked:
        by_namespace.setdefault(ns, []).append(record_id)
    mismatches: list[dict[str, Any]] = []

    async def one(ns: str) -> None:
        ids = by_namespace[ns]
        target = spec.destination_of(ns)
        for start in range(0, len(ids), MAX_IDS_PER_REQUEST):
            chunk = ids[start : start + MAX_IDS_PER_REQUEST]
            want = await source.fetch(chunk, namespace=ns)
            got = await destination.fetch(chunk, namespace=target)
            for record_id in chunk:
                if record_id not in want:
                    continue  # deleted from the source since it was copied: nothing to compare
                have = got.get(record_id)
                what = "missing" if have is None else same_record(want[record_id], have)
                if what is not None:
                    mismatches.append({"namespace": target, "id": record_id, "what": what})

    await for_each_namespace(list(by_namespace), one, lanes=lanes)
    return mismatches
