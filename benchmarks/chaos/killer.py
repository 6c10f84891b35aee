"""Run a job in a child process, SIGKILL it at random moments, then let a last run finish.

The child prints ``started`` when the job begins and ``done <json>`` when it ends (:mod:`job`), so a
kill is counted only when it lands while the job runs; a run that finished before its kill ends the
loop early (the caller decides whether enough kills landed).
"""

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

__all__ = ["KillLog", "limits_file", "run_with_kills"]

ROOT = Path(__file__).resolve().parents[2]


def limits_file(path: Path, rates: dict[tuple[str, str, str], float]) -> str:
    """A limit-profile file: ``default`` with (operation, scope, unit) rows set to ``rates``; its path."""
    rows = [{"operation": o, "scope": s, "unit": u, "rate": rate} for (o, s, u), rate in rates.items()]
    path.write_bytes(orjson.dumps({"base": "default", "limits": rows}))
    return str(path)


@dataclass
class KillLog:
    kills: int = 0  # SIGKILLs that landed while the job was running
    runs: int = 0
    delays: list[float] = field(default_factory=list)
    progress_at_kill: list[int] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


class _Child:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.chaos.job", orjson.dumps(spec).decode()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())
            if line.startswith("started"):
                self.started.set()

    def stderr(self) -> str:
        return self.proc.stderr.read()[-3000:] if self.proc.stderr else ""

    def done(self) -> dict[str, Any]:
        for line in self.lines:
            if line.startswith("done "):
                result: dict[str, Any] = orjson.loads(line[5:])
                return result
        return {}


def run_with_kills(
    spec: dict[str, Any],
    *,
    kills: int,
    min_delay: float,
    max_delay: float,
    seed: int,
    progress: Callable[[], int] = lambda: 0,
    timeout: float = 1800,
) -> KillLog:
    """SIGKILL the job ``kills`` times, each a random delay after it started working; then finish it.

    ``progress``: how far the job is (e.g. a counter in its checkpoint), recorded at every kill.
    """
    rng = random.Random(seed)
    log = KillLog()
    attempts = 0
    while log.kills < kills and attempts < kills * 3:
        attempts += 1
        child = _Child(spec)
        log.runs += 1
        if not child.started.wait(60):
            child.proc.kill()
            raise RuntimeError(f"the job did not start: {child.stderr()}")
        delay = rng.uniform(min_delay, max_delay)
        time.sleep(delay)
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()
            log.kills += 1
            log.delays.append(delay)
            log.progress_at_kill.append(progress())
        elif child.proc.returncode != 0:
            raise RuntimeError(f"the job failed before the kill: {child.stderr()}")
        else:
            log.final = child.done()
            return log  # finished before its kill: the caller checks log.kills
    child = _Child(spec)
    log.runs += 1
    try:
        code = child.proc.wait(timeout)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    if code != 0:
        raise RuntimeError(f"the final run failed ({code}): {child.stderr()}")
    time.sleep(0.05)  # let the reader thread take the last line
    log.final = child.done()
    return log
