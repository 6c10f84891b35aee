"""An IDs purge checks each deleted batch beside the deletes; the rounds after run only when needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

import bulkops
from bulkops.models import Record
from bulkops.testing import FakeDataPlane

IDS = [f"doc-{i:05d}" for i in range(3500)]


class _LaggingDeletes(FakeDataPlane):
    """The first delete of ``stale`` is acknowledged but does not take (a consistency lag)."""

    def __init__(self, stale: set[str]) -> None:
        super().__init__({"ns": [*IDS, "keep"]})
        self.stale = set(stale)

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        lagging = self.stale & set(ids)
        self.stale -= lagging
        await super().delete_ids([i for i in ids if i not in lagging], namespace=namespace)


class _LastDeleteWaitsForACheck(FakeDataPlane):
    """The batch holding the last ID is deleted only once some deleted batch was fetched again."""

    def __init__(self) -> None:
        super().__init__({"ns": [*IDS, "keep"]})
        self.checked = anyio.Event()

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Any:
        found: dict[str, Record] = dict(await super().fetch(ids, namespace=namespace))
        self.checked.set()
        return found

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        if IDS[-1] in ids:
            await self.checked.wait()
        await super().delete_ids(ids, namespace=namespace)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(IDS) + "\n")
    return path


async def test_deleted_batches_are_checked_while_the_deletes_go_on(tmp_path: Path) -> None:
    dp = _LastDeleteWaitsForACheck()
    with anyio.fail_after(10):  # without checks beside the deletes, the last delete would wait forever
        report = await bulkops.purge(dataplane=dp, namespace="ns", ids_file=_file(tmp_path), verify_delay=0.0)
    assert dp.namespaces["ns"] == ["keep"]
    assert report.verification.ok


async def test_the_early_round_is_the_only_round_when_nothing_is_left(tmp_path: Path) -> None:
    dp = FakeDataPlane({"ns": [*IDS, "keep"]})
    report = await bulkops.purge(dataplane=dp, namespace="ns", ids_file=_file(tmp_path), verify_delay=0.0)
    assert dp.namespaces["ns"] == ["keep"]
    assert report.verification.ok
    assert report.verification.rounds == 1
    assert dp.calls["fetch"] == 4  # each of the 4 batches fetched once, not again after the deletes


async def test_leftovers_found_early_are_deleted_and_a_full_round_follows(tmp_path: Path) -> None:
    dp = _LaggingDeletes({"doc-00007", "doc-03001"})
    report = await bulkops.purge(
        dataplane=dp, namespace="ns", ids_file=_file(tmp_path), checkpoint=tmp_path / "c", verify_delay=0.0
    )
    assert dp.namespaces["ns"] == ["keep"]
    assert report.verification.ok
    assert report.verification.leftovers_deleted == 2
    assert dp.calls["fetch"] == 8  # the early round, then a full round after the deletes


async def test_no_early_round_when_verification_is_off(tmp_path: Path) -> None:
    dp = FakeDataPlane({"ns": IDS})
    await bulkops.purge(dataplane=dp, namespace="ns", ids_file=_file(tmp_path), verify=False)
    assert dp.namespaces["ns"] == []
    assert dp.calls.get("fetch", 0) == 0
