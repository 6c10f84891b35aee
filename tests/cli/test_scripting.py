"""The CLI in scripts and containers (issue 12): SIGTERM handled like Ctrl-C, progress lines off a
terminal, structured logs, errors and status as machine-readable JSON, checkpoints listed and pruned
(never a running job's), the purge confirmation showing where and how much, private files."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers.cli import (
    API_KEY,
    Cli,
    bulkops_executable,
    slow_list_profile,
    wait_for_progress,
    write_jsonl,
)

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses


def _seed(cli: Cli, tmp_path: Path, index: str, namespace: str, count: int) -> list[str]:
    ids = [f"s-{n:05d}" for n in range(count)]
    cli.ok("indexes", "create", index, "--dimension", "4", "-q")
    cli.ok(
        "load",
        "--index",
        index,
        "-n",
        namespace,
        "--input",
        str(write_jsonl(tmp_path / "in.jsonl", ids)),
        "-q",
    )
    return ids


def _slow_export(
    cli: Cli, tmp_path: Path, index: str, namespace: str, target: Path, *options: str
) -> subprocess.Popen[str]:
    """An export held to 400 IDs/s, started in the background."""
    slow = str(slow_list_profile(tmp_path, 4))
    return cli.start(
        *options, "--limits", slow, "export", "--index", index, "-n", namespace, "-o", str(target)
    )


def test_sigterm_flushes_prints_the_resume_command_and_exits_143(cli: Cli, tmp_path: Path) -> None:
    """What ``docker stop`` sends: the job stops as on Ctrl-C; the printed command finishes it exactly."""
    ids = _seed(cli, tmp_path, "sc1", "t", 4000)
    target = tmp_path / "t.jsonl"
    proc = _slow_export(cli, tmp_path, "sc1", "t", target, "--json")
    wait_for_progress(Path(f"{target}.checkpoint"), proc, "exported")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert lines[-2] == f"terminated: the checkpoint {target}.checkpoint is saved. To resume, run:"
    command = lines[-1].strip()
    assert command.endswith(f"resume {target}.checkpoint")
    stopped = orjson.loads(stdout)["error"]  # --json: what a script needs, as a document
    assert (stopped["type"], stopped["exit_code"]) == ("Terminated", 143)
    assert stopped["resume_command"] == command
    assert stopped["checkpoint"] == f"{target}.checkpoint"
    assert not Path(f"{target}.checkpoint.lock").exists()  # the run let go of its checkpoint
    resumed = cli.run(*command.split()[1:], "--limits", "none", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert orjson.loads(resumed.stdout)["exported"] == len(ids)
    assert sorted(orjson.loads(line)["id"] for line in target.read_bytes().splitlines()) == ids


@pytest.mark.parametrize("form", ["text", "json"])
def test_progress_lines_every_stats_interval_off_a_terminal(cli: Cli, tmp_path: Path, form: str) -> None:
    index = f"sc2{form}"
    ids = _seed(cli, tmp_path, index, "p", 3000)
    slow = str(slow_list_profile(tmp_path, 10))  # ~3 s of listing
    result = cli.run(
        "--limits", slow, "--stats-interval", "0.5", "--log-format", form,
        "export", "--index", index, "-n", "p", "-o", str(tmp_path / "p.jsonl"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "progress" in line]
    assert len(lines) >= 2, result.stderr
    if form == "json":
        docs = [orjson.loads(line) for line in result.stderr.splitlines()]  # every stderr line is JSON
        progress = [d for d in docs if d.get("event") == "progress"]
        assert len(progress) >= 2
        for doc in progress:
            assert doc["total"] == len(ids)
            assert 0 <= doc["done"] <= len(ids)
            assert doc["namespace"] == "p"
            assert doc["transport"] in ("grpc", "rest")
            assert isinstance(doc["rate_limited"], int)
            assert isinstance(doc["retries"], int)
            assert isinstance(doc["elapsed_seconds"], float)
            datetime.fromisoformat(doc["time"].replace("Z", "+00:00"))
        later = [d for d in progress if d["rate"] is not None]
        assert later
        assert all(d["eta_seconds"] is not None for d in later)
    else:
        assert all(
            re.search(r"\d+/3,000 \(\d+%\), .*ETA .*429s \d+, retries \d+, transport \w+", x) for x in lines
        )

    quiet = cli.run(
        "--limits", "none", "--stats-interval", "0", "export", "--index", index, "-n", "p",
        "-o", str(tmp_path / "q.jsonl"),
    )  # fmt: skip
    assert quiet.returncode == 0
    assert "progress" not in quiet.stderr


def test_log_format_json_is_one_object_per_line_without_the_key(cli: Cli) -> None:
    result = cli.run("--verbose", "--log-format", "json", "indexes", "list", "-q")
    assert result.returncode == 0, result.stderr
    docs = [orjson.loads(line) for line in result.stderr.splitlines()]
    assert docs
    assert all({"time", "level", "logger", "message"} <= set(doc) for doc in docs)
    assert any(doc["logger"].startswith("bulkops") and "list_indexes" in doc["message"] for doc in docs)
    assert API_KEY not in result.stderr  # Cli.run checks stdout and stderr too


def test_a_partial_job_in_json_mode_is_one_document_carrying_the_error(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "sc3", "--dimension", "4", "-q")
    source = write_jsonl(tmp_path / "r.jsonl", [f"ok-{n}" for n in range(5)])
    with source.open("ab") as handle:
        handle.write(orjson.dumps({"id": "wrong-dimension", "values": [0.5] * 7}) + b"\n")
    result = cli.run("--json", "import", "--index", "sc3", "-n", "r", "--input", str(source))
    assert result.returncode == 3, result.stderr
    doc = orjson.loads(result.stdout)  # one document
    assert doc["upserted"] == 5
    assert doc["error"]["exit_code"] == 3
    assert doc["error"]["type"] == "RecordRejectedError"
    assert "line 6" in doc["error"]["message"]
    assert result.stderr.strip().splitlines()[-1] == f"error: {doc['error']['message']}"


_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def test_status_json_has_snake_case_keys_and_machine_values(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path, "sc4", "s", 3000)
    target = tmp_path / "s.jsonl"
    checkpoint = Path(f"{target}.checkpoint")
    proc = _slow_export(cli, tmp_path, "sc4", "s", target)
    try:
        wait_for_progress(checkpoint, proc, "exported")
        running: Any = cli.json("status", str(checkpoint))
    finally:
        proc.kill()
        proc.wait()
    assert all(_SNAKE.match(key) for key in running), sorted(running)
    assert running["state"] == "running"
    assert running["phase"] == "exporting"
    assert running["running"]["pid"] == proc.pid
    since = datetime.fromisoformat(running["running"]["since"].replace("Z", "+00:00"))
    assert abs(since.timestamp() - time.time()) < 120
    datetime.fromisoformat(running["modified"].replace("Z", "+00:00"))
    assert isinstance(running["age_seconds"], float)
    assert isinstance(running["counters"]["exported"], int)
    assert set(running["chains"]) == {"done", "total"}
    assert isinstance(running["batches_in_flight"], int)
    assert running["resume_command"] is None  # it is running

    stopped: Any = cli.json("status", str(checkpoint))  # after kill -9
    assert stopped["state"] == "unfinished"
    assert stopped["running"] is None
    assert stopped["resume_command"].endswith(f"resume {checkpoint}")


def test_checkpoints_list_and_prune_never_a_running_job(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path, "sc5", "c", 3000)
    work = tmp_path / "exports"
    work.mkdir()
    finished = work / "done.jsonl"
    cli.ok("export", "--index", "sc5", "-n", "c", "--prefix", "s-000", "-o", str(finished), "-q")
    stopped = work / "stopped.jsonl"
    slow = str(slow_list_profile(tmp_path, 4))
    first = cli.start("--limits", slow, "export", "--index", "sc5", "-n", "c", "-o", str(stopped))
    wait_for_progress(Path(f"{stopped}.checkpoint"), first, "exported")
    first.kill()
    first.wait()
    (work / "notes.txt").write_text("not a checkpoint\n")
    running_out = work / "running.jsonl"
    slower = str(slow_list_profile(tmp_path, 2))  # ~15 s: it runs through every command below
    running = cli.start("--limits", slower, "export", "--index", "sc5", "-n", "c", "-o", str(running_out))
    try:
        wait_for_progress(Path(f"{running_out}.checkpoint"), running, "exported")
        before = {p.name: p.read_bytes() for p in work.iterdir() if p.name.endswith(".checkpoint")}
        listed = {Path(row["checkpoint"]).name: row for row in cli.json("checkpoints", "list", str(work))}
        assert {name: row["state"] for name, row in listed.items()} == {
            "done.jsonl.checkpoint": "finished",
            "stopped.jsonl.checkpoint": "unfinished",
            "running.jsonl.checkpoint": "running",
        }
        assert listed["running.jsonl.checkpoint"]["pid"] == running.pid
        after = {p.name: p.read_bytes() for p in work.iterdir() if p.name.endswith(".checkpoint")}
        assert after.keys() == before.keys()  # list is read-only (the running one keeps changing)
        assert after["done.jsonl.checkpoint"] == before["done.jsonl.checkpoint"]

        pruned = cli.json("checkpoints", "prune", str(work), "--finished", "--yes")
        assert [Path(r["checkpoint"]).name for r in pruned["removed"]] == ["done.jsonl.checkpoint"]
        everything = cli.json("checkpoints", "prune", str(work), "--older-than", "0s", "--yes")
        assert [Path(r["checkpoint"]).name for r in everything["removed"]] == ["stopped.jsonl.checkpoint"]
        assert [Path(r["checkpoint"]).name for r in everything["kept_running"]] == [
            "running.jsonl.checkpoint"
        ]
        left = sorted(p.name for p in work.iterdir() if ".checkpoint" in p.name)
        assert not [name for name in left if name.startswith(("done.", "stopped."))], left
        assert "running.jsonl.checkpoint" in left
        assert (work / "notes.txt").read_text() == "not a checkpoint\n"
        assert running.wait(timeout=120) == 0  # its job went on to the end
    finally:
        running.kill()
        running.wait()
    assert len(running_out.read_bytes().splitlines()) == 3000


def test_purge_confirmation_shows_the_target_and_a_bounded_count(cli: Cli, tmp_path: Path) -> None:
    cli.ok("indexes", "create", "sc6", "--dimension", "4", "-q")
    few = write_jsonl(tmp_path / "few.jsonl", [f"few#{n:03d}" for n in range(25)])
    many = write_jsonl(tmp_path / "many.jsonl", [f"many#{n:05d}" for n in range(10_050)])
    for source in (few, many):
        cli.ok("load", "--index", "sc6", "-n", "t", "--input", str(source), "-q")
    host = cli.host_of("sc6")

    code, stderr = cli.on_terminal("n", "purge", "--index", "sc6", "-n", "t", "--prefix", "few#")
    assert code == 2, stderr
    assert f"project at {cli.controller}: index 'sc6' at {host}" in stderr
    assert "namespace(s): 't'" in stderr
    assert "25 records, counted just now (e.g. few#000" in stderr
    assert "nothing was changed" in stderr

    code, stderr = cli.on_terminal("n", "purge", "--index", "sc6", "-n", "t", "--prefix", "many#")
    assert code == 2, stderr
    assert "more than 10,000 records (counting stopped there)" in stderr
    assert cli.count("sc6", "t") == 10_075  # nothing deleted

    code, stderr = cli.on_terminal(
        "y", "purge", "--index", "sc6", "-n", "t", "--prefix", "few#", "--verify-delay", "0"
    )
    assert code == 0, stderr
    assert cli.count("sc6", "t") == 10_050


def test_files_bulkops_creates_are_private_whatever_the_umask(cli: Cli, tmp_path: Path) -> None:
    _seed(cli, tmp_path, "sc7", "m", 300)
    out = tmp_path / "out"
    out.mkdir()
    state = tmp_path / "state"
    env = cli.env(XDG_STATE_HOME=str(state))
    for name in ("m.jsonl", "m.parquet"):
        done = subprocess.run(
            [bulkops_executable(), "export", "--index", "sc7", "-n", "m", "-o", str(out / name), "-q"],
            env=env, capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(0),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    purged = subprocess.run(
        [bulkops_executable(), "purge", "--index", "sc7", "-n", "m", "--prefix", "s-0001", "--yes", "-q"],
        env=env, capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(0),
    )  # fmt: skip
    assert purged.returncode == 0, purged.stderr
    created = [*out.rglob("*"), state, *state.rglob("*")]
    assert len(created) > 8
    for path in created:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def test_sigterm_outside_a_job_is_one_error_line_and_143(cli: Cli, tmp_path: Path) -> None:
    """Waiting at the confirmation prompt (no event loop running), SIGTERM still ends the command as
    Ctrl-C would: one line, exit 143, nothing changed."""
    _seed(cli, tmp_path, "sc8", "x", 5)
    controller, terminal = os.openpty()
    try:
        proc = subprocess.Popen(
            [bulkops_executable(), "purge", "--index", "sc8", "-n", "x", "--prefix", "s-"],
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env(),
        )  # fmt: skip
        errors = proc.stderr
        assert errors is not None
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(iter(errors.readline, "")), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while not any("About to purge" in line for line in seen):
            assert time.monotonic() < deadline, seen
            assert proc.poll() is None, seen
            time.sleep(0.05)
        time.sleep(0.3)  # at the prompt
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    finally:
        os.close(controller)
        os.close(terminal)
    stderr = "".join(seen)
    assert proc.returncode == 143, stderr
    assert stderr.rstrip().endswith("error: terminated (SIGTERM)")
    assert "Traceback" not in stderr
    assert cli.count("sc8", "x") == 5
