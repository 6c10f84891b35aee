"""``bulkops.resume``: every job and selection kind the library writes resumes from its checkpoint alone;
a restarted server (the same index at another host) is accepted, another job is refused."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.api.client import Client
from bulkops.errors import CheckpointMismatchError, UsageError
from bulkops.jobs import ExportSpec, LoadSpec, PurgeSpec, read_spec
from bulkops.jobs.export.spec import build_export
from bulkops.jobs.load.spec import build_load
from bulkops.jobs.purge.spec import build_purge
from bulkops.jobs.target import TargetSpec
from bulkops.models import Record
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from bulkops.sinks import JsonlReader, JsonlWriter
from tests.helpers.records import assert_same_records, make_records
from tests.helpers.wrappers import Crash, Wrapped

KEY = "test-key"
N = 3000


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve_local(ServerConfig(api_key=KEY)) as srv:
        await srv.create_index_direct("src", dimension=8)
        await srv.create_index_direct("dst", dimension=8)
        await srv.seed("src", "ns", make_records(N, seed=3))
        yield srv


def _read(path: Path) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for item in JsonlReader(path):
        assert item.record is not None
        assert item.record.id not in out, f"{item.record.id} twice"
        out[item.record.id] = item.record
    return out


def _source(server: LocalServer, keep: Callable[[Record], bool] = lambda r: True) -> dict[str, Record]:
    return {r.id: r for r in server.get_records("src", "ns", server.ids("src", "ns")) if keep(r)}


Call = Callable[[Any], Awaitable[Any]]


def _jobs(tmp_path: Path) -> dict[str, tuple[Call, Callable[[LocalServer], None], int]]:
    """Per job and selection kind: the library call (given a data plane), the exactness check, and
    after how many data-plane calls it crashes the first time."""
    ids_file = tmp_path / "ids.txt"
    wanted = [f"doc-{i:06d}#c" for i in range(0, N, 2)]
    ids_file.write_text("\n".join(wanted) + "\n")
    out = tmp_path / "out.jsonl"
    source = tmp_path / "in.jsonl"
    ck = tmp_path / "job.ckpt"
    purge = {"namespace": "ns", "checkpoint": ck, "verify_delay": 0.0, "limits": "none"}
    export = {"namespace": "ns", "output": out, "checkpoint": ck, "limits": "none", "commit_every": 300}

    def gone(keep: Callable[[str], bool]) -> Callable[[LocalServer], None]:
        def check(server: LocalServer) -> None:
            assert server.ids("src", "ns") == sorted(
                f"doc-{i:06d}#c" for i in range(N) if keep(f"doc-{i:06d}#c")
            )

        return check

    def exported(keep: Callable[[Record], bool]) -> Callable[[LocalServer], None]:
        return lambda server: assert_same_records(_read(out), _source(server, keep))

    def loaded(server: LocalServer) -> None:
        want = {r.id: r for r in make_records(N, seed=5, prefix="up-")}
        assert_same_records({r.id: r for r in server.get_records("dst", "ns", server.ids("dst", "ns"))}, want)

    def first_ids(*prefixes: str) -> Callable[[str], bool]:
        return lambda i: not i.startswith(prefixes)

    def has_t3(record: Record) -> bool:
        return bool(record.metadata and record.metadata.get("tag") == "t3")

    def not_t3(record_id: str) -> bool:
        n = int(record_id[4:10])
        return bool(n % 2 or n % 7 != 3)

    chosen = set(wanted)
    tagged = {"tag": {"$eq": "t3"}}
    ns_load = {"namespace": "ns", "checkpoint": ck, "limits": "none", "batch_size": 200, "commit_every": 400}
    return {
        "purge-prefix": (
            lambda dp: bulkops.purge(dataplane=dp, prefix=["doc-001", "doc-000"], **purge),
            gone(first_ids("doc-000", "doc-001")),
            1,
        ),
        "purge-ids-file": (
            lambda dp: bulkops.purge(dataplane=dp, ids_file=ids_file, **purge),
            gone(lambda i: i not in chosen),
            1,
        ),
        "purge-filter": (lambda dp: bulkops.purge(dataplane=dp, filter=tagged, **purge), gone(not_t3), 0),
        "purge-everything": (
            lambda dp: bulkops.purge(dataplane=dp, all=True, **purge),
            gone(lambda i: False),
            0,
        ),
        "export-everything": (lambda dp: bulkops.export(dataplane=dp, **export), exported(lambda r: True), 2),
        "export-prefix": (
            lambda dp: bulkops.export(dataplane=dp, prefix=["doc-001", "doc-0020"], **export),
            exported(lambda r: r.id.startswith(("doc-001", "doc-0020"))),
            1,
        ),
        "export-ids-file": (
            lambda dp: bulkops.export(dataplane=dp, ids_file=str(ids_file), **export),
            exported(lambda r: r.id in chosen),
            1,
        ),
        "export-filter": (
            lambda dp: bulkops.export(dataplane=dp, filter=tagged, **export),
            exported(has_t3),
            0,
        ),
        "load": (lambda dp: bulkops.load(dataplane=dp, input=source, workers=2, **ns_load), loaded, 4),
    }


JOBS = list(_jobs(Path("/")))


@pytest.mark.parametrize("job", JOBS)
async def test_every_library_checkpoint_resumes_from_the_checkpoint_alone(
    server: LocalServer, tmp_path: Path, job: str
) -> None:
    call, check, crash_after = _jobs(tmp_path)[job]
    writer = JsonlWriter(tmp_path / "in.jsonl")
    writer.truncate_to(None)
    writer.write("", make_records(N, seed=5, prefix="up-"))
    writer.commit()
    writer.close()
    target = "dst" if job == "load" else "src"
    async with Client(KEY, server.url, limits="none") as client:
        real = client.index_at(server.index_host(target))
        with pytest.raises(Crash):
            await call(Wrapped(real, seed=1, crash_after=crash_after))
    checkpoint = tmp_path / "job.ckpt"
    spec = read_spec(checkpoint)
    assert spec.target.host == server.index_host(target)
    # Nothing but the checkpoint (and the key, never stored): host, namespaces, selection, options.
    report = await bulkops.resume(checkpoint, api_key=KEY, limits="none")
    assert report.resumed
    check(server)
    again = await bulkops.resume(checkpoint, api_key=KEY, limits="none")  # a finished job
    assert again.resumed
    check(server)


async def test_ids_given_in_memory_must_be_given_again(server: LocalServer, tmp_path: Path) -> None:
    ids = [f"doc-{i:06d}#c" for i in range(2500)]
    async with Client(KEY, server.url, limits="none") as client:
        real = client.index_at(server.index_host("src"))
        with pytest.raises(Crash):
            await bulkops.purge(
                dataplane=Wrapped(real, crash_after=1), namespace="ns", ids=ids, checkpoint=tmp_path / "c"
            )
    with pytest.raises(UsageError, match="in memory") as refused:
        await bulkops.resume(tmp_path / "c", api_key=KEY)
    assert refused.value.param == "ids"
    with pytest.raises(UsageError, match="not the IDs this job was started with"):
        await bulkops.resume(tmp_path / "c", api_key=KEY, ids=ids[:-1])
    report = await bulkops.resume(tmp_path / "c", api_key=KEY, ids=ids, limits="none")
    assert report.verification.ok
    assert server.ids("src", "ns") == sorted(f"doc-{i:06d}#c" for i in range(2500, N))


async def test_an_index_served_from_a_new_host_is_the_same_job(server: LocalServer, tmp_path: Path) -> None:
    """Issue 12: a restarted server gave its indexes new ports, and every checkpoint was refused."""
    out = tmp_path / "out.jsonl"
    old_host = "http://127.0.0.1:1"  # where the index was served before the restart
    async with Client(KEY, server.url, limits="none") as client:
        real = client.index_at(server.index_host("src"))
        with pytest.raises(Crash):
            await bulkops.export(
                index="src",
                dataplane=Wrapped(real, crash_after=2, host=old_host),
                namespace="ns",
                output=out,
                commit_every=300,
                limits="none",
            )
    assert read_spec(f"{out}.checkpoint").target.host == old_host
    report = await bulkops.resume(f"{out}.checkpoint", api_key=KEY, controller_host=server.url, limits="none")
    assert report.exported == N
    assert any(f"moved from {old_host}" in note for note in report.notes)
    assert read_spec(f"{out}.checkpoint").target.host == server.index_host("src")  # recorded
    assert_same_records(_read(out), _source(server))
    with pytest.raises(CheckpointMismatchError, match="different job"):  # another index is still refused
        await bulkops.export(index="dst", namespace="ns", output=out, api_key=KEY, controller_host=server.url)
    with pytest.raises(CheckpointMismatchError, match="different job"):  # another selection too
        await bulkops.export(
            index="src", prefix="doc-1", namespace="ns", output=out, api_key=KEY, controller_host=server.url
        )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (TargetSpec("idx", "http://127.0.0.1:5001"), TargetSpec("idx", "http://127.0.0.1:6002"), True),
        (
            TargetSpec("idx", "https://idx-p1.svc.pinecone.io"),
            TargetSpec("idx", "https://idx-p2.svc.pinecone.io"),
            False,
        ),
        (TargetSpec("idx", None, "http://127.0.0.1:1"), TargetSpec("idx", None, "http://127.0.0.1:2"), True),
        (TargetSpec("idx", None, "https://a.example"), TargetSpec("idx", None, "https://b.example"), False),
        (TargetSpec("idx"), TargetSpec("other"), False),
        (TargetSpec(None, "http://127.0.0.1:5001"), TargetSpec(None, "http://127.0.0.1:6002"), False),
        (TargetSpec(None, "http://h:1/"), TargetSpec("idx", "http://h:1"), True),
    ],
)
def test_which_targets_are_the_same_index(a: TargetSpec, b: TargetSpec, same: bool) -> None:
    """By name in a project: the port may change, the host name (Pinecone's project) may not."""
    assert a.same_index(b) is same
    assert b.same_index(a) is same


def test_specs_round_trip_through_json(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("a\nb\n")
    specs = [
        build_purge(target=TargetSpec("i"), namespaces=["a", "b"], prefix=["x#", "y#"], max_delete=5)[0],
        build_purge(target=TargetSpec(host="http://h:1"), ids=ids, verify_delay=0.5)[0],
        build_export(output=tmp_path / "o.parquet", target=TargetSpec("i"), all_namespaces=True)[0],
        build_export(output=tmp_path / "o.jsonl", target=TargetSpec(host="h"), filter={"a": {"$in": [1]}})[0],
        build_load(input=ids, target=TargetSpec("i"), namespace="__default__", on_error="skip"),
    ]
    for spec in specs:
        again = type(spec).from_json(spec.to_json())
        assert again == spec
        assert again.identity() == spec.identity()
    assert isinstance(specs[0], PurgeSpec)
    assert isinstance(specs[2], ExportSpec)
    assert isinstance(specs[4], LoadSpec)
    assert specs[4].namespace == ""  # __default__ is the default namespace, spelled one way inside


def test_old_names_still_work_with_a_warning(tmp_path: Path) -> None:
    async def calls() -> None:
        with pytest.raises(UsageError, match="only"):
            await bulkops.export(output=tmp_path / "a.jsonl", to=tmp_path / "b.jsonl", host="http://h")
        with pytest.raises(UsageError, match="no such file"):
            await bulkops.load(from_=tmp_path / "missing.jsonl", host="http://127.0.0.1:9", api_key=KEY)

    import anyio

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anyio.run(calls)
    assert [str(w.message).split("=")[0] for w in caught if w.category is DeprecationWarning] == ["from_"]


async def test_checkpoints_written_before_specs_still_resume(server: LocalServer, tmp_path: Path) -> None:
    """Checkpoints of the previous layout (version-1 specs; the import job's kind "import") are read,
    accepted as the same job, and upgraded."""
    import hashlib

    from bulkops.engine.checkpoint import Checkpoint

    host = server.index_host("src")
    wanted = [f"doc-{i:06d}#c" for i in range(0, N, 3)]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(wanted) + "\n")
    digest = hashlib.sha256(("\n".join(wanted) + "\n").encode()).hexdigest()
    out = tmp_path / "old.jsonl"
    old_export = {  # what bulkops.export(host=..., ids="ids.txt", to=...) recorded before specs
        "index": None, "host": host, "namespaces": ["ns"], "all_namespaces": False, "source": "ids",
        "prefix": None, "ids": {"source": str(ids_file), "sha256": digest}, "filter": None,
        "to": str(out), "format": "jsonl", "include_values": True, "include_metadata": True,
    }  # fmt: skip
    Checkpoint.open(f"{out}.checkpoint", kind="export", spec=old_export).close()
    report = await bulkops.resume(f"{out}.checkpoint", api_key=KEY, limits="none")
    assert report.exported == len(wanted)
    assert sorted(_read(out)) == wanted
    assert Checkpoint.inspect(f"{out}.checkpoint").spec["version"] == 2

    source = tmp_path / "in.jsonl"
    writer = JsonlWriter(source)
    writer.truncate_to(None)
    writer.write("", make_records(50, seed=9, prefix="old-"))
    writer.commit()
    writer.close()
    old_import = {
        "from": str(source), "index": None, "host": server.index_host("dst"), "namespace": "o",
        "batch_size": 1000, "max_batch_bytes": 2 * 1024 * 1024,
    }  # fmt: skip
    checkpoint = tmp_path / "old-import.ckpt"
    Checkpoint.open(checkpoint, kind="import", spec=old_import).close()
    loaded = await bulkops.load(
        input=source, host=server.index_host("dst"), namespace="o", checkpoint=checkpoint, api_key=KEY
    )
    assert loaded.upserted == 50
    assert Checkpoint.inspect(checkpoint).kind == "load"

    old_purge = {  # the purge's own identity before specs
        "host": host, "plan": "list_and_delete", "namespaces": ["ns"], "prefix": "doc-002",
        "filter": None, "ids_sha256": None,
    }  # fmt: skip
    Checkpoint.open(tmp_path / "old-purge.ckpt", kind="purge", spec=old_purge).close()
    purged = await bulkops.resume(tmp_path / "old-purge.ckpt", api_key=KEY, limits="none")
    assert purged.verification.ok
    assert not [i for i in server.ids("src", "ns") if i.startswith("doc-002")]


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_the_transport_is_an_option_recorded_for_resume(
    server: LocalServer, tmp_path: Path, transport: str
) -> None:
    """Not part of the job's identity: a resume may change it, the spec keeps what it was given."""
    out = tmp_path / "t.jsonl"
    report = await bulkops.export(
        host=server.index_host("src"), namespace="ns", prefix="doc-000", output=out, api_key=KEY,
        limits="none", transport=transport,
    )  # fmt: skip
    assert report.exported == 1000
    assert report.transport == transport
    assert read_spec(f"{out}.checkpoint").target.transport == transport
    other = "grpc" if transport == "rest" else "rest"
    again = await bulkops.resume(f"{out}.checkpoint", api_key=KEY, transport=other)
    assert again.resumed
    assert read_spec(f"{out}.checkpoint").target.transport == other
