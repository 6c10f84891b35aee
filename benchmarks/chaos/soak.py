"""The soak: rounds of purge, export, import and copy run by the ``bulkops`` CLI while things go wrong
around them, each round's end state checked record by record.

Every round starts one job (kinds in :data:`JOBS`, taken in turn) on fresh data on one ``bulkops serve``
(its own process, a fixed control port, a data directory: an index keeps its port across restarts), with
a slow limit profile so that the job lasts a few seconds, and lands 1-3 disruptions while it runs (each
kind leads in turn, so that a short soak meets them all; the others are drawn at random):

* ``kill9``: SIGKILL the job; ``bulkops resume CHECKPOINT`` goes on;
* ``sigterm``: SIGTERM the job; it must exit 143 and print the resume command, which goes on;
* ``server``: SIGKILL the server and start it again on the same data directory and port; the job rides
  it out on retries or exits 1 with one error line, and is resumed;
* ``concurrent``: start ``bulkops resume CHECKPOINT`` beside the running job: it must be refused at once
  (exit 2, naming the running process) and change nothing.

Then the job is resumed until it reports success, and checked: a purge left no record under its prefix
and every other record bit for bit; an export holds every record exactly once, float32 values equal,
metadata equal, its manifest's checksums right; an import put exactly the input's records in the
namespace; a copy left exactly the source namespace's records in the destination index. No process
may print a traceback.

A job kind is one entry in :data:`JOBS`: how to set its round up (data and command line) and how to
check it.
"""

from __future__ import annotations

import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import orjson

from benchmarks.chaos.export import read_export
from benchmarks.chaos.killer import limits_file
from bulkops.models import Record

__all__ = ["DISRUPTIONS", "JOBS", "run"]

API_KEY = "soak-key-0123456789"
INDEX = "soak"
COPY_TO = "soak-copy"  # the copy job's destination (created by the first copy from the source's shape)
DIMENSION = 8
PREFIX = "gone#"
DISRUPTIONS = ("kill9", "sigterm", "server", "concurrent")


# --- data ---------------------------------------------------------------------------------------------


def records(tag: str, count: int, *, prefix: str = "") -> Iterator[Record]:
    """Deterministic records: float32-exact values, metadata of several types."""
    for n in range(count):
        values = tuple(float(((n * 7 + k * 13) % 97) / 8) for k in range(DIMENSION))
        meta = {"n": n, "tag": tag, "even": n % 2 == 0, "text": f"chunk {n} of {tag}", "score": n / 4}
        yield Record(f"{prefix}{tag}-{n:06d}", values, metadata=meta)


def same(got: Record, want: Record) -> bool:
    return bool(
        np.array_equal(np.asarray(got.values, dtype=np.float32), np.asarray(want.values, dtype=np.float32))
        and dict(got.metadata or {}) == dict(want.metadata or {})
    )


def differences(got: dict[str, Record], want: dict[str, Record]) -> list[str]:
    """What differs between two sets of records (empty: identical), at most 10 lines."""
    problems = []
    if set(got) != set(want):
        problems.append(f"{len(set(want) - set(got))} missing, {len(set(got) - set(want))} unexpected")
    problems += [
        f"{i}: values or metadata differ" for i in sorted(set(got) & set(want)) if not same(got[i], want[i])
    ]
    return problems[:10]


# --- the server ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``bulkops serve`` on a fixed port and data directory, killed and started again at will."""

    data: Path
    port: int = field(default_factory=_free_port)
    process: Any = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from bulkops.server.process import ServerProcess

        args = ["--port", str(self.port), "--data-dir", str(self.data), "--api-key", API_KEY]
        args += ["--limits", "none", "--latency", "2"]
        for attempt in range(20):  # a killed server's ports may take a moment to be free
            try:
                self.process = ServerProcess(args)
                return
            except RuntimeError:
                if attempt == 19:
                    raise
                time.sleep(0.25)

    def kill_and_restart(self, rng: random.Random) -> None:
        self.process.kill()
        time.sleep(rng.uniform(0.2, 1.5))
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


async def _client_do(server: Server, work: Callable[[Any], Any]) -> Any:
    from bulkops.api import Client

    async with Client(API_KEY, server.url, limits=None) as client:
        return await work(client)


def stored(server: Server, namespace: str, index_name: str = INDEX) -> dict[str, Record]:
    """Every record of ``namespace`` of the soak index (or ``index_name``), read over the API."""

    async def read(client: Any) -> dict[str, Record]:
        from bulkops.engine.sources import list_all

        index = await client.index(index_name)
        ids = await list_all(index, namespace=namespace)
        found: dict[str, Record] = {}
        for start in range(0, len(ids), 1000):
            found.update(await index.fetch(ids[start : start + 1000], namespace=namespace))
        return found

    return dict(anyio.run(_client_do, server, read))


def seed(server: Server, namespace: str, items: list[Record]) -> None:
    async def write(client: Any) -> None:
        index = await client.index(INDEX)
        for start in range(0, len(items), 500):
            await index.upsert(items[start : start + 500], namespace=namespace)

    anyio.run(_client_do, server, write)


# --- the jobs -----------------------------------------------------------------------------------------


@dataclass
class Round:
    """One job under disruption: its command line, checkpoint, and how to check its end state."""

    kind: str
    argv: list[str]  # after ``bulkops``
    checkpoint: Path
    check: Callable[[], list[str]]


@dataclass(frozen=True)
class JobKind:
    """How to set a round of this job up: ``setup(server, work, number, size) -> Round``."""

    setup: Callable[[Server, Path, int, int], Round]


def _purge(server: Server, work: Path, number: int, size: int) -> Round:
    namespace = f"p{number}"
    gone = list(records("r", size, prefix=PREFIX))
    kept = [*records("gone", size // 4), *records("r", size // 4, prefix="gonf#")]  # neighbours sort close
    seed(server, namespace, gone + kept)
    checkpoint = work / f"purge-{number}.ckpt"
    argv = ["purge", "--index", INDEX, "-n", namespace, "--prefix", PREFIX, "--yes"]
    argv += ["--checkpoint", str(checkpoint), "--verify-delay", "0.2"]
    return Round(
        "purge", argv, checkpoint, lambda: differences(stored(server, namespace), {r.id: r for r in kept})
    )


def _export(server: Server, work: Path, number: int, size: int) -> Round:
    namespace = f"e{number}"
    items = list(records(f"e{number}", size))
    seed(server, namespace, items)
    out = work / f"export-{number}.{'parquet' if number % 2 else 'jsonl'}"

    def check() -> list[str]:
        got, problems = read_export(out)
        return problems + differences(got, {r.id: r for r in items})

    return Round(
        "export",
        ["export", "--index", INDEX, "-n", namespace, "-o", str(out)],
        Path(f"{out}.checkpoint"),
        check,
    )


def _import(server: Server, work: Path, number: int, size: int) -> Round:
    namespace = f"i{number}"
    items = list(records(f"i{number}", size))
    source = work / f"import-{number}.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r.to_wire()) + b"\n" for r in items))
    checkpoint = work / f"import-{number}.ckpt"
    argv = [
        "import",
        "--index",
        INDEX,
        "-n",
        namespace,
        "--input",
        str(source),
        "--checkpoint",
        str(checkpoint),
    ]
    return Round(
        "import", argv, checkpoint, lambda: differences(stored(server, namespace), {r.id: r for r in items})
    )


def _copy(server: Server, work: Path, number: int, size: int) -> Round:
    namespace = f"c{number}"
    items = list(records(f"c{number}", size))
    seed(server, namespace, items)
    checkpoint = work / f"copy-{number}.ckpt"
    argv = ["copy", "--index", INDEX, "-n", namespace, "--to-index", COPY_TO, "--checkpoint", str(checkpoint)]
    argv += ["--verify-delay", "0.5", "--verify-sample", "20"]
    return Round(
        "copy",
        argv,
        checkpoint,
        lambda: differences(stored(server, namespace, COPY_TO), {r.id: r for r in items}),
    )


# One entry per job kind.
JOBS: dict[str, JobKind] = {
    "purge": JobKind(_purge),
    "export": JobKind(_export),
    "import": JobKind(_import),
    "copy": JobKind(_copy),
}


# --- one round ----------------------------------------------------------------------------------------


def _bulkops() -> list[str]:
    return [sys.executable, "-m", "bulkops"]


class Soak:
    def __init__(self, work: Path, server: Server, rng: random.Random, slow: str) -> None:
        self.work = work
        self.server = server
        self.rng = rng
        self.slow = slow  # a limit profile that makes each job last a few seconds
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PINECONE_")},
            "PINECONE_API_KEY": API_KEY,
            "PINECONE_CONTROLLER_HOST": server.url,
            "XDG_STATE_HOME": str(work / "state"),
        }
        self.problems: list[str] = []

    def start(self, argv: list[str]) -> subprocess.Popen[str]:
        """``bulkops ARGV`` (a resume needs no options: the checkpoint recorded the job's)."""
        return subprocess.Popen(
            [*_bulkops(), *argv], cwd=self.work, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def finish(self, proc: subprocess.Popen[str], what: str) -> tuple[int, str]:
        """Wait for ``proc``; a traceback, the key, or a failure without exactly one error line is a
        problem (a process killed by a signal says nothing)."""
        _, stderr = proc.communicate(timeout=600)
        if "Traceback" in stderr or API_KEY in stderr:
            self.problems.append(f"{what}: a traceback or the key on stderr: {stderr[-500:]}")
        lines = [line for line in stderr.splitlines() if line.startswith("error:")]
        if proc.returncode not in (0, 143, 130) and proc.returncode > 0 and len(lines) != 1:
            self.problems.append(
                f"{what}: exit {proc.returncode} without exactly one error line: {stderr[-500:]}"
            )
        return proc.returncode, stderr

    def first(self, job: Round) -> list[str]:
        """The job's command line, with the slow limit profile."""
        return ["--limits", self.slow, *job.argv]

    def again(self, job: Round) -> subprocess.Popen[str]:
        """Go on as a user would: ``bulkops resume`` once the checkpoint holds the job, else the command
        again (a run stopped before its checkpoint existed changed nothing)."""
        from bulkops.engine.checkpoint import Checkpoint
        from bulkops.errors import BulkopsError

        try:
            Checkpoint.inspect(job.checkpoint)
        except BulkopsError:
            return self.start(self.first(job))
        return self.start(["resume", str(job.checkpoint)])

    def round(self, number: int, kind: str, size: int) -> dict[str, Any]:
        started = time.perf_counter()
        job = JOBS[kind].setup(self.server, self.work, number, size)
        proc = self.start(self.first(job))
        # Each kind of disruption leads in turn, shifted by one every cycle of job kinds (so a short soak
        # meets them all, and over 16 rounds every job kind gets every disruption first); 0-2 random
        # ones follow.
        plan = [DISRUPTIONS[(number + number // len(JOBS)) % len(DISRUPTIONS)]]
        plan += [self.rng.choice(DISRUPTIONS) for _ in range(self.rng.randint(0, 2))]
        landed: list[str] = []
        exits: list[int] = []
        refusals: list[int] = []
        done = False
        for disruption in plan:
            time.sleep(self.rng.uniform(0.4, 2.0))
            if proc.poll() is not None:  # it ended before this disruption
                code = self.finish(proc, f"round {number} run")[0]
                exits.append(code)
                if code == 0:
                    done = True
                    break
                proc = self.again(job)  # it gave up (the server was down): go on, and disrupt that run
                time.sleep(self.rng.uniform(0.4, 1.0))
                if proc.poll() is not None:
                    continue
            if disruption == "kill9":
                proc.kill()
                exits.append(self.finish(proc, f"round {number} kill9")[0])
                proc = self.again(job)
            elif disruption == "sigterm":
                proc.send_signal(signal.SIGTERM)
                code, stderr = self.finish(proc, f"round {number} sigterm")
                exits.append(code)
                command = stderr.strip().splitlines()[-1].strip() if stderr.strip() else ""
                if code == 143 and command.endswith(f"resume {job.checkpoint}"):
                    proc = self.start(shlex.split(command)[1:])  # the printed command, as a user would
                elif code in (143, 0, -signal.SIGTERM):
                    # Stopped before its job's loop ran (starting up: "error: terminated"), or it had just
                    # finished: nothing was in flight; go on as a user would.
                    proc = self.again(job)
                else:
                    self.problems.append(f"round {number}: SIGTERM ended with exit {code}: {stderr[-300:]}")
                    proc = self.again(job)
            elif disruption == "server":
                self.server.kill_and_restart(self.rng)
            else:  # concurrent
                beside = self.start(["resume", str(job.checkpoint)])
                code, stderr = self.finish(beside, f"round {number} concurrent resume")
                refusals.append(code)
                if code == 2 and f"in use by process {proc.pid}" not in stderr:
                    self.problems.append(f"round {number}: the refusal names no process: {stderr[-300:]}")
                if code != 2 and proc.poll() is None:
                    self.problems.append(f"round {number}: a second run beside a running job got exit {code}")
            landed.append(disruption)
        if not done:
            code, _ = self.finish(proc, f"round {number} run")
            exits.append(code)
        attempts = 0
        while code != 0 and attempts < 5:  # a run the server's restart failed: resume it
            attempts += 1
            code, _ = self.finish(self.again(job), f"round {number} resume")
            exits.append(code)
        problems = job.check() if code == 0 else [f"never finished: exits {exits}"]
        return {
            "round": number,
            "job": kind,
            "planned": plan,
            "landed": landed,
            "exit_codes": exits,
            "concurrent_resume_exits": refusals,
            "records": size,
            "seconds": round(time.perf_counter() - started, 1),
            "problems": problems,
            "exact": not problems,
        }


def run(*, rounds: int = 20, size: int = 20_000, list_rate: float = 20.0, seed: int = 12) -> dict[str, Any]:
    """``rounds`` rounds over the job kinds in turn, ``size`` records each (see the module docstring)."""
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    server = Server(work / "data")
    started = time.perf_counter()
    try:
        server.start()

        async def create(client: Any) -> None:
            await client.control.create_index(INDEX, dimension=DIMENSION, metric="cosine")

        anyio.run(_client_do, server, create)
        # list (purge, export) at list_rate x 100 IDs/s, upsert (import) at list_rate / 10 x 1000 records/s
        slow = limits_file(
            work / "slow.json",
            {("list", "index", "requests"): list_rate, ("upsert", "namespace", "requests"): list_rate / 10},
        )
        soak = Soak(work, server, rng, slow)
        kinds = list(JOBS)
        results = [soak.round(n, kinds[n % len(kinds)], size) for n in range(rounds)]
        landed = [d for r in results for d in r["landed"]]
        return {
            "rounds": rounds,
            "records_per_round": size,
            "list_rate": list_rate,
            "seed": seed,
            "disruptions_landed": {d: landed.count(d) for d in DISRUPTIONS},
            "server_restarts": server.restarts,
            "wall_seconds": round(time.perf_counter() - started, 1),
            "process_problems": soak.problems,
            "results": results,
            "exact": all(r["exact"] for r in results) and not soak.problems,
        }
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
