"""The whole ``bulkops`` executable, as a user runs it: interpreter start, imports, the job, the report.

The worker starts the ``bulkops`` console script installed beside its Python (the checkout's virtualenv)
with the key in ``PINECONE_API_KEY`` and the run's options, and measures *that* process: wall time from
spawn to exit, its CPU (user + system, all threads, from ``wait4``'s resource usage of exactly that
child) and its peak RSS (``VmHWM`` sampled every 50 ms while it runs; the last sample is within 50 ms of
its end, where the peak of a streaming job is reached long before; a thread samples it while the
worker waits for the process, so the wall time ends exactly when the process does). The transport is
the CLI's default. At the time budget the process gets SIGINT — the CLI's Ctrl-C: it flushes its
checkpoint and exits 130 — and the harness counts what it had written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.harness.contenders.bulkops_jobs import outcome_from_report
from benchmarks.harness.contenders.outcome import Outcome, Unavailable
from benchmarks.harness.spec import WorkerSpec
from benchmarks.harness.worker import peak_rss_mb

__all__ = ["command", "run"]

_POLL_S = 0.05
_INTERRUPTED = 130


def _executable() -> str:
    script = Path(sys.executable).with_name("bulkops")
    if not script.exists():
        raise RuntimeError(f"no bulkops executable beside {sys.executable}: pip install -e '.[cli]' there")
    return str(script)


def command(spec: WorkerSpec) -> list[str]:
    """The ``bulkops`` command line of ``spec`` (global options, then the command and its options)."""
    if spec.concurrency is not None:
        raise Unavailable("the CLI has no concurrency option")
    ns = ["--namespace", spec.namespace]
    checkpoint = ["--checkpoint", str(spec.checkpoint)] if spec.checkpoint else []
    target = ["--to-host", str(spec.target_host), "--to-api-key", str(spec.target_api_key)]
    args: list[str] = {
        "purge-prefix": ["purge", *ns, "--prefix", spec.prefix, "--yes"],
        "purge-ids": ["purge", *ns, "--ids-file", str(spec.ids_file), "--yes"],
        "export-prefix": ["export", *ns, "--prefix", spec.prefix, "--output", str(spec.output_file)],
        "export-ids": ["export", *ns, "--ids-file", str(spec.ids_file), "--output", str(spec.output_file)],
        "export-namespaces": ["export", "--all-namespaces", "--output", str(spec.output_file)],
        "import": ["import", *ns, "--input", str(spec.input_file)],
        "copy": ["copy", *ns, "--prefix", spec.prefix, *target],
        "copy-namespaces": ["copy", "--all-namespaces", *target],
    }[spec.scenario]
    options = ["--host", spec.host, "--limits", spec.limits, "--json", "--quiet"]
    return [_executable(), *options, *args, *checkpoint]


class _Watch:
    """Beside the wait: samples the process's peak RSS every ``_POLL_S``; at the time budget sends
    SIGINT (the CLI's Ctrl-C), and SIGKILL 30 s after that."""

    def __init__(self, proc: subprocess.Popen[bytes], started: float, budget_s: float) -> None:
        self.proc = proc
        self.started = started
        self.budget_s = budget_s
        self.done = threading.Event()
        self.peak = 0.0
        self.interrupted = False

    def run(self) -> None:
        interrupted_at: float | None = None
        while not self.done.wait(_POLL_S):
            self.peak = max(self.peak, peak_rss_mb(self.proc.pid))
            now = time.perf_counter()
            if interrupted_at is None and now - self.started >= self.budget_s:
                self.proc.send_signal(signal.SIGINT)
                interrupted_at = now
                self.interrupted = True
            elif interrupted_at is not None and now - interrupted_at > 30:
                self.proc.kill()


def run(spec: WorkerSpec) -> Outcome:
    argv = command(spec)
    env = dict(os.environ, PINECONE_API_KEY=spec.api_key)
    out_path = Path(str(spec.checkpoint or spec.output_file or "bulkops") + ".cli-stdout")
    outcome = Outcome()
    started = time.perf_counter()
    with out_path.open("wb") as stdout:
        proc = subprocess.Popen(argv, stdout=stdout, stderr=sys.stderr, stdin=subprocess.DEVNULL, env=env)
        watch = _Watch(proc, started, spec.budget_s)
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        # Waited for here, not polled: the wall time ends when the process does (a 50 ms poll added
        # 25 ms to every run on average).
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.perf_counter()
        watch.done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    outcome.stopped_by_budget = watch.interrupted
    outcome.extra["wall_inner_s"] = ended - started
    outcome.cpu_s = usage.ru_utime + usage.ru_stime
    outcome.peak_rss_mb = watch.peak
    code = proc.returncode
    if code not in (0, _INTERRUPTED) or (code == _INTERRUPTED and not outcome.stopped_by_budget):
        raise RuntimeError(f"bulkops exited {code}: {' '.join(argv[1:])}")
    raw = out_path.read_bytes().strip()
    report: dict[str, Any] = orjson.loads(raw) if raw else {}  # --json: one document, the report
    outcome_from_report(report, outcome)
    client = report.get("client")
    if isinstance(client, dict):  # the CLI's client counters (the job's own are empty when given a client)
        outcome.requests = int(client.get("requests") or outcome.requests)
        outcome.http_429 = int(client.get("rate_limited") or outcome.http_429)
        outcome.retries = int(client.get("retries") or outcome.retries)
        if outcome.transport is None and isinstance(client.get("transport"), str):
            outcome.transport = client["transport"]
    outcome.extra["exit_code"] = code
    return outcome
