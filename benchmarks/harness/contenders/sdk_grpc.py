"""The official SDK's own gRPC client, the strongest peer: ``from pinecone.grpc import PineconeGRPC``.

Exactly the seed docs' setup: ``PineconeGRPC(api_key=...)`` then ``pc.Index(host=...)``, sync, with
``PINECONE_GRPC_SCHEME=http`` in the environment (the runner sets it) so the SDK dials the local
server's plaintext HTTP/2. It runs the same documented loops as the REST client (:mod:`sdk_loops`); the
loop counts its own calls (the channel's retries are internal). Against a server that does not speak
gRPC it fails on its first data-plane call: that failure is its recorded result.
"""

from __future__ import annotations

from pinecone.grpc import PineconeGRPC

from benchmarks.harness.contenders import sdk_wire
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.contenders.sdk_loops import run_loop
from benchmarks.harness.spec import WorkerSpec

__all__ = ["run"]

_CALLS = ("list_paginated", "list_namespaces_paginated", "fetch", "upsert", "delete")


def run(spec: WorkerSpec) -> Outcome:
    sdk_wire.install_grpc_counters()
    index = sdk_wire.count_calls(PineconeGRPC(api_key=spec.api_key).Index(host=spec.host), *_CALLS)
    target = None
    if spec.target_host:
        target = PineconeGRPC(api_key=spec.target_api_key).Index(host=spec.target_host)
        sdk_wire.count_calls(target, *_CALLS)
    try:
        outcome = run_loop(spec, index, target)
    finally:
        index.close()
        if target is not None:
            target.close()
    outcome.transport = "grpc"
    return outcome
