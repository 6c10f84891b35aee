"""Many namespaces at once, structurally: namespaces overlap under shared budgets, memory stays flat, and
the output stays exact (each namespace contiguous in a JSONL export). Fake data planes on a fake clock:
no timing is asserted, only what was in flight together and what was held."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.clock import SYSTEM_CLOCK, Clock, FakeClock
from bulkops.models import FetchPage, IdPage, Record
from bulkops.sinks import JsonlReader
from bulkops.sinks.manifest import read_manifest
from bulkops.testing import FakeDataPlane

REAL = SYSTEM_CLOCK


class Watched(FakeDataPlane):
    """A fake index that records, per operation, how many namespaces had a request in flight at once,
    and the most asyncio tasks alive at any request (the job's live structures)."""

    def __init__(
        self,
        records: Mapping[str, Sequence[str]],
        *,
        clock: Clock,
        latency: float = 0.025,
        host: str = "http://fake.local",
    ) -> None:
        super().__init__(records, latency=latency, clock=clock)
        self._host = host
        self._flying: dict[str, dict[str, int]] = {}
        self.most_namespaces: dict[str, int] = {}
        self.most_tasks = 0
        self.upserted: dict[str, list[str]] = {}

    @property
    def host(self) -> str:
        return self._host

    async def _timed(self, operation: str, namespace: str, call: Any) -> Any:
        flying = self._flying.setdefault(operation, {})
        flying[namespace] = flying.get(namespace, 0) + 1
        self.most_namespaces[operation] = max(self.most_namespaces.get(operation, 0), len(flying))
        self.most_tasks = max(self.most_tasks, len(asyncio.all_tasks()))
        try:
            return await call
        finally:
            flying[namespace] -= 1
            if not flying[namespace]:
                del flying[namespace]

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        call = super().list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)
        page: IdPage = await self._timed("list", namespace, call)
        return page

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        found: Mapping[str, Record] = await self._timed(
            "fetch", namespace, super().fetch(ids, namespace=namespace)
        )
        # Metadata names the tenant the record was seeded in (from its ID, never the namespace asked):
        # a copy under a namespace map must find the same metadata on both sides.
        return {i: Record(i, (float(len(i)), 0.5), metadata={"ns": _home(i)}) for i in found}

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await self._timed("delete", namespace, super().delete_ids(ids, namespace=namespace))

    async def upsert(self, records: Sequence[Record], *, namespace: str) -> int:
        self.upserted.setdefault(namespace, []).extend(r.id for r in records)
        count: int = await self._timed("upsert", namespace, super().upsert(records, namespace=namespace))
        return count

    async def fetch_by_metadata(
        self, filter: Mapping[str, Any], *, namespace: str, limit: int = 100, token: str | None = None
    ) -> FetchPage:
        call = super().fetch_by_metadata(filter, namespace=namespace, limit=limit, token=token)
        page: FetchPage = await self._timed("fetch_by_metadata", namespace, call)
        return page


def _home(record_id: str) -> str:
    """The namespace :func:`_tenants` seeds ``doc-NNNNN-i`` in."""
    return f"tenant-{record_id.split('-')[1]}"


def _tenants(count: int, per_namespace: int = 5) -> dict[str, list[str]]:
    return {f"tenant-{n:05d}": [f"doc-{n:05d}-{i}" for i in range(per_namespace)] for n in range(count)}


async def _export(
    tmp_path: Path, count: int, suffix: str = ".jsonl", *, clock: Clock | None = None
) -> tuple[Watched, Any]:
    """Export every namespace; on a fake clock (default: requests overlap exactly as they would at
    25 ms) or, for the biggest counts, the real one with 1 ms requests (the fake clock's bookkeeping
    then costs more than the job)."""
    if clock is None:
        clock = FakeClock(autojump=True)
        dp = Watched(_tenants(count), clock=clock)
    else:
        dp = Watched(_tenants(count), clock=clock, latency=0.001)
    report = await bulkops.export(
        dataplane=dp,
        all_namespaces=True,
        output=tmp_path / f"out-{count}{suffix}",
        clock=clock,
        limits="default",
    )
    return dp, report


async def test_an_export_of_many_small_namespaces_overlaps_them_and_keeps_each_contiguous(
    tmp_path: Path,
) -> None:
    dp, report = await _export(tmp_path, 200)
    assert report.exported == 1000
    # Namespaces overlap: listing and fetching ran in many namespaces at once, not one after another.
    assert dp.most_namespaces["list"] >= 8
    assert dp.most_namespaces["fetch"] >= 4
    # One list request and one fetch per namespace: the shared budget is not spent on anything else.
    assert dp.calls["list"] == 200
    assert dp.calls["fetch"] == 200
    manifest = read_manifest(report.output)
    assert manifest is not None
    by_line: list[str] = []
    for item in JsonlReader(report.output, segments=manifest.jsonl_segments()):
        assert item.record is not None
        assert item.namespace == item.record.metadata["ns"]  # the manifest's line ranges are right
        by_line.append(item.namespace)
    runs = [ns for i, ns in enumerate(by_line) if i == 0 or by_line[i - 1] != ns]
    assert len(runs) == 200  # each namespace's records are contiguous
    assert sorted(set(runs)) == sorted(_tenants(200))


async def test_a_parquet_export_of_many_namespaces_is_exact(tmp_path: Path) -> None:
    dp, report = await _export(tmp_path, 120, ".parquet")
    assert report.exported == 600
    assert dict(report.namespaces) == dict.fromkeys(_tenants(120), 5)
    assert dp.most_namespaces["fetch"] >= 4


async def test_export_memory_is_flat_from_30_to_300_namespaces(tmp_path: Path) -> None:
    small, _ = await _export(tmp_path, 30)
    large, report = await _export(tmp_path, 300)
    assert report.exported == 1500
    assert large.most_tasks <= small.most_tasks + 8  # lanes, not namespaces, decide what is alive


@pytest.mark.integration
async def test_export_copy_and_purge_memory_with_10000_namespaces(tmp_path: Path) -> None:
    small, _ = await _export(tmp_path, 100, clock=REAL)
    large, report = await _export(tmp_path, 10_000, clock=REAL)
    assert report.exported == 50_000
    assert large.most_tasks <= small.most_tasks + 8
    sizes = {}
    for count in (100, 10_000):
        clock = REAL
        source, target = (
            Watched(_tenants(count), clock=clock, latency=0.001),
            Watched({}, clock=clock, latency=0.001, host="http://other.local"),
        )
        copied = await bulkops.copy(
            dataplane=source, to_dataplane=target, all_namespaces=True, clock=clock, limits="default"
        )
        assert copied.copied == 5 * count
        assert copied.verification.ok
        clock = REAL
        purged = Watched(_tenants(count), clock=clock, latency=0.001)
        await bulkops.purge(dataplane=purged, all_namespaces=True, prefix="doc-", clock=clock, verify_delay=0)
        assert all(not ids for ids in purged.namespaces.values())
        sizes[count] = (source.most_tasks, purged.most_tasks)
    assert sizes[10_000][0] <= sizes[100][0] + 8
    assert sizes[10_000][1] <= sizes[100][1] + 8


async def test_a_copy_of_many_namespaces_overlaps_them_and_is_exact() -> None:
    clock = FakeClock(autojump=True)
    source, target = Watched(_tenants(300), clock=clock), Watched({}, clock=clock, host="http://other.local")
    report = await bulkops.copy(
        dataplane=source,
        to_dataplane=target,
        all_namespaces=True,
        namespace_map={"tenant-00007": "moved"},
        clock=clock,
        limits="default",
        verify_sample=20,
    )
    assert report.copied == 1500
    assert report.verification.ok
    assert source.most_namespaces["fetch"] >= 4
    assert target.most_namespaces["upsert"] >= 4
    want = dict(_tenants(300).items())
    want["moved"] = want.pop("tenant-00007")
    assert {ns: sorted(ids) for ns, ids in target.upserted.items()} == want


async def test_a_purge_of_one_prefix_in_many_namespaces_overlaps_them() -> None:
    clock = FakeClock(autojump=True)
    tenants = _tenants(200)
    for n, ids in enumerate(tenants.values()):
        ids.append(f"keep-{n}")
    dp = Watched(tenants, clock=clock)
    report = await bulkops.purge(
        dataplane=dp, all_namespaces=True, prefix="doc-", clock=clock, verify_delay=0, limits="default"
    )
    assert report.deleted == 1000
    assert report.verification.ok
    assert dp.most_namespaces["list"] >= 8
    assert dp.most_namespaces["delete"] >= 4
    assert all(ids == [f"keep-{n}"] for n, ids in enumerate(dp.namespaces.values()))
    # The verification looked at every namespace, several at once too.
    assert dp.calls["list"] == 400


async def test_a_dry_run_and_a_guard_over_many_namespaces_count_them_all_at_once() -> None:
    clock = FakeClock(autojump=True)
    dp = Watched(_tenants(200), clock=clock)
    report = await bulkops.purge(dataplane=dp, all_namespaces=True, prefix="doc-", clock=clock, dry_run=True)
    assert report.would_delete == 1000
    assert dp.most_namespaces["list"] >= 8
    with pytest.raises(bulkops.UsageError, match="more than"):
        await bulkops.purge(dataplane=dp, all_namespaces=True, prefix="doc-", clock=clock, max_delete=999)
