"""Purge by prefix under kill -9 (≥ 5 times) and, optionally, a fault storm; then check every record.

The server is ``bulkops serve --data-dir ...`` in a child process; the purge runs in another child
(``bulkops.purge(prefix=..., checkpoint=...)``) that is SIGKILLed after a random delay and restarted with
the same checkpoint until it has been killed ``kills`` times mid-job; a last run goes to the end. Then the
server is stopped, the data directory opened again, and every record checked: no ID under the prefix is
left, and every other record — including neighbours that sort right next to the prefix — is present with
identical values and metadata. The list budget is lowered (``list_rate``, default 100/s) so the job lasts
long enough to be killed several times.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from benchmarks.chaos.killer import limits_file, run_with_kills
from bulkops.models import Record

__all__ = ["run"]

PREFIX = "gdpr#"
NAMESPACE = "ns"
INDEX = "chaos"
API_KEY = "chaos-key"


def _records(target: int, others: int) -> Iterator[Record]:
    for n in range(target):
        yield Record(f"{PREFIX}user-{n % 977:03d}#{n:07d}", (float(n), 1.0, -1.0, 0.5), metadata={"n": n})
    for n in range(others):  # neighbours that sort right next to the prefix, and far away
        record_id = (f"gdpr${n}", f"gdpr{n}", f"gdpq#{n}", f"other#{n:07d}")[n % 4]
        yield Record(record_id, (float(-n), 2.0, 0.0, 0.25), metadata={"n": -n})


async def _seed(data_dir: Path, target: int, others: int) -> None:
    from bulkops.server import ServerConfig, serve_local

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        await server.create_index_direct(INDEX, dimension=4)
        await server.seed(INDEX, NAMESPACE, _records(target, others), batch=20_000)


async def _check(data_dir: Path, target: int, others: int) -> dict[str, Any]:
    from bulkops.server import ServerConfig, serve_local

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        expected = {r.id: r for r in _records(0, others)}
        ids = server.ids(INDEX, NAMESPACE)
        leftovers = [i for i in ids if i.startswith(PREFIX)]
        missing = sorted(set(expected) - set(ids))
        changed = 0
        for start in range(0, len(ids), 5000):
            for got in server.get_records(INDEX, NAMESPACE, ids[start : start + 5000]):
                want = expected.get(got.id)
                if want is not None and (
                    list(got.values) != list(want.values)
                    or dict(got.metadata or {}) != dict(want.metadata or {})
                ):
                    changed += 1
    return {
        "left_under_prefix": len(leftovers),
        "others_missing": len(missing),
        "others_changed": changed,
        "exact": not leftovers and not missing and not changed and len(ids) == others,
    }


def _deleted_so_far(checkpoint: Path) -> int:
    """The purge's committed ``deleted`` counter (read-only; 0 before its first commit)."""
    if not checkpoint.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{checkpoint}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM counters WHERE name = 'deleted'").fetchone()
    except sqlite3.Error:
        return -1  # the checkpoint's layout changed: the count is unknown, the check below still holds
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

    work = Path(tempfile.mkdtemp(prefix="purge-chaos-"))
    try:
        data = work / "data"
        anyio.run(_seed, data, target, others)
        checkpoint = work / "purge.ckpt"
        args = ["--data-dir", str(data), "--latency", f"{latency_ms:g}", "--limits", "default", "--seed", "1"]
        args += ["--api-key", API_KEY] + (["--faults", faults] if faults else [])
        started = time.perf_counter()
        with ServerProcess(args) as server:
            spec = {
                "job": "purge",
                "kwargs": {
                    "index": INDEX,
                    "controller_host": server.url,
                    "api_key": API_KEY,
                    "namespace": NAMESPACE,
                    "prefix": PREFIX,
                    "checkpoint": str(checkpoint),
                    "verify_delay": 0.5,
                    "limits": limits_file(work / "limits.json", {("list", "index", "requests"): list_rate}),
                },
            }
            expected_seconds = target / (list_rate * 100)
            log = run_with_kills(
                spec,
                kills=kills,
                min_delay=0.7,
                max_delay=0.7 + expected_seconds / kills,
                seed=seed,
                progress=lambda: _deleted_so_far(checkpoint),
            )
        elapsed = time.perf_counter() - started
        outcome = anyio.run(_check, data, target, others)
        return {
            "target": target,
            "others": others,
            "faults": faults or None,
            "list_rate": list_rate,
            "kills_mid_job": log.kills,
            "deleted_count_at_each_kill": log.progress_at_kill,
            "runs": log.runs,
            "final_run": log.final,
            "elapsed_seconds": round(elapsed, 1),
            **outcome,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
