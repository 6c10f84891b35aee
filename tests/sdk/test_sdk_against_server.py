"""The official pinecone SDK (10.2.0, sync) against the local server, over http://127.0.0.1:PORT.

The SDK speaks API 2026-07 to the control plane and parses answers strictly (msgspec): every call
here failing to parse would raise. The server runs on a background thread (ServerThread).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pinecone import Pinecone, ServerlessSpec
from pinecone.errors import ForbiddenError, NotFoundError

from bulkops.server import ServerConfig, ServerThread

pytestmark = [pytest.mark.timeout(60), pytest.mark.integration]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(backup_ready_ms=0, restore_ms=0)) as srv:
        yield srv


@pytest.fixture(scope="module")
def pc(server: ServerThread) -> Pinecone:
    return Pinecone(api_key="local-key", host=server.url)


def _create(pc: Pinecone, name: str, **kw: object) -> None:
    pc.create_index(
        name, dimension=4, metric="cosine", spec=ServerlessSpec(cloud="aws", region="us-east-1"), **kw
    )


def test_index_lifecycle_with_deletion_protection(pc: Pinecone) -> None:
    _create(pc, "life", deletion_protection="enabled", tags={"env": "dev", "team": "a"})
    model = pc.describe_index("life")
    assert model.host.startswith("http://127.0.0.1:")
    assert (model.dimension, model.metric, model.deletion_protection) == (4, "cosine", "enabled")
    assert model.status.ready
    configured = pc.configure_index("life", tags={"team": "", "owner": "me"})
    assert dict(configured.tags or {}) == {"env": "dev", "owner": "me"}
    assert "life" in [m.name for m in pc.list_indexes()]
    with pytest.raises(ForbiddenError, match="Deletion protection is enabled"):
        pc.delete_index("life")
    pc.configure_index("life", deletion_protection="disabled")
    pc.delete_index("life")
    assert not pc.has_index("life")
    with pytest.raises(NotFoundError):
        pc.describe_index("life")


def test_records_upsert_list_fetch_delete(pc: Pinecone, server: ServerThread) -> None:
    _create(pc, "recs")
    index = pc.Index(name="recs")
    vectors = [
        (
            f"doc{i // 5}#chunk{i % 5}",
            [float(i), 1.0, 0.0, 1.0],
            {"genre": "drama" if i % 2 else "news", "i": i},
        )
        for i in range(20)
    ]
    assert index.upsert(vectors=vectors, namespace="ns").upserted_count == 20
    page = index.list_paginated(namespace="ns", prefix="doc1#", limit=3)
    assert [v.id for v in page.vectors] == ["doc1#chunk0", "doc1#chunk1", "doc1#chunk2"]
    assert page.pagination is not None
    rest = index.list_paginated(
        namespace="ns", prefix="doc1#", limit=3, pagination_token=page.pagination.next
    )
    assert [v.id for v in rest.vectors] == ["doc1#chunk3", "doc1#chunk4"]
    assert rest.pagination is None
    listed = [v.id for page_ids in index.list(namespace="ns", limit=7) for v in page_ids.vectors]
    assert listed == sorted(v[0] for v in vectors)
    fetched = index.fetch(ids=["doc0#chunk1", "missing"], namespace="ns")
    assert list(fetched.vectors) == ["doc0#chunk1"]
    assert fetched.vectors["doc0#chunk1"].values == [1.0, 1.0, 0.0, 1.0]
    assert fetched.vectors["doc0#chunk1"].metadata == {"genre": "drama", "i": 1}
    index.delete(ids=["doc0#chunk0", "doc0#chunk1"], namespace="ns")
    index.delete(filter={"genre": {"$eq": "drama"}}, namespace="ns")
    assert server.ids("recs", "ns") == sorted(v[0] for v in vectors[2:] if v[2]["genre"] == "news")
    stats = index.describe_index_stats()
    assert stats.total_vector_count == 9
    assert stats.dimension == 4
    index.delete(delete_all=True, namespace="ns")
    assert server.ids("recs", "ns") == []
    with pytest.raises(NotFoundError):
        index.delete(ids=["x"], namespace="never-created")


def test_namespaces_fetch_by_metadata_query_update(pc: Pinecone, server: ServerThread) -> None:
    _create(pc, "nsx")
    index = pc.Index(host=server.index_host("nsx"))
    index.upsert(
        vectors=[(f"r{i}", [1.0, float(i), 0.0, 0.0], {"rating": i}) for i in range(6)], namespace="a"
    )
    index.upsert(vectors=[("x", [0.0, 0.0, 1.0, 0.0])])
    index.create_namespace(name="empty")
    names = [n.name for page in index.list_namespaces() for n in page.namespaces]
    assert names == ["__default__", "a", "empty"]
    assert index.describe_namespace(name="a").record_count == 6
    result = index.fetch_by_metadata(filter={"rating": {"$lt": 3}}, namespace="a", limit=2)
    assert sorted(result.vectors) == ["r0", "r1"]
    assert result.pagination is not None
    more = index.fetch_by_metadata(
        filter={"rating": {"$lt": 3}}, namespace="a", limit=2, pagination_token=result.pagination.next
    )
    assert list(more.vectors) == ["r2"]
    top = index.query(vector=[1.0, 0.0, 0.0, 0.0], top_k=2, namespace="a", include_metadata=True)
    assert [m.id for m in top.matches] == ["r0", "r1"]
    index.update(id="r0", set_metadata={"rating": 10}, namespace="a")
    assert server.get_records("nsx", "a", ["r0"])[0].metadata == {"rating": 10}
    index.delete_namespace(name="empty")
    assert [n.name for page in index.list_namespaces() for n in page.namespaces] == ["__default__", "a"]


def test_backups_and_restore(pc: Pinecone, server: ServerThread) -> None:
    _create(pc, "src")
    index = pc.Index(name="src")
    index.upsert(vectors=[(f"v{i}", [1.0, 0.0, 0.0, float(i)]) for i in range(5)], namespace="n1")
    index.upsert(vectors=[("w", [1.0, 1.0, 1.0, 1.0])], namespace="n2")
    backup = pc.create_backup(index_name="src", backup_name="nightly", description="d")
    described = pc.describe_backup(backup_id=backup.backup_id)
    assert (described.status, described.record_count, described.namespace_count) == ("Ready", 6, 2)
    assert described.size_bytes
    assert described.size_bytes > 0
    index.upsert(vectors=[("after", [1.0, 0.0, 0.0, 0.0])], namespace="n1")  # not in the snapshot
    assert backup.backup_id in [b.backup_id for b in pc.list_backups(index_name="src")]
    assert backup.backup_id in [b.backup_id for b in pc.list_backups()]
    job = pc.create_index_from_backup(backup_id=backup.backup_id, name="restored", timeout=-1)
    described_job = pc.describe_restore_job(job_id=job.restore_job_id)
    assert described_job.target_index_name == "restored"
    assert described_job.status == "Completed"
    assert described_job.percent_complete == 100.0
    assert job.restore_job_id in [j.restore_job_id for j in pc.list_restore_jobs(limit=3)]
    assert server.ids("restored", "n1") == [f"v{i}" for i in range(5)]
    assert server.ids("restored", "n2") == ["w"]
    pc.delete_backup(backup_id=backup.backup_id)
    with pytest.raises(NotFoundError):
        pc.describe_backup(backup_id=backup.backup_id)


async def test_async_sdk_in_the_servers_own_loop() -> None:
    from pinecone import AsyncPinecone

    from bulkops.server import serve_local

    async with serve_local(ServerConfig()) as server, AsyncPinecone(api_key="k", host=server.url) as apc:
        await apc.create_index(
            "aio", dimension=2, metric="cosine", spec=ServerlessSpec(cloud="aws", region="us-east-1")
        )
        async with apc.IndexAsyncio(host=server.index_host("aio")) as index:
            assert (
                await index.upsert(vectors=[("x", [1.0, 2.0]), ("y", [3.0, 4.0])], namespace="n")
            ).upserted_count == 2
            page = await index.list_paginated(namespace="n", limit=1)
            assert [v.id for v in page.vectors] == ["x"]
            assert page.pagination is not None
            fetched = await index.fetch(ids=["y"], namespace="n")
            assert fetched.vectors["y"].values == [3.0, 4.0]
            await index.delete(ids=["x"], namespace="n")
        assert server.ids("aio", "n") == ["y"]
