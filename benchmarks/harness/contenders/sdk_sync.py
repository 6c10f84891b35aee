"""The official SDK's documented synchronous loops, written as its docstrings and guides show them.

- purge by prefix:  ``for page in index.list(prefix=...): index.delete(ids=[ids of page])``
- purge by IDs:     ``index.delete(ids=chunk)`` for chunks of 1000
- export by prefix: ``for page in index.list(prefix=...): index.fetch(ids=...)`` → JSONL
- export by IDs:    ``index.fetch(ids=chunk)`` for chunks of 1000 → JSONL
- import:           ``index.upsert(vectors=batch)`` per batch of ≤ 1000 records and ≤ 2 MB

One request in flight at a time (that is the loop), so the pool needs one connection; it gets a few.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from pinecone import Index

from benchmarks.harness.contenders import sdk_wire
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import WorkerSpec

__all__ = ["run"]


def run(spec: WorkerSpec) -> Outcome:
    sdk_wire.install_counters()
    index = Index(host=spec.host, api_key=spec.api_key, connection_pool_maxsize=4)
    deadline = time.perf_counter() + spec.budget_s
    outcome = Outcome()

    def over() -> bool:
        if time.perf_counter() >= deadline:
            outcome.stopped_by_budget = True
            return True
        return False

    ns = spec.namespace
    try:
        if spec.scenario == "purge-prefix":
            for page in index.list(prefix=spec.prefix, namespace=ns):
                ids = [str(item.id) for item in page.vectors]
                index.delete(ids=ids, namespace=ns)
                outcome.processed += len(ids)
                if over():
                    break
        elif spec.scenario == "purge-ids":
            assert spec.ids_file
            for chunk in sdk_wire.chunks(sdk_wire.read_ids(spec.ids_file), 1000):
                index.delete(ids=chunk, namespace=ns)
                outcome.processed += len(chunk)
                if over():
                    break
        elif spec.scenario in ("export-prefix", "export-ids"):
            assert spec.output_file
            with open(spec.output_file, "wb") as out:
                batches: Iterator[list[str]]
                if spec.scenario == "export-prefix":
                    batches = (
                        [str(item.id) for item in page.vectors]
                        for page in index.list(prefix=spec.prefix, namespace=ns)
                    )
                else:
                    assert spec.ids_file
                    size = int(spec.extra.get("fetch_batch", 1000))
                    batches = sdk_wire.chunks(sdk_wire.read_ids(spec.ids_file), size)
                for ids in batches:
                    fetched = index.fetch(ids=ids, namespace=ns)
                    out.write(b"".join(sdk_wire.vector_line(v) for v in fetched.vectors.values()))
                    outcome.processed += len(fetched.vectors)
                    if over():
                        break
        elif spec.scenario == "import":
            assert spec.input_file
            batch_size = int(spec.extra["upsert_batch"])
            for batch in sdk_wire.chunks(sdk_wire.read_jsonl(spec.input_file), batch_size):
                index.upsert(vectors=batch, namespace=ns, show_progress=False)
                outcome.processed += len(batch)
                if over():
                    break
        else:
            raise ValueError(f"unknown scenario {spec.scenario}")
    finally:
        index.close()
    outcome.requests = sdk_wire.COUNTS.attempts
    outcome.http_429 = sdk_wire.COUNTS.http_429
    outcome.retries = sdk_wire.COUNTS.retries
    return outcome
