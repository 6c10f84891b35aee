"""The checkpoint journal: 0600, fingerprint refusal, atomic steps, round trips, no secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.fanout import Chain
from bulkops.errors import CheckpointError, CheckpointMismatchError, UsageError

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
    with pytest.raises(CheckpointError, match="not a usable bulkops checkpoint"):
        Checkpoint.open(path, kind="purge", spec=SPEC)
