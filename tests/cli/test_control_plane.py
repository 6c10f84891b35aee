"""Happy paths of the control-plane commands: indexes, backups, restore jobs, namespaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import API_KEY, Cli, write_jsonl

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses


def _names(rows: Any) -> list[str]:
    return sorted(row["name"] for row in rows)


def test_indexes_lifecycle(cli: Cli) -> None:
    created = cli.json("indexes", "create", "cp-one", "--dimension", "4", "--tag", "env=test", "--tag", "a=b")
    assert created["name"] == "cp-one"
    assert created["status"] == "Ready"
    assert created["tags"] == {"env": "test", "a": "b"}
    assert created["host"].startswith("http://127.0.0.1:")

    assert "cp-one" in _names(cli.json("indexes", "list"))
    described = cli.json("indexes", "describe", "cp-one")
    assert described["dimension"] == 4
    assert described["metric"] == "cosine"

    configured = cli.json(
        "indexes",
        "configure",
        "cp-one",
        "--deletion-protection",
        "enabled",
        "--tag",
        "team=search",
        "--remove-tag",
        "env",
    )
    assert configured["deletion_protection"] == "enabled"
    assert configured["tags"] == {"a": "b", "team": "search"}

    table = cli.ok("indexes", "list").stdout  # the human table, piped: full values, never cut short
    assert "cp-one" in table
    assert "enabled" in table
    assert created["host"] in table

    cli.ok("indexes", "configure", "cp-one", "--deletion-protection", "disabled")
    deleted = cli.ok("indexes", "delete", "cp-one", "--yes")
    assert "deleted index cp-one" in deleted.stderr
    assert "cp-one" not in _names(cli.json("indexes", "list"))


def test_configure_embed_is_sent(cli: Cli) -> None:
    cli.ok("indexes", "create", "cp-embed", "--dimension", "1024", "-q")
    configured = cli.json(
        "indexes",
        "configure",
        "cp-embed",
        "--embed-model",
        "multilingual-e5-large",
        "--field-map",
        "text=body",
    )
    assert configured["embed"]["model"] == "multilingual-e5-large"
    assert configured["embed"]["field_map"] == {"text": "body"}
    cli.ok("indexes", "delete", "cp-embed", "--yes")


def test_backups_restore_and_restore_jobs(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "cp-src", "--dimension", "4", "-q")
    source = write_jsonl(tmp_path / "src.jsonl", [f"r-{i:04d}" for i in range(300)])
    cli.ok("import", "--index", "cp-src", "-n", "ns", "--input", str(source), "-q")

    backups = [
        cli.json("backups", "create", "--index", "cp-src", "--name", f"nightly-{n}", "--description", "test")
        for n in range(2)
    ]
    for backup in backups:
        assert backup["status"] == "Ready"
        assert backup["record_count"] == 300
        assert backup["source_index_name"] == "cp-src"

    ids = sorted(b["backup_id"] for b in backups)
    listed = cli.json("backups", "list", "--index", "cp-src")
    assert sorted(b["backup_id"] for b in listed) == ids
    assert len(cli.json("backups", "list", "--index", "cp-src", "--limit", "1")) == 1
    project = cli.json("backups", "list")
    assert set(ids) <= {b["backup_id"] for b in project}

    described = cli.json("backups", "describe", ids[0])
    assert described["backup_id"] == ids[0]
    assert described["namespace_count"] == 1

    job = cli.json("backups", "restore", ids[0], "--name", "cp-restored", "--wait")
    assert job["status"].lower() == "completed"
    assert job["target_index_name"] == "cp-restored"
    jobs = cli.json("restore-jobs", "list")
    assert job["restore_job_id"] in {j["restore_job_id"] for j in jobs}
    assert cli.json("restore-jobs", "describe", job["restore_job_id"])["backup_id"] == ids[0]
    assert cli.count("cp-restored", "ns") == 300

    cli.ok("backups", "delete", ids[1], "--yes")
    assert ids[1] not in {b["backup_id"] for b in cli.json("backups", "list", "--index", "cp-src")}


def test_namespaces_list_and_delete(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "cp-ns", "--dimension", "4", "-q")
    for ns, count in (("alpha", 20), ("beta", 30)):
        data = write_jsonl(tmp_path / f"{ns}.jsonl", [f"{ns}-{i}" for i in range(count)])
        cli.ok("import", "--index", "cp-ns", "-n", ns, "--input", str(data), "-q")
    rows = cli.json("namespaces", "list", "--index", "cp-ns")
    assert {r["name"]: r["record_count"] for r in rows} == {"alpha": 20, "beta": 30}
    table = cli.ok("namespaces", "list", "--index", "cp-ns").stdout
    assert "alpha" in table
    assert "30" in table

    result = cli.ok("namespaces", "delete", "alpha", "--index", "cp-ns", "--yes")
    assert "deleted namespace alpha" in result.stderr
    rows = cli.json("namespaces", "list", "--index", "cp-ns")
    assert {r["name"] for r in rows} == {"beta"}


def test_global_options_work_before_and_after_the_command(cli: Cli) -> None:
    before = cli.ok("--json", "indexes", "list").stdout
    after = cli.ok("indexes", "list", "--json").stdout
    assert before == after
    assert before.lstrip().startswith("[")


def test_verbose_logs_requests_and_never_the_key(cli: Cli) -> None:
    """--verbose logs each request; the key (given on the command line here) is in no output."""
    result = cli.ok("--verbose", "--api-key", API_KEY, "indexes", "list")
    assert "list_indexes completed" in result.stderr
    failed = cli.run("--verbose", "--api-key", API_KEY, "namespaces", "list", "--index", "no-such-index")
    assert failed.returncode == 1
    assert "describe_index failed" in failed.stderr  # the log line, traceback and error are there; no key


def test_confirmation_on_a_terminal_shows_what_goes_and_obeys(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "cp-ask", "--dimension", "4", "-q")
    data = write_jsonl(tmp_path / "ask.jsonl", [f"ask-{i}" for i in range(25)])
    cli.ok("import", "--index", "cp-ask", "-n", "gone", "--input", str(data), "-q")

    code, stderr = cli.on_terminal("n", "namespaces", "delete", "gone", "--index", "cp-ask")
    assert code == 2
    assert "namespace gone" in stderr
    assert "25 records" in stderr
    assert "nothing was changed" in stderr
    assert cli.count("cp-ask", "gone") == 25

    code, stderr = cli.on_terminal("y", "namespaces", "delete", "gone", "--index", "cp-ask")
    assert code == 0, stderr
    assert cli.count("cp-ask", "gone") == 0


def test_sparse_index_defaults_to_dotproduct(cli: Cli) -> None:
    created = cli.json("indexes", "create", "cp-sparse", "--vector-type", "sparse")
    assert created["vector_type"] == "sparse"
    assert created["metric"] == "dotproduct"
    assert created.get("dimension") is None
    cli.ok("indexes", "delete", "cp-sparse", "--yes")
