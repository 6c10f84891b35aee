"""The official SDK's documented synchronous loops, over either of its sync index clients.

Written as its docstrings and guides show them; the REST ``Index`` (:mod:`sdk_sync`) and the gRPC
``GrpcIndex`` (:mod:`sdk_grpc`) have the same methods, so one loop serves both:

- purge by prefix:  ``for page in index.list(prefix=...): index.delete(ids=[ids of page])``
- purge by IDs:     ``index.delete(ids=chunk)`` for chunks of 1000
- export by prefix: ``for page in index.list(prefix=...): index.fetch(ids=...)`` → JSONL / Parquet
- export by IDs:    ``index.fetch(ids=chunk)`` for chunks of 1000 → JSONL / Parquet
- import:           ``index.upsert(vectors=batch)`` per batch of ≤ 1000 records and ≤ 2 MB on its wire
                    (sized from the first record: :func:`sdk_wire.upsert_chunks`)
- copy:             list → fetch on the source, ``target.upsert(vectors=fetched)`` in such batches
- many namespaces:  ``for page in index.list_namespaces(): for ns in page.namespaces:`` the loop above

One request in flight at a time (that is the loop). Each loop stops at the spec's time budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from benchmarks.harness.contenders import sdk_wire
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import WorkerSpec, transport_of

__all__ = ["run_loop"]


class _Budget(Exception):
    pass


def run_loop(spec: WorkerSpec, index: Any, target: Any = None) -> Outcome:
    """Run ``spec``'s scenario with ``index`` (and ``target``, the copy's destination)."""
    deadline = time.perf_counter() + spec.budget_s
    outcome = Outcome()
    wire = transport_of(spec.contender)

    def tick(done: int) -> None:
        outcome.processed += done
        if time.perf_counter() >= deadline:
            outcome.stopped_by_budget = True
            raise _Budget

    def pages(ns: str, prefix: str | None) -> Iterator[list[str]]:
        for page in index.list(prefix=prefix, namespace=ns):
            yield [str(item.id) for item in page.vectors]

    def namespaces() -> Iterator[str]:
        if not spec.many_namespaces:
            yield spec.namespace
            return
        for page in index.list_namespaces():
            for description in page.namespaces:
                yield str(description.name)

    def id_batches() -> Iterator[tuple[str, list[str]]]:
        if spec.scenario.endswith("-ids"):
            assert spec.ids_file
            size = int(spec.extra.get("fetch_batch", 1000))
            for chunk in sdk_wire.chunks(sdk_wire.read_ids(spec.ids_file), size):
                yield spec.namespace, chunk
            return
        prefix = None if spec.many_namespaces else spec.prefix
        for ns in namespaces():
            for ids in pages(ns, prefix):
                yield ns, ids

    try:
        if spec.scenario.startswith("purge"):
            for ns, ids in id_batches():
                index.delete(ids=ids, namespace=ns)
                tick(len(ids))
        elif spec.scenario.startswith("export"):
            assert spec.output_file
            with sdk_wire.RecordOut(spec.output_file, spec.format) as out:
                for ns, ids in id_batches():
                    tick(out.write(ns, index.fetch(ids=ids, namespace=ns).vectors.values()))
        elif spec.scenario.startswith("copy"):
            for ns, ids in id_batches():
                fetched = list(index.fetch(ids=ids, namespace=ns).vectors.values())
                for batch in sdk_wire.upsert_chunks(fetched, wire):
                    target.upsert(vectors=batch, namespace=ns, show_progress=False)
                    tick(len(batch))
        elif spec.scenario == "import":
            assert spec.input_file
            for batch in sdk_wire.upsert_chunks(sdk_wire.read_input(spec.input_file, spec.format), wire):
                index.upsert(vectors=batch, namespace=spec.namespace, show_progress=False)
                tick(len(batch))
        else:
            raise ValueError(f"the SDK loops do not run scenario {spec.scenario}")
    except _Budget:
        pass
    outcome.requests = sdk_wire.COUNTS.attempts
    outcome.http_429 = sdk_wire.COUNTS.http_429
    outcome.retries = sdk_wire.COUNTS.retries
    return outcome
