"""Full-size crash test for purge: kill -9 at random moments (≥ 5 times), resume, then check every record.

    /tmp/venv/bin/python benchmarks/purge_chaos.py [--target 200000] [--others 100000] [--kills 5]
                                                   [--faults "500:0.02,503:0.02,reset:0.02,429:0.03"]

The server is ``bulkops serve --data-dir ...`` in a child process; the purge runs in another child
process (``bulkops.purge(prefix=..., checkpoint=...)``) that is SIGKILLed after a random delay, then
restarted with the same checkpoint, until it has been killed ``--kills`` times mid-job; a last run goes
to the end. Then the server is stopped, the data directory opened again, and every record is checked:
no ID under the prefix is left, and every other record is present with identical values and metadata.
The list budget is lowered (``--list-rate``, default 100/s) so the job lasts long enough to be killed
several times. ``run(...)`` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson

PREFIX = "gdpr#"
NAMESPACE = "ns"
INDEX = "chaos"

CHILD = """
import sys, anyio, bulkops
from bulkops.api import Client
from bulkops.limits.profiles import load_profile

async def main(url, checkpoint, limits, timeout, index, namespace, prefix):
    async with Client("chaos-key", url, limits=load_profile(limits), timeout=float(timeout)) as client:
        report = await bulkops.purge(client=client, index=index, namespace=namespace, prefix=prefix,
                                     checkpoint=checkpoint, verify_delay=0.5)
    print(f"DONE deleted={report.deleted} remaining={report.verification.remaining} "
          f"requests={report.requests} 429s={report.rate_limited} retries={report.retries}", flush=True)

anyio.run(main, *sys.argv[1:8])
"""


def _records(target: int, others: int) -> Iterator[Any]:
    from bulkops.models import Record

    for n in range(target):
        yield Record(f"{PREFIX}user-{n % 977:03d}#{n:07d}", (float(n), 1.0, -1.0, 0.5), metadata={"n": n})
    for n in range(others):  # neighbours that sort right next to the prefix, and far away
        record_id = (f"gdpr${n}", f"gdpr{n}", f"gdpq#{n}", f"other#{n:07d}")[n % 4]
        yield Record(record_id, (float(-n), 2.0, 0.0, 0.25), metadata={"n": -n})


async def _seed(data_dir: Path, target: int, others: int) -> None:
    from bulkops.server import LocalServer, ServerConfig

    server = LocalServer(ServerConfig(data_dir=data_dir, limits=None))
    await server.start()
    try:
        await server.create_index_direct(INDEX, dimension=4)
        await server.seed(INDEX, NAMESPACE, _records(target, others), batch=20_000)
    finally:
        await server.close()


async def _check(data_dir: Path, target: int, others: int) -> dict[str, Any]:
    from bulkops.server import LocalServer, ServerConfig

    server = LocalServer(ServerConfig(data_dir=data_dir, limits=None))
    await server.start()
    try:
        expected = {r.id: r for r in _records(0, others)}
        ids = server.ids(INDEX, NAMESPACE)
        leftovers = [i for i in ids if i.startswith(PREFIX)]
        missing = sorted(set(expected) - set(ids))
        changed = 0
        for start in range(0, len(ids), 5000):
            for got in server.get_records(INDEX, NAMESPACE, ids[start : start + 5000]):
                want = expected.get(got.id)
                if want is None:
                    continue
                if list(got.values) != list(want.values) or dict(got.metadata or {}) != dict(
                    want.metadata or {}
                ):
                    changed += 1
        return {
            "left_under_prefix": len(leftovers),
            "others_missing": len(missing),
            "others_changed": changed,
            "exact": not leftovers and not missing and not changed and len(ids) == others,
        }
    finally:
        await server.close()


def _deleted_so_far(checkpoint: Path) -> int:
    if not checkpoint.exists():
        return 0
    with sqlite3.connect(checkpoint) as db:
        row = db.execute("SELECT value FROM counters WHERE name = 'deleted'").fetchone()
    return int(row[0]) if row else 0


def run(
    *,
    target: int = 200_000,
    others: int = 100_000,
    kills: int = 5,
    list_rate: float = 100.0,
    latency_ms: float = 5.0,
    faults: str = "",
    seed: int = 7,
) -> dict[str, Any]:
    from bulkops.server.process import ServerProcess

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="purge-chaos-"))
    try:
        data = work / "data"
        anyio.run(_seed, data, target, others)
        limits = work / "limits.json"
        rows = [{"operation": "list", "scope": "index", "unit": "requests", "rate": list_rate}]
        limits.write_bytes(orjson.dumps({"base": "default", "limits": rows}))
        checkpoint = work / "purge.ckpt"
        args = ["--data-dir", str(data), "--latency", f"{latency_ms:g}", "--limits", "default", "--seed", "1"]
        if faults:
            args += ["--faults", faults]
        at_kill: list[int] = []
        started = time.perf_counter()
        with ServerProcess(args) as server:
            child = [sys.executable, "-c", CHILD, server.url, str(checkpoint), str(limits), "2.0"]
            child += [INDEX, NAMESPACE, PREFIX]
            expected_seconds = target / (list_rate * 100)
            attempts = 0
            while sum(1 for n in at_kill if 0 < n < target) < kills and attempts < kills * 4:
                attempts += 1
                proc = subprocess.Popen(child, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                time.sleep(0.7 + rng.uniform(0.2, expected_seconds / kills))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                proc.communicate()
                at_kill.append(_deleted_so_far(checkpoint))
            final = subprocess.run(child, capture_output=True, text=True, timeout=1800)
        elapsed = time.perf_counter() - started
        outcome = anyio.run(_check, data, target, others)
        return {
            "target": target,
            "others": others,
            "faults": faults or None,
            "list_rate": list_rate,
            "kills_mid_job": sum(1 for n in at_kill if 0 < n < target),
            "deleted_count_at_each_kill": at_kill,
            "final_run": final.stdout.strip() or final.stderr.strip()[-1500:],
            "final_exit_code": final.returncode,
            "elapsed_seconds": round(elapsed, 1),
            **outcome,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", type=int, default=200_000)
    parser.add_argument("--others", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--list-rate", type=float, default=100.0)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--faults", default="")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(
        target=args.target,
        others=args.others,
        kills=args.kills,
        list_rate=args.list_rate,
        latency_ms=args.latency,
        faults=args.faults,
        seed=args.seed,
    )
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
