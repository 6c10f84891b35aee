"""The verification tail waits only as long as the deletes take to become visible (a fake index with a
consistency lag, on a fake clock: durations are exact, nothing waits for real)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

import bulkops
from bulkops.clock import FakeClock
from bulkops.models import IdPage, Record
from bulkops.testing import FakeDataPlane

LATENCY = 0.025
IDS = [f"doc-{i:05d}" for i in range(2500)]


class Lagging(FakeDataPlane):
    """Deleted records stay visible to list and fetch for ``lag`` seconds (counts aside)."""

    def __init__(self, records: Mapping[str, Sequence[str]], *, lag: float, clock: FakeClock) -> None:
        super().__init__(records, latency=LATENCY, clock=clock)
        self.lag = lag
        self._pending: list[tuple[float, str, set[str]]] = []

    def _settle(self) -> None:
        now = self.clock.now()
        due = [p for p in self._pending if p[0] + self.lag <= now]
        self._pending = [p for p in self._pending if p[0] + self.lag > now]
        for _, namespace, ids in due:
            self.namespaces[namespace] = [i for i in self.namespaces.get(namespace, []) if i not in ids]

    async def delete_ids(self, ids: Sequence[str], *, namespace: str) -> None:
        await self._call("delete")
        self.deleted_batches.append(tuple(ids))
        self._pending.append((self.clock.now(), namespace, set(ids)))

    async def list_page(
        self, *, namespace: str, prefix: str | None = None, limit: int = 100, token: str | None = None
    ) -> IdPage:
        self._settle()
        return await super().list_page(namespace=namespace, prefix=prefix, limit=limit, token=token)

    async def fetch(self, ids: Sequence[str], *, namespace: str) -> Mapping[str, Record]:
        self._settle()
        return await super().fetch(ids, namespace=namespace)


# A purge by prefix here walks one chain (``target_chains=1``): its deletes end right after the last
# page, so what follows them is the verification's tail alone.


def _plane(lag: float) -> tuple[Lagging, FakeClock]:
    clock = FakeClock(autojump=True)
    return Lagging({"ns": [*IDS, "keep"], "other": ["doc-x", "keep"]}, lag=lag, clock=clock), clock


async def test_without_lag_the_tail_is_a_round_trip_or_two() -> None:
    dp, clock = _plane(0.0)
    report = await bulkops.purge(
        dataplane=dp, namespaces=["ns", "other"], prefix="doc-", clock=clock, target_chains=1
    )
    check = report.verification
    assert check.ok
    assert check.rounds == 1
    assert check.leftovers_deleted == 0
    assert check.lag is None
    assert check.waited <= 2 * LATENCY  # one probe of the last delete, not the 5 s upper bound
    assert dp.namespaces == {"ns": ["keep"], "other": ["keep"]}


async def test_with_lag_the_tail_is_about_the_lag_and_exact() -> None:
    dp, clock = _plane(3.0)
    report = await bulkops.purge(
        dataplane=dp, namespaces=["ns", "other"], prefix="doc-", clock=clock, target_chains=1
    )
    check = report.verification
    assert check.ok
    assert check.rounds == 1
    assert check.leftovers_deleted == 0
    assert 3.0 - 0.2 <= check.waited <= 3.0 + 0.2  # probes every ≤ 160 ms until the deletes show
    assert check.lag is not None
    assert 2.5 <= check.lag <= 3.0
    dp._settle()
    assert dp.namespaces == {"ns": ["keep"], "other": ["keep"]}


async def test_an_upper_bound_shorter_than_the_lag_still_ends_exact() -> None:
    dp, clock = _plane(3.0)
    report = await bulkops.purge(
        dataplane=dp,
        namespace="ns",
        prefix="doc-",
        clock=clock,
        verify_delay=1.0,
        verify_rounds=5,
        target_chains=1,
    )
    check = report.verification
    assert check.ok
    assert check.rounds > 1
    assert check.waited <= 5 * 1.0 + 0.5
    dp._settle()
    assert dp.namespaces["ns"] == ["keep"]


async def test_an_ids_purge_learns_the_lag_from_its_early_checks(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(IDS) + "\n")
    dp, clock = _plane(2.0)
    report = await bulkops.purge(dataplane=dp, namespace="ns", ids_file=path, clock=clock)
    check = report.verification
    assert check.ok
    assert check.rounds == 1
    assert check.leftovers_deleted == 0
    assert check.lag is not None
    assert 1.5 <= check.lag <= 2.0
    assert report.elapsed <= 2.0 + 1.0  # the early checks waited once for the lag, not per batch
    dp._settle()
    assert dp.namespaces["ns"] == ["keep"]


@pytest.mark.parametrize("lag", [0.0, 3.0])
async def test_delete_all_plans_probe_the_namespace(lag: float) -> None:
    dp, clock = _plane(lag)

    async def delete_all(*, namespace: str) -> None:
        await dp._call("delete_all")
        dp._pending.append((clock.now(), namespace, set(dp.namespaces.get(namespace, []))))

    dp.delete_all = delete_all  # type: ignore[method-assign]
    report = await bulkops.purge(dataplane=dp, namespaces=["ns", "other"], all=True, clock=clock)
    check = report.verification
    assert check.ok
    assert check.rounds == 1
    assert check.waited <= lag + 0.2


@pytest.mark.integration  # three seconds of real consistency lag
async def test_against_the_local_server_with_three_seconds_of_lag_the_result_is_exact() -> None:
    from bulkops.server import ServerConfig, serve_local

    async with serve_local(ServerConfig(consistency_lag_ms=3000)) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", "ns", [Record(i, (0.1, 0.2, 0.3, 0.4)) for i in [*IDS, "keep"]])
        report = await bulkops.purge(
            host=server.index_host("idx"), api_key="", namespace="ns", prefix="doc-", limits="none"
        )
        check = report.verification
        assert check.ok
        assert check.leftovers_deleted == 0
        assert check.lag is not None
        assert check.lag >= 2.0  # deleted records were seen still listed or fetched for seconds
        assert server.ids("idx", "ns") == ["keep"]
