"""The official SDK's gRPC client (pinecone 10.2.0, ``from pinecone.grpc import PineconeGRPC as
Pinecone``, sync) against ``bulkops serve``'s gRPC data plane, with ``PINECONE_GRPC_SCHEME=http``
and no other change: the seed docs' Python data-plane examples make the same calls and get the
documented answers. The seed docs have no upsert or describe_index_stats example; those are written
in the same style.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pinecone.grpc import PineconeGRPC as Pinecone

from bulkops.models import Record
from bulkops.server import ServerConfig, ServerThread
from tests.server.certificates import HAVE_OPENSSL, make_certificates

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

API_KEY = "seed-docs-grpc-key"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PINECONE_GRPC_SCHEME", "http")
        with ServerThread(ServerConfig(api_key=API_KEY)) as srv:
            yield srv


@pytest.fixture
def index_host(server: ServerThread, request: pytest.FixtureRequest) -> str:
    """A fresh dense index of dimension 3 per test, as the docs' examples assume one exists."""
    name = request.node.name.replace("_", "-")[:40].strip("-").lower()
    return server.create_index_direct(name, 3)


def _docs_records() -> list[Record]:
    return [
        Record("id-1", (0.1, 0.2, 0.3), metadata={"genre": "documentary", "year": 2019}),
        Record("id-2", (0.4, 0.5, 0.6), metadata={"genre": "drama", "year": 2020}),
        Record("id-3", (0.7, 0.8, 0.9), metadata={"genre": "documentary", "year": 2021}),
    ]


def test_upsert_then_describe_index_stats(server: ServerThread, index_host: str) -> None:
    pc = Pinecone(api_key=API_KEY)
    index = pc.Index(host=index_host)
    answer = index.upsert(
        vectors=[
            {"id": "A", "values": [0.1, 0.1, 0.1], "metadata": {"genre": "comedy", "year": 2020}},
            ("B", [0.2, 0.2, 0.2], {"genre": "documentary"}),
            ("C", [0.3, 0.3, 0.3]),
        ],
        namespace="example-namespace",
    )
    assert answer.upserted_count == 3
    index.upsert(vectors=[("D", [0.4, 0.4, 0.4])])
    stats = index.describe_index_stats()
    assert stats.dimension == 3
    assert stats.total_vector_count == 4
    assert {name: summary.vector_count for name, summary in stats.namespaces.items()} == {
        "__default__": 1,
        "example-namespace": 3,
    }
    (record,) = server.get_records(_name(server, index_host), "example-namespace", ["A"])
    assert record.metadata == {"genre": "comedy", "year": 2020}


def _name(server: ServerThread, host: str) -> str:
    return next(name for name in server.server.indexes if server.index_host(name) == host)


def test_fetch(server: ServerThread, index_host: str) -> None:
    server.seed(_name(server, index_host), "example-namespace", _docs_records())
    pc = Pinecone(api_key=API_KEY)
    index = pc.Index(host=index_host)
    fetched = index.fetch(ids=["id-1", "id-2"], namespace="example-namespace")
    assert sorted(fetched.vectors) == ["id-1", "id-2"]
    assert fetched.vectors["id-1"].values == pytest.approx([0.1, 0.2, 0.3])
    assert fetched.vectors["id-1"].metadata == {"genre": "documentary", "year": 2019}
    assert fetched.namespace == "example-namespace"
    assert fetched.usage is not None
    assert fetched.usage.read_units == 1


def test_delete_by_ids_by_filter_and_all(server: ServerThread, index_host: str) -> None:
    name = _name(server, index_host)
    server.seed(name, "example-namespace", _docs_records())
    pc = Pinecone(api_key=API_KEY)
    index = pc.Index(host=index_host)
    index.delete(ids=["id-1", "id-2"], namespace="example-namespace")
    assert server.ids(name, "example-namespace") == ["id-3"]
    server.seed(name, "example-namespace", _docs_records()[:2])
    index.delete(filter={"genre": {"$eq": "documentary"}}, namespace="example-namespace")
    assert server.ids(name, "example-namespace") == ["id-2"]
    index.delete(delete_all=True, namespace="example-namespace")
    assert server.ids(name, "example-namespace") == []


def test_list_with_implicit_pagination(server: ServerThread, index_host: str) -> None:
    ids = [f"doc{d}#chunk{c}" for d in (1, 2) for c in range(1, 7)]
    server.seed(_name(server, index_host), "example-namespace", [Record(i, (0.1, 0.1, 0.1)) for i in ids])
    pc = Pinecone(api_key=API_KEY)
    index = pc.Index(host=index_host)
    # SDK 10 yields pages of ListItem where the docs' older SDK printed lists of IDs.
    pages = [[item.id for item in page] for page in index.list(namespace="example-namespace", limit=3)]
    assert pages[0] == ["doc1#chunk1", "doc1#chunk2", "doc1#chunk3"]
    assert pages[1] == ["doc1#chunk4", "doc1#chunk5", "doc1#chunk6"]
    assert [i for page in pages for i in page] == ids
    by_prefix = [
        [item.id for item in page] for page in index.list(prefix="doc2#", namespace="example-namespace")
    ]
    assert by_prefix == [ids[6:]]


def test_list_with_manual_pagination(server: ServerThread, index_host: str) -> None:
    ids = [f"10103-{n}" for n in range(11)]
    server.seed(_name(server, index_host), "example-namespace", [Record(i, (0.1, 0.1, 0.1)) for i in ids])
    pc = Pinecone(api_key=API_KEY)
    index = pc.Index(host=index_host)
    results = index.list_paginated(prefix="10103", limit=3, namespace="example-namespace")
    assert results.namespace == "example-namespace"
    assert [v.id for v in results.vectors] == ["10103-0", "10103-1", "10103-10"]  # bitwise order
    assert results.pagination is not None
    assert results.pagination.next
    assert results.usage is not None
    assert results.usage.read_units == 1
    seen = [v.id for v in results.vectors]
    while results.pagination is not None:
        results = index.list_paginated(
            prefix="10103", limit=3, namespace="example-namespace", pagination_token=results.pagination.next
        )
        seen += [v.id for v in results.vectors]
    assert [v.id for v in results.vectors] == ["10103-8", "10103-9"]  # the last page has no token
    assert seen == sorted(ids)


def test_default_namespace_and_a_wrong_key(server: ServerThread, index_host: str) -> None:
    from pinecone.errors import PineconeError

    server.seed(_name(server, index_host), "", _docs_records())
    index = Pinecone(api_key=API_KEY).Index(host=index_host)
    assert sorted(index.fetch(ids=["id-1", "id-3"], namespace="__default__").vectors) == ["id-1", "id-3"]
    with pytest.raises(PineconeError, match="UNAUTHENTICATED"):
        Pinecone(api_key="not-the-key").Index(host=index_host).fetch(ids=["id-1"])


SDK_OVER_TLS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pinecone.grpc import PineconeGRPC
    from bulkops.server import ServerConfig, ServerThread

    config = ServerConfig(tls_cert=Path(sys.argv[1]), tls_key=Path(sys.argv[2]))
    with ServerThread(config) as server:
        host = server.create_index_direct("secure", 2)
        index = PineconeGRPC(api_key="k").Index(host=host)
        index.upsert(vectors=[("a", [1.0, 2.0])], show_progress=False, timeout=10)
        print(host.split(":")[0], index.fetch(ids=["a"], timeout=10).vectors["a"].values)
    """
)


@pytest.mark.skipif(not HAVE_OPENSSL, reason="needs the openssl binary")
def test_sdk_grpc_over_tls_with_its_default_scheme(tmp_path: Path) -> None:
    """No PINECONE_GRPC_SCHEME: the SDK speaks TLS to the https host; it trusts the test CA through
    SSL_CERT_FILE (its gRPC channel uses the system's roots), in a fresh process."""
    ca, cert, key = make_certificates(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PINECONE_GRPC_SCHEME"} | {"SSL_CERT_FILE": str(ca)}
    done = subprocess.run(
        [sys.executable, "-c", SDK_OVER_TLS, str(cert), str(key)],
        capture_output=True, text=True, timeout=90, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "https [1.0, 2.0]"
