"""``bulkops copy`` as users run it: into another project (a second server, another key), within one
project, a dry run, status and resume of its checkpoint; and the purge's safety flags (--backup-first
against a server with a backup freshness window, --export-first)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from bulkops.server.process import ServerProcess
from tests.helpers.cli import API_KEY, Cli, bulkops_executable, wait_for_progress, write_jsonl

pytestmark = pytest.mark.integration  # runs the bulkops executable and servers in subprocesses

OTHER_KEY = "cli-other-project-key-9d2e"


@pytest.fixture(scope="module")
def other_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("other")
    with ServerProcess(["--data-dir", str(data_dir), "--api-key", OTHER_KEY, "--limits", "none"]) as server:
        yield server.url


@pytest.fixture(scope="module")
def source(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("copy-seed")
    ids = [f"{tenant}{n:05d}" for tenant, count in (("acme#", 700), ("globex#", 300)) for n in range(count)]
    cli.ok("indexes", "create", "copysrc", "--dimension", "4", "-q")
    docs = write_jsonl(work / "a.jsonl", ids)
    cli.ok("import", "--index", "copysrc", "-n", "docs", "--input", str(docs), "-q")
    small = write_jsonl(work / "b.jsonl", [f"t{n}" for n in range(7)], tag="small")
    cli.ok("import", "--index", "copysrc", "-n", "small", "--input", str(small), "-q")
    return "copysrc"


def _other(cli: Cli, other: str, path: str) -> Any:
    import urllib.request

    headers = {"Api-Key": OTHER_KEY, "X-Pinecone-Api-Version": "2025-10"}
    with urllib.request.urlopen(urllib.request.Request(other + path, headers=headers), timeout=10) as answer:
        return orjson.loads(answer.read())


def _other_count(cli: Cli, other: str, index: str, namespace: str) -> int:
    host = _other(cli, other, f"/indexes/{index}")["host"]
    rows = _other(cli, host, "/namespaces")["namespaces"]
    return sum(int(r["record_count"]) for r in rows if r["name"] == namespace)


def test_copy_into_another_project_then_status_and_resume(
    cli: Cli, source: str, other_project: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "copy.ckpt"
    env = cli.env(PINECONE_TO_API_KEY=OTHER_KEY)
    result = cli.run(
        "--json", "copy", "--index", source, "--all-namespaces", "--to-index", "migrated",
        "--to-controller-host", other_project, "--namespace-map", "small=tiny", "--verify-sample", "20",
        "--checkpoint", str(checkpoint), env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert OTHER_KEY not in result.stdout + result.stderr
    report = orjson.loads(result.stdout)
    assert report["kind"] == "copy"
    assert report["copied"] == 1007
    assert report["namespaces"] == {"docs": 1000, "small": 7}
    assert report["destination"]["created"] is True
    assert report["verification"]["ok"] is True
    assert _other_count(cli, other_project, "migrated", "docs") == 1000
    assert _other_count(cli, other_project, "migrated", "tiny") == 7
    for secret in (API_KEY, OTHER_KEY):
        assert secret.encode() not in checkpoint.read_bytes()

    status: Any = cli.json("status", str(checkpoint))
    assert status["kind"] == "copy"
    assert status["state"] == "finished"
    assert status["spec"]["destination"]["index"] == "migrated"
    assert status["spec"]["namespace_map"] == [["small", "tiny"]]
    assert status["counters"]["copied"] == 1007

    again = cli.run("--json", "resume", str(checkpoint), env=env)
    assert again.returncode == 0, again.stderr
    resumed = orjson.loads(again.stdout)
    assert resumed["resumed"] is True
    assert resumed["verification"]["ok"] is True
    assert "upsert" not in resumed["requests"]


def test_copy_within_one_project_by_prefix_and_the_human_report(cli: Cli, source: str) -> None:
    human = cli.ok("copy", "--index", source, "-n", "docs", "--prefix", "globex#", "--to-index", "globex")
    assert "copied" in human.stdout
    assert "300" in human.stdout
    assert cli.count("globex", "docs") == 300


def test_copy_dry_run_estimates_and_creates_nothing(cli: Cli, source: str) -> None:
    report = cli.json("copy", "--index", source, "--all-namespaces", "--to-index", "not-yet", "--dry-run")
    assert report["dry_run"] is True
    assert report["would_copy"] == 1007
    assert report["estimate"]["requests"]["fetch"] == 2
    assert report["destination"]["would_create"]["dimension"] == 4
    names = [i["name"] for i in cli.http(cli.controller + "/indexes")["indexes"]]
    assert "not-yet" not in names


def test_sigint_then_resume_copy(cli: Cli, source: str, tmp_path: Path) -> None:
    """Ctrl-C during a copy: the checkpoint is flushed and the printed command finishes it exactly."""
    checkpoint = tmp_path / "slow.ckpt"
    limits = tmp_path / "slow.json"
    row = {"operation": "list", "scope": "index", "unit": "requests", "rate": 1}
    limits.write_text(orjson.dumps({"limits": [row]}).decode())
    proc = subprocess.Popen(
        [bulkops_executable(), "--limits", str(limits), "copy", "--index", source, "-n", "docs", "--to-index",
         "slow", "--checkpoint", str(checkpoint)],
        env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cli.home,
        # a shell starts background jobs with SIGINT ignored, and children inherit that: pytest run with `&`
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    wait_for_progress(checkpoint, proc, "copied")  # the job runs and has committed some records
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    command = next(line.strip() for line in err.splitlines() if line.strip().startswith("bulkops"))
    assert "resume" in command
    args = command.split()[1:]
    done = cli.run("--json", *args, timeout=120)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["verification"]["ok"] is True
    assert cli.count("slow", "docs") == 1000


def test_purge_backup_first_warns_when_the_backup_misses_new_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(["--data-dir", str(data), "--api-key", API_KEY, "--limits", "none",
                        "--backup-freshness", "900"]) as server:  # fmt: skip
        (tmp_path / "home").mkdir()
        cli = Cli(controller=server.url, home=tmp_path / "home")
        cli.ok("indexes", "create", "fresh", "--dimension", "4", "-q")
        cli.ok("import", "--index", "fresh", "-n", "ns", "--input",
               str(write_jsonl(tmp_path / "r.jsonl", [f"gone#{n}" for n in range(50)])), "-q")  # fmt: skip
        out = tmp_path / "safety.jsonl"
        result = cli.run(
            "purge", "--index", "fresh", "-n", "ns", "--prefix", "gone#", "--backup-first", "--export-first",
            str(out), "--yes", "--verify-delay", "0",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "holds 0 records but the index held 50" in " ".join(result.stdout.split())
        assert len(out.read_bytes().splitlines()) == 50
        assert cli.count("fresh", "ns") == 0
