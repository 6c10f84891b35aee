"""The checkpoint journal: 0600, one run at a time, refusals, atomic steps, round trips, no secrets."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bulkops.engine.checkpoint import Checkpoint, lock_path
from bulkops.engine.fanout import Chain
from bulkops.errors import CheckpointBusyError, CheckpointError, CheckpointMismatchError, UsageError

SPEC = {"host": "http://127.0.0.1:1", "namespace": "ns", "prefix": "doc#"}


def test_created_with_mode_0600_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    with Checkpoint.open(path, kind="purge", spec=SPEC) as cp:
        assert not cp.resumed
        with cp.step() as step:
            step.count("deleted", 5)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_reopen_same_job_resumes_with_state(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    with Checkpoint.open(path, kind="purge", spec=SPEC) as cp, cp.step() as step:
        step.save_chains("ns", [Chain(0, "doc#", "doc$", 5, "tok", False), Chain(1, "doc#z", done=True)])
        step.start_batch(7, "ns", ["a", "b"])
        step.count("deleted", 10)
        step.count("deleted", 5)
        step.set("offset", {"part": 3, "bytes": 1024})
    with Checkpoint.open(path, kind="purge", spec=dict(SPEC)) as cp:
        assert cp.resumed
        assert cp.chains("ns") == [
            Chain(0, "doc#", "doc$", 5, "tok", False),
            Chain(1, "doc#z", None, 5, None, True),
        ]
        assert cp.chains("other") == []
        assert [(b.batch, b.ids) for b in cp.in_flight()] == [(7, ("a", "b"))]
        assert cp.counters() == {"deleted": 15}
        assert cp.get("offset") == {"part": 3, "bytes": 1024}
        assert cp.get("missing", 1) == 1


def test_a_different_job_is_refused_with_both_named(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    Checkpoint.open(path, kind="purge", spec=SPEC).close()
    with pytest.raises(CheckpointMismatchError) as info:
        Checkpoint.open(path, kind="purge", spec={**SPEC, "prefix": "other#"})
    message = str(info.value)
    assert "'doc#'" in message
    assert "'other#'" in message
    assert "different job" in message
    with pytest.raises(CheckpointMismatchError):
        Checkpoint.open(path, kind="export", spec=SPEC)


def test_a_failed_step_changes_nothing(tmp_path: Path) -> None:
    with Checkpoint.open(tmp_path / "c", kind="purge", spec=SPEC) as cp:

        def failing_step() -> None:
            with cp.step() as step:
                step.count("deleted", 3)
                step.start_batch(1, "", ["x"])
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing_step()
        assert cp.counters() == {}
        assert cp.in_flight() == []


def test_secrets_are_refused_and_never_written(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Checkpoint.open(tmp_path / "c", kind="purge", spec={**SPEC, "api_key": "pcsk_secret"})
    path = tmp_path / "d"
    Checkpoint.open(path, kind="purge", spec=SPEC).close()
    assert b"pcsk" not in path.read_bytes()


def test_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not sqlite at all" * 10)
    with pytest.raises(CheckpointError, match="not a bulkops checkpoint"):
        Checkpoint.open(path, kind="purge", spec=SPEC)
    assert path.read_text() == "hello, this is not sqlite at all" * 10


def test_one_run_at_a_time_and_the_other_run_is_named(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    first = Checkpoint.open(path, kind="purge", spec=SPEC, describe="purge of doc# in ns")
    try:
        with pytest.raises(CheckpointBusyError) as refused:
            Checkpoint.open(path, kind="purge", spec=SPEC)
        assert refused.value.pid == os.getpid()
        assert f"process {os.getpid()}" in str(refused.value)
        assert "purge of doc# in ns" in str(refused.value)
        assert refused.value.exit_code == 2
        view = Checkpoint.inspect(path)
        assert view.running is not None
        assert view.running.pid == os.getpid()
        with pytest.raises(CheckpointBusyError):
            view.refuse_if_running()
    finally:
        first.close()
    assert not lock_path(path).exists()  # the lock file goes with the run
    assert Checkpoint.inspect(path).running is None
    Checkpoint.open(path, kind="purge", spec=SPEC).close()  # free again


@pytest.mark.integration
def test_a_killed_run_releases_its_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bulkops.engine.checkpoint import Checkpoint\n"
            f"cp = Checkpoint.open({str(path)!r}, kind='purge', spec={SPEC!r})\n"
            "print('open', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        with pytest.raises(CheckpointBusyError, match=f"process {child.pid}"):
            Checkpoint.open(path, kind="purge", spec=SPEC)
    finally:
        child.kill()
        child.wait()
    with Checkpoint.open(path, kind="purge", spec=SPEC) as cp:  # the OS dropped the dead run's lock
        assert cp.resumed


def test_another_programs_database_is_refused_never_adopted(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.execute("INSERT INTO users VALUES ('ada')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="not a bulkops checkpoint"):
        Checkpoint.open(path, kind="purge", spec=SPEC)
    with pytest.raises(CheckpointError, match="not a bulkops checkpoint"):
        Checkpoint.inspect(path)
    assert path.read_bytes() == before
    assert not lock_path(path).exists()


def test_the_same_job_with_a_new_spec_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    Checkpoint.open(path, kind="purge", spec=SPEC).close()
    moved = {**SPEC, "host": "http://127.0.0.1:2"}

    def same_prefix(spec: dict[str, Any]) -> Any:
        def differs(kind: str, stored: Any) -> str | None:
            return None if stored["prefix"] == spec["prefix"] else "another prefix"

        return differs

    with Checkpoint.open(path, kind="purge", spec=moved, differs=same_prefix(moved)) as cp:
        assert cp.resumed
        assert cp.previous_spec == SPEC
    view = Checkpoint.inspect(path)
    assert view.spec == moved
    other = {**moved, "prefix": "x"}
    with pytest.raises(CheckpointMismatchError, match="another prefix"):
        Checkpoint.open(path, kind="purge", spec=other, differs=same_prefix(other))
    assert Checkpoint.inspect(path).spec == moved


def test_inspect_reads_what_a_job_recorded(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    with Checkpoint.open(path, kind="export", spec=SPEC) as cp, cp.step() as step:
        step.save_chains("ns", [Chain(0, "doc#", done=True), Chain(1, "doc#z")])
        step.start_batch(3, "ns", ["a"])
        step.count("exported", 7)
        step.set("phase", "deleting")
    view = Checkpoint.inspect(path)
    assert (view.kind, dict(view.spec)) == ("export", SPEC)
    assert dict(view.counters) == {"exported": 7}
    assert (view.chains_done, view.chains_total, view.in_flight) == (1, 2, 1)
    assert view.phase == "deleting"
    assert not view.finished
    assert view.running is None


def test_a_blank_checkpoint_can_be_discarded(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    cp = Checkpoint.open(path, kind="purge", spec=SPEC)
    assert cp.created
    assert cp.blank()
    cp.close(discard=True)
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_being_created_is_reported_as_holding_no_job_yet(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    path.touch()  # what another run has made of it just before its first transaction
    with pytest.raises(CheckpointError, match="holds no job yet"):
        Checkpoint.inspect(path)
    assert path.read_bytes() == b""
