"""Import (bulkops.load) against the local server: round trips, rejections, batch limits, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

import bulkops
from bulkops.api.client import Client
from bulkops.api.grpc.messages import upsert_request
from bulkops.api.rest.wire import upsert_body
from bulkops.errors import RecordRejectedError, UsageError
from bulkops.models import MAX_UPSERT_BYTES, Record
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from bulkops.sinks import JsonlReader, ParquetReader
from tests.helpers.records import assert_same_records, make_records
from tests.helpers.wrappers import Crash, Wrapped

KEY = "test-key"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve_local(ServerConfig(api_key=KEY)) as srv:
        await srv.create_index_direct("src", dimension=8)
        await srv.create_index_direct("dst", dimension=8)
        yield srv


def _index(server: LocalServer, index: str, namespace: str) -> dict[str, Record]:
    return {r.id: r for r in server.get_records(index, namespace, server.ids(index, namespace))}


def _file(path: Path) -> dict[str, Record]:
    reader = ParquetReader(path) if path.suffix == ".parquet" else JsonlReader(path)
    return {i.record.id: i.record for i in reader if i.record is not None}


def _write_jsonl(path: Path, records: list[Record]) -> None:
    """An import file as a person could write it: vector JSON lines, floats as given (not float32)."""
    path.write_bytes(b"".join(orjson.dumps(r.to_wire(), option=orjson.OPT_APPEND_NEWLINE) for r in records))


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
async def test_round_trip_export_import_export_gives_the_same_content(
    server: LocalServer, tmp_path: Path, suffix: str
) -> None:
    await server.seed("src", "", make_records(1200, seed=21, prefix="a-"))
    await server.seed("src", "tenant-2", make_records(1800, seed=22, prefix="b-"))
    first = tmp_path / f"first{suffix}"
    second = tmp_path / f"second{suffix}"
    common = {"api_key": KEY, "limits": "none", "commit_every": 700}
    await bulkops.export(host=server.index_host("src"), all_namespaces=True, output=first, **common)
    report = await bulkops.load(input=first, host=server.index_host("dst"), api_key=KEY, limits="none")
    assert report.upserted == 3000
    assert report.rejected == 0
    for ns in ("", "tenant-2"):
        assert_same_records(_index(server, "dst", ns), _index(server, "src", ns))
    await bulkops.export(host=server.index_host("dst"), all_namespaces=True, output=second, **common)
    assert_same_records(_file(second), _file(first))


async def test_rejected_records_are_reported_with_their_line_and_the_rest_goes_on(
    server: LocalServer, tmp_path: Path
) -> None:
    records = make_records(3000, seed=23)
    records[1234] = Record("wrong-dim", values=[1.0, 2.0])
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, records)
    lines = source.read_bytes().splitlines()
    lines[10] = b"{not json"
    source.write_bytes(b"\n".join(lines) + b"\n")
    host = server.index_host("dst")

    with pytest.raises(RecordRejectedError, match=r"in\.jsonl line 11") as stopped:
        await bulkops.load(input=source, host=host, namespace="x", api_key=KEY, limits="none")
    assert stopped.value.report.stopped
    assert stopped.value.report.upserted == len(server.ids("dst", "x"))

    report = await bulkops.load(
        input=source,
        host=host,
        namespace="y",
        api_key=KEY,
        limits="none",
        on_error="skip",
        checkpoint=tmp_path / "skip.ck",
    )
    assert report.rejected == 2
    assert [(r.location, r.id) for r in report.rejections] == [
        ("in.jsonl line 11", None),
        ("in.jsonl line 1235", "wrong-dim"),
    ]
    assert "dimension" in report.rejections[1].reason
    assert report.upserted == 2998
    expected = {r.id for i, r in enumerate(records) if i not in (10, 1234)}
    assert set(server.ids("dst", "y")) == expected


async def test_a_stop_writes_nothing_after_the_rejected_record(server: LocalServer, tmp_path: Path) -> None:
    """Issue 12: a bad record on line 11 of 21 stopped the import with 20 records in, 10 after it."""
    records = make_records(21, seed=25)
    records[10] = Record("wrong-dim", values=[1.0, 2.0])
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, records)

    with pytest.raises(RecordRejectedError, match=r"in\.jsonl line 11") as stopped:
        await bulkops.load(
            input=source,
            host=server.index_host("dst"),
            namespace="s",
            api_key=KEY,
            limits="none",
            batch_size=3,
        )
    report = stopped.value.report
    assert server.ids("dst", "s") == sorted(r.id for r in records[:10])  # the ten before it, nothing else
    assert (report.upserted, report.rejected) == (10, 1)
    assert report.stopped_at is not None
    assert (report.stopped_at.location, report.stopped_at.id) == ("in.jsonl line 11", "wrong-dim")
    assert report.in_flight_after_stop == ()
    message = str(stopped.value)
    assert "The 10 records before it were imported; nothing after it was sent" in message
    assert "on_error='skip'" in message
    assert (stopped.value.location, stopped.value.record_id) == ("in.jsonl line 11", "wrong-dim")


async def test_an_index_of_another_dimension_gets_no_request_at_all(
    server: LocalServer, tmp_path: Path
) -> None:
    """Issue 12: an import into an index of the wrong dimension sent one request per record."""
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, make_records(300, seed=26))  # dimension 8, no manifest
    await server.create_index_direct("wide", dimension=16)
    async with Client(KEY, server.url, limits="none") as client:
        with pytest.raises(RecordRejectedError, match=r"line 1: .* 8 values; the index has dimension 16"):
            await bulkops.load(input=source, index="wide", client=client)
        assert "upsert" not in client.stats.requests
        report = await bulkops.load(
            input=source, index="wide", client=client, on_error="skip", checkpoint=tmp_path / "s"
        )
        assert "upsert" not in client.stats.requests
    assert (report.upserted, report.rejected) == (0, 300)
    assert server.count("wide", "") == 0


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # the server's float32 cast
async def test_a_record_only_the_server_refuses_ends_the_import_there(
    server: LocalServer, tmp_path: Path
) -> None:
    """Values beyond float32 pass the checks but not the server: the halving stops at the record and
    sends nothing after it (one worker: no other batch is in flight)."""
    records = make_records(20, seed=27)
    records[7] = Record("too-big", values=[1e39] * 8)
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, records)
    with pytest.raises(RecordRejectedError, match=r"line 8: record 'too-big' was rejected") as stopped:
        await bulkops.load(
            input=source, host=server.index_host("dst"), namespace="b", api_key=KEY, limits="none",
            batch_size=5, workers=1,
        )  # fmt: skip
    assert server.ids("dst", "b") == sorted(r.id for r in records[:7])
    assert stopped.value.report.upserted == 7
    assert "nothing after it was sent" in str(stopped.value)


async def test_parquet_rejections_name_part_and_row(server: LocalServer, tmp_path: Path) -> None:
    from bulkops.sinks import ParquetWriter

    records = make_records(500, seed=24)
    records[321] = Record("wrong-dim", values=[1.0] * 3)
    root = tmp_path / "in.parquet"
    writer = ParquetWriter(root, commit_records=200)
    writer.truncate_to(None)
    writer.write("ns", records)
    writer.commit()
    report = await bulkops.load(
        input=root, host=server.index_host("dst"), api_key=KEY, limits="none", on_error="skip"
    )
    assert [(r.location, r.id) for r in report.rejections] == [("ns/part-00001.parquet row 121", "wrong-dim")]
    assert report.upserted == 499
    assert dict(report.namespaces) == {"ns": 499}


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_batches_respect_1000_records_and_2_mb_on_their_wire(
    server: LocalServer, tmp_path: Path, transport: str
) -> None:
    """Batches are cut by the request's real size on the wire it travels (JSON body, protobuf message):
    never over 2 MB, and full enough that the byte cap, not a guess, cut them."""
    await server.create_index_direct("wide", dimension=1536)
    records = [
        Record(f"r{i:05d}", values=[float(i % 97) / 7.0 + 0.123456] * 1536, metadata={"text": "x" * 2000})
        for i in range(700)
    ] + [Record(f"s{i:05d}", values=[0.5] * 1536) for i in range(1100)]
    source = tmp_path / "wide.jsonl"
    _write_jsonl(source, records)
    encoded: list[int] = []
    async with Client(KEY, server.url, limits="none", transport=transport) as client:
        dp = Wrapped(client.index_at(server.index_host("wide")), max_delay=0)
        real_upsert = dp.upsert

        async def upsert(batch: list[Record], *, namespace: str) -> int:
            if transport == "rest":
                encoded.append(len(upsert_body(batch, namespace)))
            else:
                encoded.append(upsert_request(batch, namespace).ByteSize())
            return await real_upsert(batch, namespace=namespace)

        dp.upsert = upsert  # type: ignore[method-assign]
        report = await bulkops.load(input=source, dataplane=dp, namespace="w", limits="none")
    assert report.upserted == 1800
    assert max(dp.upsert_sizes) <= 1000
    assert sum(dp.upsert_sizes) == 1800
    assert max(encoded) <= MAX_UPSERT_BYTES
    assert sorted(encoded)[1] > 0.9 * MAX_UPSERT_BYTES  # all but the last of each kind are nearly full
    assert server.count("wide", "w") == 1800


async def test_resume_after_a_crash_continues_from_the_watermark(
    server: LocalServer, tmp_path: Path, transport: str
) -> None:
    records = make_records(6000, seed=25)
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, records)
    async with Client(KEY, server.url, limits="none", transport=transport) as client:
        real = client.index_at(server.index_host("dst"))
        for attempt, crash_after in enumerate([6, 9]):
            with pytest.raises(Crash):
                await bulkops.load(
                    input=source,
                    dataplane=Wrapped(real, seed=attempt, crash_after=crash_after),
                    namespace="r",
                    batch_size=250,
                    workers=4,
                    limits="none",
                    commit_every=500,
                )
        wrapped = Wrapped(real, seed=7)
        report = await bulkops.load(
            input=source,
            dataplane=wrapped,
            namespace="r",
            batch_size=250,
            workers=4,
            limits="none",
            commit_every=500,
        )
    assert report.resumed
    assert report.upserted == 6000
    assert sum(wrapped.upsert_sizes) < 6000  # the last run did not start over
    assert_same_records(_index(server, "dst", "r"), {r.id: r for r in records})


async def test_bad_arguments_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        await bulkops.load(input=tmp_path / "missing.jsonl", host="http://127.0.0.1:9", api_key=KEY)
    (tmp_path / "a.jsonl").write_bytes(b"")
    with pytest.raises(UsageError, match="on_error"):
        await bulkops.load(
            input=tmp_path / "a.jsonl", host="http://127.0.0.1:9", api_key=KEY, on_error="ignore"
        )  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="batch_size"):
        await bulkops.load(
            input=tmp_path / "a.jsonl", host="http://127.0.0.1:9", api_key=KEY, batch_size=5000
        )


async def test_an_export_the_target_would_reject_entirely_is_refused_up_front(
    server: LocalServer, tmp_path: Path
) -> None:
    await server.seed("src", "ns", make_records(100, seed=26))
    await server.create_index_direct("wide16", dimension=16)
    out = tmp_path / "e.jsonl"
    await bulkops.export(
        host=server.index_host("src"), namespace="ns", output=out, api_key=KEY, limits="none"
    )
    with pytest.raises(UsageError, match="dimension 8 but the target index has dimension 16"):
        await bulkops.load(input=out, host=server.index_host("wide16"), api_key=KEY, limits="none")
    assert server.count("wide16", "ns") == 0

    bare = tmp_path / "bare.jsonl"
    await bulkops.export(
        host=server.index_host("src"),
        namespace="ns",
        output=bare,
        api_key=KEY,
        limits="none",
        include_values=False,
    )
    with pytest.raises(UsageError, match="without values"):
        await bulkops.load(input=bare, host=server.index_host("dst"), api_key=KEY, limits="none")
