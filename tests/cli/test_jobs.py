"""Happy paths of the job commands (load/import, export, purge, status, resume) and Ctrl-C then resume."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import CheckpointError
from tests.helpers.cli import Cli, bulkops_executable, slow_list_profile, wait_for_progress, write_jsonl

pytestmark = pytest.mark.integration

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses

TENANTS = {"acme#": 600, "globex#": 500, "initech#": 400}


@pytest.fixture(scope="module")
def seeded(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Index ``jobs`` with namespace ``docs``: three tenants' records (1,500), via ``bulkops import``."""
    work = tmp_path_factory.mktemp("seed")
    ids = [f"{tenant}{n:05d}" for tenant, count in TENANTS.items() for n in range(count)]
    source = write_jsonl(work / "seed.jsonl", ids)
    cli.ok("indexes", "create", "jobs", "--dimension", "4", "-q")
    report = cli.json("import", "--index", "jobs", "-n", "docs", "--input", str(source))
    assert report["upserted"] == len(ids)
    assert report["rejected"] == 0
    assert report["namespaces"] == {"docs": len(ids)}
    return "jobs"


def _count(cli: Cli, index: str, namespace: str) -> int:
    return cli.count(index, namespace)


def test_export_jsonl_by_prefix_and_parquet_whole_namespace(cli: Cli, seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "acme.jsonl"
    report = cli.json("export", "--index", seeded, "-n", "docs", "--prefix", "acme#", "--output", str(target))
    assert report["exported"] == TENANTS["acme#"]
    lines = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert sorted(doc["id"] for doc in lines) == [f"acme#{n:05d}" for n in range(TENANTS["acme#"])]
    assert all(len(doc["values"]) == 4 for doc in lines)
    assert report["checkpoint"] == str(target) + ".checkpoint"

    parquet = tmp_path / "docs.parquet"
    human = cli.ok("export", "--index", seeded, "-n", "docs", "--output", str(parquet))
    assert "exported" in human.stdout
    assert "1500" in human.stdout
    table = pq.read_table(parquet)
    assert table.num_rows == sum(TENANTS.values())
    assert {"id", "values", "metadata"} <= set(table.column_names)


def test_export_ids_file(cli: Cli, seeded: str, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("initech#00001\ninitech#00002\n\nnot-there\n")
    target = tmp_path / "some.jsonl"
    report = cli.json(
        "export", "--index", seeded, "-n", "docs", "--ids-file", str(ids), "--output", str(target)
    )
    assert report["exported"] == 2
    assert report["missing"] == 1


def test_purge_dry_run_changes_nothing(cli: Cli, seeded: str) -> None:
    report = cli.json("purge", "--index", seeded, "-n", "docs", "--prefix", "globex#", "--dry-run")
    assert report["dry_run"] is True
    assert report["would_delete"] == TENANTS["globex#"]
    assert len(report["sample"]) > 0
    assert all(i.startswith("globex#") for i in report["sample"])
    assert _count(cli, seeded, "docs") == sum(TENANTS.values())


def test_import_purge_by_ids_filter_and_all(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "jobs2", "--dimension", "4", "-q")
    source = write_jsonl(tmp_path / "x.jsonl", [f"x-{n:04d}" for n in range(200)], tag="keep")
    cli.ok("import", "--index", "jobs2", "-n", "a", "--input", str(source), "-q")
    other = write_jsonl(tmp_path / "y.jsonl", [f"y-{n:04d}" for n in range(100)], tag="drop")
    cli.ok("import", "--index", "jobs2", "-n", "a", "--input", str(other), "-q")

    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"x-{n:04d}\n" for n in range(50)))
    report = cli.json(
        "purge", "--index", "jobs2", "-n", "a", "--ids-file", str(ids), "--yes", "--verify-delay", "0"
    )
    assert report["deleted"] == 50
    assert report["verification"]["remaining"] == 0
    assert _count(cli, "jobs2", "a") == 250

    report = cli.json(
        "purge", "--index", "jobs2", "-n", "a", "--filter", '{"tag": {"$eq": "drop"}}', "--yes",
        "--verify-delay", "0",
    )  # fmt: skip
    assert report["verification"]["remaining"] == 0
    assert _count(cli, "jobs2", "a") == 150

    human = cli.ok("purge", "--index", "jobs2", "-n", "a", "--all", "--yes", "--verify-delay", "0")
    assert "verification" in human.stdout
    assert "ok" in human.stdout
    assert _count(cli, "jobs2", "a") == 0


def test_purge_prefix_with_backup_then_status(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "jobs3", "--dimension", "4", "-q")
    source = write_jsonl(
        tmp_path / "s.jsonl", [f"{t}{n:04d}" for t in ("keep#", "gone#") for n in range(300)]
    )
    cli.ok("import", "--index", "jobs3", "-n", "p", "--input", str(source), "-q")
    checkpoint = tmp_path / "purge.ckpt"
    report = cli.json(
        "purge", "--index", "jobs3", "-n", "p", "--prefix", "gone#", "--backup-first", "--yes",
        "--max-delete", "1000", "--checkpoint", str(checkpoint), "--verify-delay", "0",
    )  # fmt: skip
    assert report["deleted"] == 300
    assert report["backup_id"]
    assert report["verification"]["remaining"] == 0
    backup: Any = cli.json("backups", "describe", report["backup_id"])
    assert backup["record_count"] == 600
    assert _count(cli, "jobs3", "p") == 300

    status: Any = cli.json("status", str(checkpoint))
    assert status["kind"] == "purge"
    assert status["state"] == "finished"
    assert status["phase"] == "done"
    assert status["spec"]["selection"]["prefixes"] == ["gone#"]
    assert status["spec"]["target"]["index"] == "jobs3"
    assert status["spec"]["options"]["backup_first"] is True
    assert status["spec"]["options"]["max_delete"] == 1000
    assert status["counters"]["deleted"] == 300
    assert status["resume_command"] is None


def test_sigint_then_resume_purge(cli: Cli, tmp_path: Path, transport: str) -> None:
    """Ctrl-C mid-purge: exit 130 and the exact resume command; running it finishes the job exactly
    (on the wire the job recorded)."""
    index = f"jobs4-{transport}"
    cli.ok("indexes", "create", index, "--dimension", "4", "-q")
    keep = [f"keep#{n:05d}" for n in range(300)]
    gone = [f"gone#{n:05d}" for n in range(3000)]
    cli.ok(
        "import",
        "--index",
        index,
        "-n",
        "s",
        "--input",
        str(write_jsonl(tmp_path / "s.jsonl", keep + gone)),
    )
    # 10 list requests/s x 100 IDs: the 3,000 IDs take ~3 s, time enough to interrupt after ~1 s.
    slow = slow_list_profile(tmp_path, 10)
    checkpoint = tmp_path / "sigint.ckpt"
    args = ["--limits", str(slow), "--transport", transport, "purge", "--index", index, "-n", "s"]
    args += ["--prefix", "gone#", "--yes"]
    args += ["--checkpoint", str(checkpoint), "--verify-delay", "0"]
    proc = subprocess.Popen(
        [bulkops_executable(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env(),
        cwd=cli.home,
        # A suite started in the background of a non-interactive shell inherits SIGINT ignored; a user's
        # terminal does not. Give the child the default disposition so Ctrl-C is what it would be.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_for_progress(checkpoint, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert any("interrupted" in line for line in lines), stderr
    command = lines[-1].strip()
    assert command.startswith("bulkops ")
    assert command.endswith(f"resume {checkpoint}")
    assert "--limits" in command
    remaining = _count(cli, index, "s")
    assert 300 <= remaining < 3300, "the purge was interrupted midway"

    status: Any = cli.json("status", str(checkpoint))
    assert status["state"] == "unfinished"
    assert status["phase"] == "deleting"
    assert status["resume_command"] == command

    resumed = cli.run(*command.split()[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout
    assert "ok: 0 targeted records remain" in resumed.stdout
    assert f"transport │ {transport}" in " ".join(resumed.stdout.split())  # the recorded wire
    assert _count(cli, index, "s") == 300
    exported = tmp_path / "left.jsonl"
    cli.ok("export", "--index", index, "-n", "s", "--output", str(exported), "-q")
    assert sorted(orjson.loads(line)["id"] for line in exported.read_bytes().splitlines()) == keep


def test_resume_of_a_finished_export_sends_nothing_new(cli: Cli, seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "again.jsonl"
    cli.ok("export", "--index", seeded, "-n", "docs", "--prefix", "initech#", "--output", str(target), "-q")
    before = target.read_bytes()
    report = cli.json("resume", str(target) + ".checkpoint")
    assert report["resumed"] is True
    assert report["exported"] == TENANTS["initech#"]
    assert target.read_bytes() == before


def test_rejected_records_exit_3_with_their_line(cli: Cli, tmp_path: Path) -> None:
    """Exit 3 (partial): the server rejects one record (wrong dimension); the report names its line."""
    cli.ok("indexes", "create", "jobs5", "--dimension", "4", "-q")
    source = write_jsonl(tmp_path / "r.jsonl", [f"ok-{n}" for n in range(20)])
    with source.open("ab") as handle:
        handle.write(orjson.dumps({"id": "too-long-vector", "values": [0.5] * 7}) + b"\n")
    skip = cli.run(
        "--json", "import", "--index", "jobs5", "-n", "r", "--input", str(source), "--on-error", "skip"
    )
    assert skip.returncode == 3, skip.stderr
    report = orjson.loads(skip.stdout)
    assert report["upserted"] == 20
    assert report["rejected"] == 1
    assert "line 21" in report["rejections"][0]["location"]
    assert cli.count("jobs5", "r") == 20


def test_export_refuses_to_clobber_unless_overwrite(cli: Cli, seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "mine.jsonl"
    target.write_text("my own file\n")
    args = ["export", "--index", seeded, "-n", "docs", "--prefix", "globex#", "--output", str(target)]
    refused = cli.run(*args)
    assert refused.returncode == 2
    assert "already exists" in refused.stderr
    assert target.read_text() == "my own file\n"
    assert not Path(str(target) + ".checkpoint").exists()
    assert cli.run(*args).returncode == 2  # still refused: no checkpoint was left to "resume"
    report = cli.json(*args, "--overwrite")
    assert report["exported"] == TENANTS["globex#"]
    assert len(target.read_bytes().splitlines()) == TENANTS["globex#"]


def test_host_instead_of_index_name(cli: Cli, seeded: str, tmp_path: Path) -> None:
    host = cli.host_of(seeded)
    rows = cli.json("namespaces", "list", "--host", host)
    assert {r["name"]: r["record_count"] for r in rows} == {"docs": sum(TENANTS.values())}
    report = cli.json("purge", "--host", host, "-n", "docs", "--prefix", "initech#", "--dry-run")
    assert report["would_delete"] == TENANTS["initech#"]
    both = cli.run("namespaces", "list", "--host", host, "--index", seeded)
    assert both.returncode == 2
    assert "not both" in both.stderr


def test_sigint_then_resume_export_is_exactly_once(cli: Cli, tmp_path: Path, transport: str) -> None:
    """Ctrl-C mid-export, then the printed command: every record exactly once."""
    index = f"jobs6-{transport}"
    cli.ok("indexes", "create", index, "--dimension", "4", "-q")
    ids = [f"e-{n:05d}" for n in range(4000)]
    cli.ok(
        "import", "--index", index, "-n", "e", "--input", str(write_jsonl(tmp_path / "e.jsonl", ids)), "-q"
    )
    # 2 list requests/s: ~20 s for the 4,000 IDs, so the interrupt lands mid-job even on a busy machine.
    slow = slow_list_profile(tmp_path, 2)
    target = tmp_path / "e-out.jsonl"
    checkpoint = Path(f"{target}.checkpoint")
    argv = [bulkops_executable(), "--limits", str(slow), "--transport", transport]
    argv += ["export", "--index", index, "-n", "e", "-o", str(target)]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env(),
        cwd=cli.home,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not checkpoint.exists():  # the job has started
        assert proc.poll() is None, "the export ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # a few pages listed and fetched
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    command = stderr.strip().splitlines()[-1].strip()
    assert command.endswith(f"resume {target}.checkpoint")

    assert "--limits" in command
    # Options given to resume win over the recorded ones: finish without the slow profile.
    resumed = cli.run(*command.split()[1:], "--limits", "none", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert orjson.loads(resumed.stdout)["exported"] == len(ids)
    assert orjson.loads(resumed.stdout)["transport"] == transport  # the recorded wire
    exported = [orjson.loads(line)["id"] for line in target.read_bytes().splitlines()]
    assert sorted(exported) == ids  # each exactly once


def test_export_by_filter(cli: Cli, seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "filtered.jsonl"
    report = cli.json(
        "export", "--index", seeded, "-n", "docs", "--filter", '{"n": {"$lt": 10}}', "--output", str(target)
    )
    assert report["exported"] == 10
    assert sorted(orjson.loads(line)["metadata"]["n"] for line in target.read_bytes().splitlines()) == list(
        range(10)
    )


def _one_run_at_a_time(
    cli: Cli, checkpoint: Path, first: subprocess.Popen[str], slow: Path, counter: str
) -> Any:
    """A second run of a running job is refused at once (exit 2, naming the first); after a kill -9,
    a resume runs and a second resume started beside it is refused. Returns the report of the one
    that ran."""
    _wait_for_holder(checkpoint, first)
    refused = cli.run("resume", str(checkpoint))
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert f"in use by process {first.pid}" in line, line
    wait_for_progress(checkpoint, first, counter)  # some progress committed, then kill -9
    first.kill()
    first.wait()
    running = cli.start("--json", "--limits", str(slow), "resume", str(checkpoint))
    _wait_for_holder(checkpoint, running)
    beside = cli.run("resume", str(checkpoint))
    assert beside.returncode == 2, beside.stderr
    assert f"in use by process {running.pid}" in beside.stderr
    assert "one run per checkpoint" in beside.stderr
    out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    assert not Path(f"{checkpoint}.lock").exists()
    return orjson.loads(out)


def _wait_for_holder(checkpoint: Path, proc: subprocess.Popen[str]) -> None:
    """Until ``proc`` holds the checkpoint (its lock names it)."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "the job ended before a second run could try"
        assert time.monotonic() < deadline, "the job never took its checkpoint"
        if checkpoint.exists():
            try:
                holder = Checkpoint.inspect(checkpoint).running
            except CheckpointError:  # the file is being created: try again
                holder = None
            if holder is not None and holder.pid == proc.pid:
                return
        time.sleep(0.05)


def test_two_runs_of_one_export_checkpoint_cannot_corrupt_it(
    cli: Cli, tmp_path: Path, transport: str
) -> None:
    """Issue 12: two resumes of one export at once left a torn line, 2 records missing and exit 0."""
    index = f"jobs7-{transport}"
    cli.ok("indexes", "create", index, "--dimension", "4", "-q")
    ids = [f"c-{n:05d}" for n in range(6000)]  # ~7.5 s of listing at 8/s, a first commit after 5 s
    cli.ok("load", "--index", index, "-n", "c", "--input", str(write_jsonl(tmp_path / "c.jsonl", ids)), "-q")
    slow = slow_list_profile(tmp_path, 8)
    target = tmp_path / "c-out.jsonl"
    first = cli.start(
        "--limits", str(slow), "--transport", transport, "export", "--index", index, "-n", "c", "-o",
        str(target),
    )  # fmt: skip
    report = _one_run_at_a_time(cli, Path(f"{target}.checkpoint"), first, slow, "exported")
    assert report["exported"] == len(ids)
    assert report["transport"] == transport
    lines = [orjson.loads(line)["id"] for line in target.read_bytes().splitlines()]  # every line parses
    assert sorted(lines) == ids  # each record exactly once


def test_two_runs_of_one_purge_checkpoint_cannot_both_run(cli: Cli, tmp_path: Path, transport: str) -> None:
    """Issue 12: two purges on one checkpoint each reported 22,300 deleted of 12,000 targeted."""
    index = f"jobs8-{transport}"
    cli.ok("indexes", "create", index, "--dimension", "4", "-q")
    keep = [f"keep#{n:05d}" for n in range(200)]
    gone = [f"gone#{n:05d}" for n in range(3000)]
    cli.ok(
        "load", "--index", index, "-n", "p", "--input", str(write_jsonl(tmp_path / "p.jsonl", keep + gone))
    )
    slow = slow_list_profile(tmp_path, 8)
    checkpoint = tmp_path / "p.ckpt"
    first = cli.start(
        "--limits", str(slow), "--transport", transport, "purge", "--index", index, "-n", "p",
        "--prefix", "gone#", "--yes", "--checkpoint", str(checkpoint), "--verify-delay", "0",
    )  # fmt: skip
    report = _one_run_at_a_time(cli, checkpoint, first, slow, "deleted")
    assert report["verification"]["remaining"] == 0
    assert report["transport"] == transport
    assert len(gone) <= report["deleted"] < len(gone) + 1000  # re-sent in-flight batches at most
    assert _count(cli, index, "p") == len(keep)


def test_repeated_prefixes_and_namespaces_all_apply(cli: Cli, tmp_path: Path) -> None:
    """Issue 12: ``--prefix 'acme#' --prefix 'globex#'`` purged only globex#; ``-n a -n b`` only b."""
    cli.ok("indexes", "create", "jobs9", "--dimension", "4", "-q")
    ids = [f"{t}{n:03d}" for t in ("acme#", "globex#", "initech#") for n in range(50)]
    for ns in ("a", "b"):
        cli.ok(
            "load",
            "--index",
            "jobs9",
            "-n",
            ns,
            "--input",
            str(write_jsonl(tmp_path / f"{ns}.jsonl", ids)),
            "-q",
        )
    out = tmp_path / "two.jsonl"
    exported = cli.json(
        "export",
        "--index",
        "jobs9",
        "-n",
        "a",
        "-n",
        "b",
        "--prefix",
        "acme#",
        "--prefix",
        "globex#",
        "-o",
        str(out),
    )
    assert exported["exported"] == 200
    assert exported["namespaces"] == {"a": 100, "b": 100}
    report = cli.json(
        "purge", "--index", "jobs9", "-n", "a", "-n", "b", "--prefix", "acme#", "--prefix", "globex#",
        "--yes", "--verify-delay", "0",
    )  # fmt: skip
    assert report["deleted"] == 200
    assert report["verification"]["remaining"] == 0
    assert _count(cli, "jobs9", "a") == _count(cli, "jobs9", "b") == 50


def test_load_is_the_command_and_import_its_alias(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "jobs10", "--dimension", "4", "-q")
    source = write_jsonl(tmp_path / "l.jsonl", [f"l-{n}" for n in range(30)])
    assert cli.json("load", "--index", "jobs10", "-n", "x", "--input", str(source))["upserted"] == 30
    assert cli.json("import", "--index", "jobs10", "-n", "y", "--input", str(source))["upserted"] == 30
    assert _count(cli, "jobs10", "x") == _count(cli, "jobs10", "y") == 30
    assert "load" in cli.ok("--help").stdout
    assert "import" in cli.ok("--help").stdout


def test_resume_of_checkpoints_written_by_library_calls(cli: Cli, tmp_path: Path) -> None:
    """Review §2.8.1: ``bulkops resume`` refused a library ``export(ids="file.txt")`` checkpoint ("this
    export was given IDs in memory"). Any library checkpoint resumes from the CLI now."""
    import anyio

    import bulkops
    from bulkops.api import Client
    from tests.helpers.cli import API_KEY
    from tests.helpers.wrappers import Crash, Wrapped

    cli.ok("indexes", "create", "jobs11", "--dimension", "4", "-q")
    ids = [f"i-{n:05d}" for n in range(2500)]
    cli.ok(
        "load", "--index", "jobs11", "-n", "q", "--input", str(write_jsonl(tmp_path / "q.jsonl", ids)), "-q"
    )
    wanted = tmp_path / "wanted.txt"
    wanted.write_text("\n".join(ids[::2]) + "\n")
    out = tmp_path / "lib.jsonl"
    purge_ckpt = tmp_path / "lib-purge.ckpt"

    async def crash_both() -> None:
        async with Client(API_KEY, cli.controller, limits="none") as client:
            real = await client.index("jobs11")
            with pytest.raises(Crash):
                await bulkops.export(
                    index="jobs11", client=client, dataplane=Wrapped(real, crash_after=0), namespace="q",
                    ids_file=str(wanted), output=out,
                )  # fmt: skip
            with pytest.raises(Crash):
                await bulkops.purge(
                    index="jobs11", client=client, dataplane=Wrapped(real, crash_after=0), namespace="q",
                    prefix="i-01", checkpoint=purge_ckpt, verify_delay=0,
                )  # fmt: skip

    anyio.run(crash_both)
    resumed = cli.json("resume", f"{out}.checkpoint")
    assert resumed["exported"] == len(ids[::2])
    assert sorted(orjson.loads(line)["id"] for line in out.read_bytes().splitlines()) == ids[::2]
    refused = cli.run("resume", str(purge_ckpt))  # nobody confirmed this purge here
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    report = cli.json("resume", str(purge_ckpt), "--yes")
    assert report["verification"]["remaining"] == 0
    assert _count(cli, "jobs11", "q") == len(ids) - 1000
