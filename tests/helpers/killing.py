"""Kill a job's child process (:mod:`tests.helpers.driver`) with SIGKILL at random moments, then let it
finish; or start one and leave it running (the concurrency tests)."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class KillLog:
    kills: int = 0  # SIGKILLs that landed while the job was running
    runs: int = 0
    final: dict[str, Any] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)


def start_job(spec: dict[str, Any]) -> tuple[subprocess.Popen[str], threading.Event, list[str]]:
    """The job of ``spec`` in a child process; the event is set once it printed ``started``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.driver", orjson.dumps(spec).decode()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("started"):
                started.set()

    threading.Thread(target=read, daemon=True).start()
    return proc, started, lines


def run_with_kills(
    spec: dict[str, Any],
    *,
    kills: int,
    min_delay: float,
    max_delay: float,
    seed: int,
    timeout: float = 120,
    after_kill: Callable[[], None] | None = None,
) -> KillLog:
    """SIGKILL the job ``kills`` times, each a random delay after it started working; then finish it.

    ``after_kill`` runs after each kill (e.g. to read how far the checkpoint got)."""
    rng = random.Random(seed)
    log = KillLog()
    attempts = 0
    while log.kills < kills:
        attempts += 1
        if attempts > kills * 3:
            raise AssertionError(f"the job kept finishing before the kill ({log.kills} kills landed)")
        proc, started, lines = start_job(spec)
        log.runs += 1
        if not started.wait(30):
            proc.kill()
            raise AssertionError(f"job did not start: {proc.stderr.read() if proc.stderr else ''}")
        delay = rng.uniform(min_delay, max_delay)
        time.sleep(delay)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            log.kills += 1
            log.delays.append(delay)
            if after_kill is not None:
                after_kill()
        else:
            err = proc.stderr.read() if proc.stderr else ""
            if proc.returncode != 0:
                raise AssertionError(f"job failed before the kill: {err[-3000:]}")
            log.final = done_report(lines)
            return log  # finished early: the caller checks log.kills
    proc, started, lines = start_job(spec)
    log.runs += 1
    try:
        code = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    time.sleep(0.05)
    if code != 0:
        raise AssertionError(f"final run failed ({code}): {err[-3000:]}")
    log.final = done_report(lines)
    return log


def done_report(lines: list[str]) -> dict[str, Any]:
    """The report a finished driver printed (``{}`` if it did not finish)."""
    for line in lines:
        if line.startswith("done "):
            result: dict[str, Any] = orjson.loads(line[5:])
            return result
    return {}
