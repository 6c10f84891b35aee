"""The official SDK's sync REST client (``pinecone.Index``) running the documented loops.

The loops are :mod:`sdk_loops`; this module builds the client as a user would: ``Index(host=...)``,
a small connection pool (one request in flight at a time), progress off. The copy's target is a
second ``Index`` with the target project's key.
"""

from __future__ import annotations

from pinecone import Index

from benchmarks.harness.contenders import sdk_wire
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.contenders.sdk_loops import run_loop
from benchmarks.harness.spec import WorkerSpec

__all__ = ["run"]


def run(spec: WorkerSpec) -> Outcome:
    sdk_wire.install_counters()
    index = Index(host=spec.host, api_key=spec.api_key, connection_pool_maxsize=4)
    target = None
    if spec.target_host:
        target = Index(host=spec.target_host, api_key=spec.target_api_key, connection_pool_maxsize=4)
    try:
        return run_loop(spec, index, target)
    finally:
        index.close()
        if target is not None:
            target.close()
