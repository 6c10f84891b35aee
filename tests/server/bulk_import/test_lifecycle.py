"""An import's life: Pending → InProgress → Completed with rising progress, cancel (which undoes what
was written), listing with pagination, and a server restart in the middle (which resumes it).

The server runs on a ``FakeClock`` and paces imports (``import_records_per_second``) so that each
state can be looked at for as long as the test likes: time moves only when the test moves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulkops.server import LocalServer, ServerConfig, serve_local
from bulkops.testing import FakeClock, local_server
from tests.helpers.ports import quiet_port_base
from tests.server.bulk_import.helpers import (
    assert_landed,
    call,
    describe,
    make_records,
    start,
    wait_until,
    write_export,
)

RECORDS = make_records(300, seed=5)
DATA = {"ns": RECORDS}
PART_ROWS = 50  # six files of 50 rows: one batch each, 0.5 s of fake time each at 100 records/s
PACED = ServerConfig(import_pending_ms=1000, import_records_per_second=100)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[LocalServer]:
    async with local_server("idx", "other", config=PACED, clock=clock) as srv:
        yield srv


@pytest.fixture
def layout(tmp_path: Path) -> str:
    return f"file://{write_export(tmp_path / 'export', DATA, part_rows=PART_ROWS)}"


async def _advance_until(
    clock: FakeClock,
    http: aiohttp.ClientSession,
    host: str,
    import_id: str,
    status: str = "InProgress",
    records: int = 0,
) -> list[dict[str, Any]]:
    """Move fake time 0.5 s whenever the import sleeps (one batch each), letting the worker threads run
    in real time in between, until the import has ``status`` and at least ``records``; every answer
    seen along the way."""
    seen = []
    for _ in range(4000):
        found = await describe(http, host, import_id)
        seen.append(found)
        if found["status"] == status and found["recordsImported"] >= records:
            return seen
        if clock.pending:
            clock.jump(0.5)
        await asyncio.sleep(0.005)
    raise AssertionError(f"never reached {status} with {records} records: {seen[-1]}")


async def _running(
    server: LocalServer, clock: FakeClock, http: aiohttp.ClientSession, layout: str, records: int
) -> tuple[str, str]:
    """(host, import id) of an import of ``layout`` into ``idx`` that is InProgress with ``records``."""
    host = server.index_host("idx")
    import_id = await start(http, host, layout)
    clock.jump(1.0)  # the pending time is over
    await _advance_until(clock, http, host, import_id, "InProgress", records)
    return host, import_id


async def test_pending_then_in_progress_then_completed(
    server: LocalServer, clock: FakeClock, http: aiohttp.ClientSession, layout: str
) -> None:
    host = server.index_host("idx")
    import_id = await start(http, host, layout)
    pending = await describe(http, host, import_id)
    assert pending["status"] == "Pending"
    assert (pending["percentComplete"], pending["recordsImported"]) == (0.0, 0)
    assert "finishedAt" not in pending
    clock.jump(1.0)  # the pending time is over
    running = (await _advance_until(clock, http, host, import_id, "InProgress", PART_ROWS))[-1]
    assert 0 < running["percentComplete"] < 100
    assert running["recordsImported"] < len(RECORDS)
    assert "finishedAt" not in running
    seen = await _advance_until(clock, http, host, import_id, "Completed")
    percents = [float(s["percentComplete"]) for s in seen]
    records = [int(s["recordsImported"]) for s in seen]
    assert percents == sorted(percents)
    assert records == sorted(records)
    assert {s["status"] for s in seen} <= {"InProgress", "Completed"}
    assert (percents[-1], records[-1]) == (100.0, len(RECORDS))
    assert_landed(server, "idx", DATA)


async def test_cancel_stops_the_import_and_removes_what_it_wrote(
    server: LocalServer, clock: FakeClock, http: aiohttp.ClientSession, layout: str
) -> None:
    host, import_id = await _running(server, clock, http, layout, 2 * PART_ROWS)
    assert server.count("idx", "ns") >= 2 * PART_ROWS
    assert await call(http, "DELETE", f"{host}/bulk/imports/{import_id}") == (200, {})
    cancelled = await describe(http, host, import_id)
    assert cancelled["status"] == "Cancelled"
    assert cancelled["recordsImported"] == 0
    assert "finishedAt" in cancelled
    assert "error" not in cancelled
    assert server.count("idx", "ns") == 0
    assert "ns" not in server.indexes["idx"].context.store.namespace_counts()
    clock.jump(100.0)
    await asyncio.sleep(0.05)
    assert (await describe(http, host, import_id))["status"] == "Cancelled"  # stays so
    assert await call(http, "DELETE", f"{host}/bulk/imports/{import_id}") == (200, {})


async def test_cancel_a_pending_import_and_cancel_after_completion_has_no_effect(
    server: LocalServer, clock: FakeClock, http: aiohttp.ClientSession, layout: str
) -> None:
    host = server.index_host("idx")
    pending = await start(http, host, layout)
    assert await call(http, "DELETE", f"{host}/bulk/imports/{pending}") == (200, {})
    assert (await describe(http, host, pending))["status"] == "Cancelled"
    done_id = await start(http, host, layout)
    clock.jump(1.0)
    await _advance_until(clock, http, host, done_id, "Completed")
    assert await call(http, "DELETE", f"{host}/bulk/imports/{done_id}") == (200, {})
    assert (await describe(http, host, done_id))["status"] == "Completed"
    assert server.count("idx", "ns") == len(RECORDS)


async def test_unknown_imports_and_imports_of_another_index_are_404(
    server: LocalServer, http: aiohttp.ClientSession, layout: str
) -> None:
    theirs = await start(http, server.index_host("other"), layout)
    host = server.index_host("idx")
    for method in ("GET", "DELETE"):
        for import_id in ("999", theirs, "not-a-number"):
            status, answer = await call(http, method, f"{host}/bulk/imports/{import_id}")
            assert status == 404, answer
            assert answer["message"] == f"Import {import_id} not found."


async def test_list_pages_through_the_imports_of_this_index_oldest_first(
    server: LocalServer, http: aiohttp.ClientSession, layout: str
) -> None:
    host = server.index_host("idx")
    ours = [await start(http, host, layout) for _ in range(5)]
    await start(http, server.index_host("other"), layout)
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    pages = 0
    while True:
        status, page = await call(http, "GET", f"{host}/bulk/imports", params=params)
        assert status == 200, page
        pages += 1
        seen += [item["id"] for item in page["data"]]
        assert {item["status"] for item in page["data"]} == {"Pending"}
        if "pagination" not in page:
            break
        params["paginationToken"] = page["pagination"]["next"]
    assert (seen, pages) == (ours, 3)
    status, everything = await call(http, "GET", f"{host}/bulk/imports")
    assert [item["id"] for item in everything["data"]] == ours
    assert "pagination" not in everything
    for bad in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"paginationToken": "garbage"}):
        status, answer = await call(http, "GET", f"{host}/bulk/imports", params=bad)
        assert status == 400, (bad, answer)


async def test_a_restarted_server_resumes_the_import_and_counts_every_record_once(
    tmp_path: Path, http: aiohttp.ClientSession, layout: str
) -> None:
    data_dir = tmp_path / "data"
    clock = FakeClock()
    config = ServerConfig(data_dir=data_dir, import_records_per_second=100, index_port_base=quiet_port_base())
    async with serve_local(config, clock=clock) as first:
        await first.create_index_direct("idx", 8)
        host = first.index_host("idx")
        import_id = await start(http, host, layout)
        partway = (await _advance_until(clock, http, host, import_id, "InProgress", 3 * PART_ROWS))[-1]
        assert partway["recordsImported"] < len(RECORDS)
    async with serve_local(ServerConfig(data_dir=data_dir)) as second:  # real time, no pacing
        host = second.index_host("idx")
        done = await wait_until(http, host, import_id)
        assert done["status"] == "Completed", done
        assert done["recordsImported"] == len(RECORDS)
        assert done["createdAt"] == partway["createdAt"]
        assert_landed(second, "idx", DATA)
        assert await call(http, "GET", f"{host}/bulk/imports") == (200, {"data": [done]})


async def test_an_import_directory_changed_during_a_restart_fails_the_import(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    data_dir, export = tmp_path / "data", tmp_path / "export"
    write_export(export, DATA, part_rows=PART_ROWS)
    clock = FakeClock()
    async with serve_local(
        ServerConfig(data_dir=data_dir, import_records_per_second=100, index_port_base=quiet_port_base()),
        clock=clock,
    ) as first:
        await first.create_index_direct("idx", 8)
        host = first.index_host("idx")
        import_id = await start(http, host, f"file://{export}")
        await _advance_until(clock, http, host, import_id, "InProgress", PART_ROWS)
    write_export(tmp_path / "more", {"late-arrival": RECORDS[:3]})
    (tmp_path / "more" / "late-arrival").rename(export / "late-arrival")
    async with serve_local(ServerConfig(data_dir=data_dir)) as second:
        host = second.index_host("idx")
        done = await wait_until(http, host, import_id)
        assert done["status"] == "Failed"
        assert "changed while the import was interrupted" in done["error"]
        assert second.count("idx", "ns") == 0
        assert second.indexes["idx"].context.store.namespace_counts() == {}


async def test_deleting_the_index_stops_its_imports(
    server: LocalServer, clock: FakeClock, http: aiohttp.ClientSession, layout: str
) -> None:
    _, import_id = await _running(server, clock, http, layout, PART_ROWS)
    index_id = server.indexes["idx"].context.meta.index_id
    assert [m.import_id for m in server.imports.of_index(index_id)] == [import_id]
    status, _ = await call(http, "DELETE", f"{server.url}/indexes/idx")
    assert status == 202
    assert server.imports.of_index(index_id) == []
    assert list(server.catalog.imports) == []
    clock.jump(100.0)  # a task still running would now write into a closed store and fail loudly
    await asyncio.sleep(0.05)
