"""The safety copies a purge can take first: a backup (which may miss the newest records: the local server
models Pinecone's 15-minute window with ``backup_freshness_s``) and ``export_first`` (which does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bulkops
from bulkops.api import Client
from bulkops.clock import FakeClock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import UsageError
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig, serve_local
from bulkops.sinks import JsonlReader, ParquetReader
from tests.helpers.records import assert_same_records

OLD = [Record(f"acme#old{i:03d}", (0.1, 0.2, 0.3, 0.4), metadata={"n": i}) for i in range(120)]
NEW = [Record(f"acme#new{i:03d}", (0.5, 0.6, 0.7, 0.8), metadata={"n": i}) for i in range(30)]
OTHER = [Record(f"zeta#{i:03d}", (1.0, 1.0, 1.0, 1.0)) for i in range(10)]


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[LocalServer]:
    """Old records written an hour before the new ones; backups leave out the last 15 minutes."""
    async with serve_local(ServerConfig(backup_freshness_s=900, backup_ready_ms=0), clock=clock) as srv:
        await srv.create_index_direct("idx", dimension=4)
        await srv.seed("idx", "ns", OLD + OTHER)
        clock.jump(3600)
        await srv.seed("idx", "ns", NEW)
        yield srv


async def test_a_backup_leaves_out_records_younger_than_the_window(
    server: LocalServer, clock: FakeClock
) -> None:
    async with Client("k", server.url) as client:
        backup = await client.control.create_backup("idx")
        assert backup["record_count"] == len(OLD) + len(OTHER)
        clock.jump(901)  # fifteen minutes later, the new records are old enough
        later = await client.control.create_backup("idx")
        assert later["record_count"] == len(OLD) + len(OTHER) + len(NEW)


async def test_backup_first_says_when_the_backup_holds_fewer_records(server: LocalServer) -> None:
    async with Client("k", server.url) as client:
        report = await bulkops.purge(
            client=client, index="idx", namespace="ns", prefix="acme#", backup_first=True, verify_delay=0
        )
    assert report.backup_id
    note = next(n for n in report.notes if "backup" in n)
    assert "holds 130 records but the index held 160" in note
    assert "30 newest records" in note
    assert "export_first" in note
    assert server.ids("idx", "ns") == sorted(r.id for r in OTHER)


async def test_no_note_when_the_backup_holds_everything(clock: FakeClock) -> None:
    async with serve_local(ServerConfig(backup_ready_ms=0), clock=clock) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", "ns", OLD + NEW)
        async with Client("k", server.url) as client:
            report = await bulkops.purge(
                client=client, index="idx", namespace="ns", prefix="acme#", backup_first=True, verify_delay=0
            )
    assert report.backup_id
    assert not any("backup" in n for n in report.notes)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
async def test_export_first_exports_exactly_the_targeted_records_before_deleting(
    server: LocalServer, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"safety{suffix}"
    async with Client("k", server.url) as client:
        report = await bulkops.purge(
            client=client,
            index="idx",
            namespace="ns",
            prefix="acme#",
            export_first=out,
            checkpoint=tmp_path / "purge.ckpt",
            verify_delay=0,
        )
    assert report.exported_first is not None
    assert report.exported_first["exported"] == 150
    reader = ParquetReader(out) if suffix == ".parquet" else JsonlReader(out)
    exported = {item.record.id: item.record for item in reader if item.record is not None}
    assert_same_records(exported, {r.id: r for r in OLD + NEW})
    assert server.ids("idx", "ns") == sorted(r.id for r in OTHER)
    assert Checkpoint.inspect(tmp_path / "purge.ckpt").state["exported_first"]["exported"] == 150


async def test_export_first_resumes_with_the_purge(server: LocalServer, tmp_path: Path) -> None:
    """A purge stopped during its export resumes the export (its own checkpoint), then deletes."""
    out = tmp_path / "safety.jsonl"
    checkpoint = tmp_path / "purge.ckpt"

    class Stop(Exception):
        pass

    def stop_once(progress: object) -> None:
        if getattr(progress, "phase", None) == "backup":
            raise Stop

    async with Client("k", server.url) as client:
        kwargs = {"client": client, "index": "idx", "namespace": "ns", "prefix": "acme#", "verify_delay": 0}
        with pytest.raises(Stop):
            await bulkops.purge(
                **kwargs, export_first=out, checkpoint=checkpoint, backup_first=True, progress=stop_once
            )
        assert len(server.ids("idx", "ns")) == 160  # nothing deleted yet
        assert Checkpoint.inspect(checkpoint).phase == "backup"
        report = await bulkops.purge(**kwargs, export_first=out, checkpoint=checkpoint, backup_first=True)
    assert report.exported_first is not None
    assert report.exported_first["exported"] == 150
    assert server.ids("idx", "ns") == sorted(r.id for r in OTHER)


async def test_a_bad_export_first_path_is_refused_before_anything_is_sent(
    server: LocalServer, tmp_path: Path
) -> None:
    async with Client("k", server.url) as client:
        with pytest.raises(UsageError, match=r"export_first=.*\.jsonl or \.parquet"):
            await bulkops.purge(
                client=client, index="idx", namespace="ns", prefix="acme#", export_first=tmp_path / "x.csv"
            )
        with pytest.raises(UsageError, match=r"export_first=.*does not exist"):
            await bulkops.purge(
                client=client,
                index="idx",
                namespace="ns",
                prefix="acme#",
                export_first=tmp_path / "no" / "x.jsonl",
            )
    assert len(server.ids("idx", "ns")) == 160
