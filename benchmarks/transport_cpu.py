"""Client CPU per 1,000 records for fetch and upsert, gRPC vs REST (smoke-size; figures on a quiet machine).

Two views, both measured with ``time.process_time()`` in this process only:

- ``codec``: the client's decode of one 1,000-record fetch answer and encode of one 1,000-record upsert,
  from and to bytes already in memory (no network, no server): gRPC (protobuf, float32 arrays) and
  REST (JSON, float lists; and JSON decoded into float32 arrays, the alternative the REST client could
  take);
- ``wire``: whole fetch calls of 1,000 IDs through ``Client`` against ``bulkops serve`` running in a
  child process (so the server's CPU is not counted), over each transport.

    .venv/bin/python benchmarks/transport_cpu.py --dimension 1536 --repeat 5 --calls 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from bulkops.api import Client
from bulkops.api.grpc.exchange import decode
from bulkops.api.grpc.messages import records_from_vectors, upsert_request
from bulkops.api.rest.wire import loads, parse_fetch, upsert_body
from bulkops.models import Record
from bulkops.protos import vector_service_pb2 as pb
from bulkops.server.process import ServerProcess

API_KEY = "bench-key"
RECORDS = 1000


def _metadata(n: int) -> dict[str, Any]:
    """About 1 KB as JSON: text, numbers, a list, a flag."""
    return {
        "title": f"Document {n}: " + "a quick brown fox jumps over the lazy dog " * 3,
        "text": "lorem ipsum dolor sit amet consectetur adipiscing elit " * 12,
        "year": 2000 + n % 25,
        "score": round(0.001 * n, 3),
        "tags": ["alpha", "beta", "gamma", f"t{n % 7}"],
        "public": n % 2 == 0,
        "url": f"https://example.com/docs/{n:06d}",
    }


def _records(dimension: int) -> list[Record]:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((RECORDS, dimension), dtype=np.float32)
    return [Record(f"doc-{n:06d}", values[n], metadata=_metadata(n)) for n in range(RECORDS)]


def _cpu_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def codec_rows(dimension: int, repeat: int) -> list[tuple[str, float]]:
    records = _records(dimension)
    fetched = pb.FetchResponse(namespace="ns")
    for record in records:
        fetched.vectors[record.id].CopyFrom(upsert_request([record], "ns").vectors[0])
    grpc_body = fetched.SerializeToString()
    rest_body = orjson.dumps(
        {"vectors": {r.id: r.to_wire(keep_arrays=True) for r in records}, "namespace": "ns"},
        option=orjson.OPT_SERIALIZE_NUMPY,
    )
    as_lists = [Record(r.id, r.to_wire()["values"], metadata=r.metadata) for r in records]

    def rest_arrays() -> object:
        found = parse_fetch(loads(rest_body))
        return {
            k: Record(r.id, np.asarray(r.values, dtype=np.float32), None, r.metadata)
            for k, r in found.items()
        }

    return [
        (
            f"decode fetch, gRPC ({len(grpc_body) / 1e6:.1f} MB)",
            _cpu_ms(
                lambda: records_from_vectors(decode(pb.FetchResponse, grpc_body, operation="fetch").vectors),
                repeat,
            ),
        ),
        (
            f"decode fetch, REST lists ({len(rest_body) / 1e6:.1f} MB)",
            _cpu_ms(lambda: parse_fetch(loads(rest_body)), repeat),
        ),
        ("decode fetch, REST -> float32 arrays", _cpu_ms(rest_arrays, repeat)),
        (
            "encode upsert, gRPC from arrays",
            _cpu_ms(lambda: upsert_request(records, "ns").SerializeToString(), repeat),
        ),
        ("encode upsert, REST from arrays", _cpu_ms(lambda: upsert_body(records, "ns"), repeat)),
        ("encode upsert, REST from lists", _cpu_ms(lambda: upsert_body(as_lists, "ns"), repeat)),
    ]


async def wire_rows(dimension: int, calls: int) -> list[tuple[str, float]]:
    server = ServerProcess(["--api-key", API_KEY])
    try:
        async with Client(API_KEY, server.url, limits="none") as client:
            await client.control.create_index("cpu", dimension=dimension)
            await client.control.wait_until_index_ready("cpu", timeout=30, poll_interval=0.05)
            index = await client.index("cpu")
            records = _records(dimension)
            for start in range(0, RECORDS, 200):
                await index.upsert(records[start : start + 200], namespace="ns")
        ids = [r.id for r in records]
        rows = []
        for transport in ("grpc", "rest"):
            async with Client(API_KEY, server.url, limits="none", transport=transport) as client:
                index = await client.index("cpu")
                await index.fetch(ids, namespace="ns")  # warm: connections, caches
                times = []
                for _ in range(calls):
                    start = time.process_time()
                    found = await index.fetch(ids, namespace="ns")
                    times.append((time.process_time() - start) * 1000)
                assert len(found) == RECORDS
                rows.append((f"fetch 1000 IDs through Client, {transport}", statistics.median(times)))
        return rows
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dimension", type=int, default=1536)
    parser.add_argument("--repeat", type=int, default=5, help="codec repetitions (median)")
    parser.add_argument("--calls", type=int, default=5, help="fetch calls per transport (median)")
    parser.add_argument("--skip-wire", action="store_true", help="only the in-memory codec figures")
    args = parser.parse_args()
    rows = codec_rows(args.dimension, args.repeat)
    if not args.skip_wire:
        rows += asyncio.run(wire_rows(args.dimension, args.calls))
    print(f"client CPU ms per {RECORDS} records, dimension {args.dimension}, ~1 KB metadata (median)")
    for label, ms in rows:
        print(f"  {label:<52} {ms:8.1f}")


if __name__ == "__main__":
    main()
