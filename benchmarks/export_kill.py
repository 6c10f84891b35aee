"""Full-size kill -9 runs for export and import (the suite runs the same at 20k records).

    /tmp/venv/bin/python benchmarks/export_kill.py [--records 100000] [--kills 5] [--format jsonl|parquet]

1. Seed ``src`` (local server on a thread of this process, 2 ms latency, default limits on the
   client) with ``--records`` records.
2. Export them by prefix in a child process; SIGKILL it ``--kills`` times at random moments (each a
   random delay after the job started), then let it finish. Check: every record exactly once,
   float32 values bit-identical, metadata equal, manifest checksums verify.
3. Import the export into ``dst`` in a child process, killed the same way. Check: ``dst`` equals
   ``src`` record by record.

Prints a JSON summary. Run from the repository root (it uses ``tests.helpers``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bulkops.server.config import ServerConfig  # noqa: E402
from bulkops.server.thread import ServerThread  # noqa: E402
from bulkops.sinks import JsonlReader, ParquetReader  # noqa: E402
from bulkops.sinks.manifest import read_manifest, verify_parts  # noqa: E402
from tests.helpers.records import assert_same_records, make_records  # noqa: E402
from tests.helpers.killing import run_with_kills  # noqa: E402


def run(*, records: int = 100_000, kills: int = 5, fmt: str = "jsonl", seed: int = 1) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="export-kill-"))
    out = workdir / f"out.{fmt}"
    try:
        with ServerThread(ServerConfig(latency_ms=2)) as server:
            server.create_index_direct("src", dimension=16)
            server.create_index_direct("dst", dimension=16)
            started = time.perf_counter()
            server.seed("src", "ns", make_records(records, dim=16, seed=seed))
            seed_seconds = time.perf_counter() - started
            want = {r.id: r for r in server.get_records("src", "ns", server.ids("src", "ns"))}

            started = time.perf_counter()
            export_log = run_with_kills(
                {
                    "job": "export",
                    "kwargs": {
                        "host": server.index_host("src"),
                        "namespace": "ns",
                        "prefix": "doc-",
                        "to": str(out),
                        "api_key": "k",
                        "commit_every": 10_000,
                    },
                    # Listing at half the documented budget (≈10k IDs/s) so every kill lands mid-job.
                    "limits": {"list:index:requests": 100},
                },
                kills=kills,
                min_delay=0.5,
                max_delay=2.0,
                seed=seed,
                timeout=900,
            )
            export_seconds = time.perf_counter() - started
            if export_log.kills < kills:
                raise AssertionError(f"only {export_log.kills} kills landed before the export finished")
            reader = ParquetReader(out) if fmt == "parquet" else JsonlReader(out)
            got = {}
            for item in reader:
                assert item.record is not None, item.error
                assert item.record.id not in got, f"{item.record.id} exported twice"
                got[item.record.id] = item.record
            assert_same_records(got, want)
            manifest = read_manifest(out)
            assert manifest is not None
            assert verify_parts(out, manifest) == []

            started = time.perf_counter()
            load_log = run_with_kills(
                {
                    "job": "load",
                    "kwargs": {
                        "from_": str(out),
                        "host": server.index_host("dst"),
                        "api_key": "k",
                        "batch_size": 500,
                        "commit_every": 5000,
                    },
                    # Upserts are limited by bytes only by default; pace requests so kills land mid-job.
                    "limits": {"upsert:namespace:requests": 20},
                },
                kills=kills,
                min_delay=0.5,
                max_delay=2.5,
                seed=seed + 1,
                timeout=900,
            )
            load_seconds = time.perf_counter() - started
            if load_log.kills < kills:
                raise AssertionError(f"only {load_log.kills} kills landed before the import finished")
            loaded = {r.id: r for r in server.get_records("dst", "ns", server.ids("dst", "ns"))}
            assert_same_records(loaded, want)
        return {
            "records": records,
            "format": fmt,
            "seed_seconds": round(seed_seconds, 1),
            "export": {
                "kills": export_log.kills,
                "runs": export_log.runs,
                "kill_delays_s": [round(d, 2) for d in export_log.delays],
                "final_run": export_log.final,
                "wall_seconds": round(export_seconds, 1),
                "exact": True,
            },
            "import": {
                "kills": load_log.kills,
                "runs": load_log.runs,
                "kill_delays_s": [round(d, 2) for d in load_log.delays],
                "final_run": load_log.final,
                "wall_seconds": round(load_seconds, 1),
                "target_equals_source": True,
            },
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(records=args.records, kills=args.kills, fmt=args.format, seed=args.seed)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
