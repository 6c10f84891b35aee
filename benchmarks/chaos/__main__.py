"""``python -m benchmarks.chaos purge|export|soak [options]``: the crash tools, results as JSON on stdout.

Exit code 0 when the end state is exact, 1 when it is not.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from benchmarks.chaos import export, purge, soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    tools = parser.add_subparsers(dest="tool", required=True)
    p = tools.add_parser("purge", help="purge by prefix under kill -9 (and faults)")
    p.add_argument("--target", type=int, default=200_000)
    p.add_argument("--others", type=int, default=100_000)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--list-rate", type=float, default=100.0)
    p.add_argument("--latency", type=float, default=5.0)
    p.add_argument("--faults", default="", help='e.g. "500:0.02,503:0.02,reset:0.02,429:0.03"')
    p.add_argument("--seed", type=int, default=7)
    e = tools.add_parser("export", help="export then import under kill -9")
    e.add_argument("--records", type=int, default=100_000)
    e.add_argument("--dimension", type=int, default=64)
    e.add_argument("--kills", type=int, default=5)
    e.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    e.add_argument("--seed", type=int, default=1)
    s = tools.add_parser("soak", help="rounds of purge/export/import/copy under kill -9, SIGTERM, restarts")
    s.add_argument("--rounds", type=int, default=20)
    s.add_argument("--records", type=int, default=20_000, help="records per round")
    s.add_argument("--list-rate", type=float, default=20.0, help="list requests/s (upserts: a fifth)")
    s.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    if args.tool == "soak":
        result = soak.run(rounds=args.rounds, size=args.records, list_rate=args.list_rate, seed=args.seed)
    elif args.tool == "purge":
        result = purge.run(
            target=args.target,
            others=args.others,
            kills=args.kills,
            list_rate=args.list_rate,
            latency_ms=args.latency,
            faults=args.faults,
            seed=args.seed,
        )
    else:
        result = export.run(
            records=args.records, dimension=args.dimension, kills=args.kills, fmt=args.format, seed=args.seed
        )
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0 if result["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
