"""The official SDK against injected faults, over REST (``Pinecone``) and gRPC (``PineconeGRPC``).
Each scenario runs in a fresh Python process: the SDK keeps a process-global retry budget per host,
which earlier failures would drain."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.timeout(90), pytest.mark.integration]

SCRIPT = textwrap.dedent(
    """
    import sys
    from pinecone import Pinecone
    from pinecone.errors import PineconeError
    from bulkops.models import Record
    from bulkops.server import ServerConfig, ServerThread, parse_faults

    with ServerThread(ServerConfig(faults=parse_faults(sys.argv[1]))) as server:
        server.create_index_direct("faults", 2)
        server.seed("faults", "ns", [Record(f"r{i}", (1.0, float(i))) for i in range(5)])
        index = Pinecone(api_key="k", host=server.url).Index(host=server.index_host("faults"))
        try:
            page = index.list_paginated(namespace="ns")
            fetched = index.fetch(ids=["r1", "r2"], namespace="ns")
            print("OK", len(page.vectors), sorted(fetched.vectors))
        except PineconeError as exc:
            print("ERR", type(exc).__name__, str(exc)[:200])
    """
)


# The SDK's gRPC client retries UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED only; per attempt it
# waits at most ``timeout`` seconds. Its default backoff is decorrelated jitter capped at 60 s, so
# five retries took anywhere from 4 s to over 80 s here; the script keeps the count and the floor
# and caps each wait at 0.5 s. The upsert runs first so after- faults on it can be checked.
GRPC_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["PINECONE_GRPC_SCHEME"] = "http"
    from pinecone.grpc import PineconeGRPC
    from pinecone import RetryConfig
    from pinecone.errors import PineconeError
    from bulkops.models import Record
    from bulkops.server import ServerConfig, ServerThread, parse_faults

    retries = RetryConfig(max_retries=5, backoff_factor=0.1, max_wait=0.5)
    with ServerThread(ServerConfig(faults=parse_faults(sys.argv[1]))) as server:
        server.create_index_direct("faults", 2)
        server.seed("faults", "ns", [Record(f"r{i}", (1.0, float(i))) for i in range(5)])
        client = PineconeGRPC(api_key="k", host=server.url, retry_config=retries)
        index = client.Index(host=server.index_host("faults"))
        try:
            up = index.upsert(vectors=[("new", [1.0, 2.0])], namespace="ns", timeout=2, show_progress=False)
            page = index.list_paginated(namespace="ns", timeout=2)
            fetched = index.fetch(ids=["r1", "r2"], namespace="ns", timeout=2)
            print("OK", up.upserted_count, len(page.vectors), sorted(fetched.vectors))
        except PineconeError as exc:
            print("ERR", type(exc).__name__, str(exc)[:200], "new" in server.ids("faults", "ns"))
    """
)


def _run(faults: str, script: str = SCRIPT) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, faults], capture_output=True, text=True, timeout=80, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("faults", ["500@list#1", "503@fetch#1#2", "429@list#1", "reset@fetch#1"])
def test_sdk_retries_transient_faults_and_succeeds(faults: str) -> None:
    assert _run(faults) == "OK 5 ['r1', 'r2']"


def test_sdk_gives_up_on_a_persistent_fault_with_its_service_error() -> None:
    out = _run("503@list#1#2#3#4#5#6#7#8")
    assert out.startswith("ERR ServiceError")
    assert "Service unavailable (injected fault)" in out


@pytest.mark.parametrize(
    "faults", ["503@list#1", "429@fetch#1#2", "after-503@upsert#1", "after-429@upsert#1"]
)
def test_sdk_grpc_retries_unavailable_and_resource_exhausted(faults: str) -> None:
    assert _run(faults, GRPC_SCRIPT) == "OK 1 6 ['r1', 'r2']"  # an after- fault's retry wrote once


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        ("500@list#1", "ERR ServiceError [500 INTERNAL] Internal server error (injected fault) True"),
        ("reset@fetch#1", "ERR ServiceError [500 UNKNOWN] transport error True"),  # the connection dropped
        ("after-reset@upsert#1", "ERR ServiceError [500 UNKNOWN] transport error True"),  # yet written
        ("503@list#1#2#3#4#5#6#7#8", "ERR PineconeConnectionError Service unavailable (injected fault) True"),
    ],
)
def test_sdk_grpc_surfaces_what_it_does_not_retry(faults: str, expected: str) -> None:
    assert _run(faults, GRPC_SCRIPT) == expected


def test_sdk_grpc_raises_its_timeout_error_when_the_server_stalls_past_the_deadline() -> None:
    """Two clocks race here: the SDK's own per-attempt timer ("Timeout expired") and the deadline it
    sends, which the server enforces by ending the call ("Deadline Exceeded"). Either wins on a
    loaded machine; both are the SDK's timeout error, after one attempt, with the upsert kept."""
    out = _run("stall=5@list#1", GRPC_SCRIPT)
    assert out in {
        "ERR PineconeTimeoutError Timeout expired True",
        "ERR PineconeTimeoutError Deadline Exceeded True",
    }
