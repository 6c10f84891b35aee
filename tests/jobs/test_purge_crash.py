"""kill -9 at random moments, resume, and check record by record (reduced size; full size in
`python -m benchmarks.chaos purge`). The purge runs in a child process; the server runs in this one."""

from __future__ import annotations

import random
import signal
import sqlite3
import sys
from pathlib import Path

import anyio
import orjson
import pytest

from bulkops.limits.profiles import PROFILES
from bulkops.models import Record
from bulkops.server import ServerConfig, parse_faults, serve_local

CHILD = Path(__file__).with_name("purge_child.py")
PREFIX = "victim#"


def dataset(n_target: int) -> tuple[list[Record], list[str]]:
    target = [f"{PREFIX}{i % 97:02d}#{i:06d}" for i in range(n_target)]
    keep = [f"victim${i}" for i in range(300)] + [f"victim{i}" for i in range(300)] + ["victim#"[:-1], "w"]
    keep += [f"other#{i:05d}" for i in range(n_target // 3)]
    recs = [Record(i, (float(n), 0.5, -1.0, 2.0), metadata={"n": n}) for n, i in enumerate(target + keep)]
    return recs, keep


def limits_file(tmp_path: Path, list_rate: float) -> str:
    path = tmp_path / "limits.json"
    rows = [{"operation": "list", "scope": "index", "unit": "requests", "rate": list_rate}]
    path.write_bytes(orjson.dumps({"base": "default", "limits": rows}))
    return str(path)


async def run_with_kills(
    url: str, tmp_path: Path, *, kills: int, seed: int, limits: str, timeout: float = 30.0
) -> tuple[int, str, list[int]]:
    """Start the purge, SIGKILL it after a random delay, ``kills`` times; then let it finish.

    Returns the kills, the final run's output, and the checkpoint's deleted count after each kill.
    """
    rng = random.Random(seed)
    progress: list[int] = []
    checkpoint = tmp_path / "purge.ckpt"
    args = [sys.executable, str(CHILD), url, str(checkpoint), PREFIX, limits, str(timeout)]
    killed = 0
    for _ in range(kills * 4):
        if killed >= kills:
            break
        async with await anyio.open_process(args) as proc:
            await anyio.sleep(rng.uniform(0.8, 2.5))  # imports take ~0.5 s of that
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            await proc.wait()
        if checkpoint.exists():
            with sqlite3.connect(checkpoint) as db:
                row = db.execute("SELECT value FROM counters WHERE name = 'deleted'").fetchone()
            progress.append(row[0] if row else 0)
    async with await anyio.open_process(args) as proc:
        with anyio.fail_after(240):
            await proc.wait()
        assert proc.stdout is not None
        out = (await proc.stdout.receive()).decode() if proc.returncode == 0 else ""
        if proc.returncode != 0:
            assert proc.stderr is not None
            err = await proc.stderr.receive()
            raise AssertionError(f"final run failed ({proc.returncode}): {err.decode()[-3000:]}")
    return killed, out, progress


async def check_exact(server: object, recs: list[Record], keep: list[str]) -> None:
    assert server.ids("idx", "ns") == sorted(keep)  # type: ignore[attr-defined]
    by_id = {r.id: r for r in recs}
    for got in server.get_records("idx", "ns", keep):  # type: ignore[attr-defined]
        want = by_id[got.id]
        assert list(got.values) == list(want.values)
        assert dict(got.metadata or {}) == dict(want.metadata or {})


@pytest.mark.slow
async def test_kill_nine_five_times_then_exact(tmp_path: Path) -> None:
    recs, keep = dataset(20_000)
    config = ServerConfig(limits=PROFILES["default"], latency_ms=3.0)
    async with serve_local(config) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", "ns", recs)
        limits = limits_file(tmp_path, 40)
        killed, out, progress = await run_with_kills(server.url, tmp_path, kills=5, seed=4, limits=limits)
        assert killed >= 5
        mid_job = [n for n in progress if 0 < n < 20_000]
        assert len(mid_job) >= 3, f"kills did not land mid-purge: deleted counts at kills {progress}"
        assert "remaining=0" in out
        await check_exact(server, recs, keep)


@pytest.mark.slow
async def test_fault_storm_with_kills_ends_exact(tmp_path: Path) -> None:
    recs, keep = dataset(12_000)
    faults = parse_faults("500:0.03,503:0.03,reset:0.03,429:0.05,stall=2:0.005")
    config = ServerConfig(
        limits=PROFILES["default"], latency_ms=2.0, faults=faults, seed=11, consistency_lag_ms=100
    )
    async with serve_local(config) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", "ns", recs)
        killed, out, _ = await run_with_kills(
            server.url, tmp_path, kills=2, seed=9, limits=limits_file(tmp_path, 60), timeout=1.0
        )
        assert killed >= 2
        assert "remaining=0" in out
        await check_exact(server, recs, keep)
