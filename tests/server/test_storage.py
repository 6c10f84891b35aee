"""The index store's layouts and its cached fetch answers: what a fetch returns, whichever path built it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import orjson
import pytest

from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import struct_from_dict, struct_to_dict
from bulkops.server.grpc_service.messages import PROTO_ANSWER
from bulkops.server.storage import JSON_ANSWER, IndexStore, StoredRecord

# The layout of stores written before the rowid table: whole rows in a WITHOUT ROWID b-tree.
_OLD_LAYOUT = """
CREATE TABLE records (
    ns TEXT NOT NULL, id TEXT NOT NULL, vals BLOB, sparse BLOB, meta BLOB, dead_at REAL, written_at REAL,
    PRIMARY KEY (ns, id)
) WITHOUT ROWID;
"""


def _record(n: int) -> StoredRecord:
    values = np.full(4, n, dtype=np.float32).tobytes()
    return StoredRecord(f"id-{n:03d}", values, None, orjson.dumps({"n": n, "tags": ["a", "b"]}))


def _exercise(store: IndexStore) -> None:
    store.upsert("ns", [_record(n) for n in range(20)], now=1.0)
    assert store.list_ids("ns", "id-00", None, 5, now=1.0) == [f"id-00{n}" for n in range(5)]
    assert [r.id for r in store.get("ns", ["id-003", "id-999"], now=1.0)] == ["id-003"]
    assert store.delete_ids("ns", ["id-000", "id-001"], dead_at=5.0) == 2
    assert store.list_ids("ns", "", None, 3, now=2.0)[0] == "id-000"  # soft-deleted: visible until 5
    assert store.list_ids("ns", "", None, 3, now=6.0)[0] == "id-002"
    assert store.count("ns") == 18


def test_a_new_store_keeps_its_rows_in_a_rowid_table_with_the_blobs_last(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "new.db")
    _exercise(store)
    store.close()
    db = sqlite3.connect(tmp_path / "new.db")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()[0]
    columns = [row[1] for row in db.execute("PRAGMA table_info(records)")]
    assert "WITHOUT ROWID" not in sql
    assert columns == ["ns", "id", "dead_at", "written_at", "vals", "sparse", "meta", "meta_pb"]


def test_a_store_in_the_old_layout_works_as_it_is(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db")
    db.executescript(_OLD_LAYOUT)
    db.close()
    store = IndexStore(tmp_path / "old.db")
    _exercise(store)
    store.close()
    db = sqlite3.connect(tmp_path / "old.db")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()[0]
    assert "WITHOUT ROWID" in sql
    assert "meta_pb" in [row[1] for row in db.execute("PRAGMA table_info(records)")]


@pytest.mark.parametrize("encoding", [PROTO_ANSWER, JSON_ANSWER], ids=lambda e: e.name)
def test_cached_and_uncached_answers_are_the_same_records(encoding: object) -> None:
    store = IndexStore(None)
    store.upsert("ns", [_record(n) for n in range(10)], now=1.0)
    store.delete_ids("ns", ["id-009"], dead_at=None)
    store.delete_ids("ns", ["id-008"], dead_at=3.0)  # visible until 3
    wanted = [f"id-{n:03d}" for n in (7, 8, 9, 2, 7)]
    cold = store.get_encoded("ns", wanted, 2.0, encoding)  # type: ignore[arg-type]
    assert sorted(record_id for record_id, _ in cold) == ["id-002", "id-007", "id-008"]
    warm = store.get_encoded("ns", wanted, 2.0, encoding)  # type: ignore[arg-type]  # all cached now
    assert sorted(warm) == sorted(cold)
    later = store.get_encoded("ns", wanted, 4.0, encoding)  # type: ignore[arg-type]  # id-008 gone
    assert sorted(record_id for record_id, _ in later) == ["id-002", "id-007"]


def test_a_fetch_entry_is_the_message_protobuf_writes() -> None:
    small, big = np.arange(5, dtype=np.float32).tobytes(), np.ones(1536, dtype=np.float32).tobytes()
    records = [
        StoredRecord("a#1", small, None, orjson.dumps({"x": 1, "s": "é" * 90})),
        StoredRecord("b", None, orjson.dumps({"indices": [1, 300], "values": [0.5, 2.0]}), None),
        StoredRecord("c" * 200, big, None, orjson.dumps({"t": "x" * 300})),
        StoredRecord("d", None, None, orjson.dumps({"l": [1, "b", None, {"z": True}], "n": None, "f": 1.5})),
    ]
    for record in records:
        expected = pb.FetchResponse()
        vector = expected.vectors[record.id]
        vector.id = record.id
        if record.values:
            vector.values = record.values
        if record.metadata is not None:
            struct_from_dict(orjson.loads(record.metadata), into=vector.metadata)
        if record.sparse is not None:
            sparse = orjson.loads(record.sparse)
            vector.sparse_values.indices.extend(sparse["indices"])
            vector.sparse_values.values.extend(sparse["values"])
        assert PROTO_ANSWER.encode(record) == expected.SerializeToString()


def _fetched_metadata(store: IndexStore, record_id: str) -> dict[str, object]:
    [(_, entry)] = store.get_encoded("ns", [record_id], None, PROTO_ANSWER)
    return dict(struct_to_dict(pb.FetchResponse.FromString(entry).vectors[record_id].metadata))


def test_a_stored_struct_is_answered_as_it_is_until_the_metadata_changes() -> None:
    store = IndexStore(None)
    kept = struct_from_dict({"kept": "as sent"}).SerializeToString()
    rows = [
        StoredRecord(f"id-{n}", None, None, orjson.dumps({"json": n}), kept if n < 3 else None)
        for n in range(4)
    ]
    store.upsert("ns", rows, now=1.0)
    assert _fetched_metadata(store, "id-0") == {"kept": "as sent"}  # the Struct the writer stored
    assert _fetched_metadata(store, "id-3") == {"json": 3}  # none stored: built from the JSON
    assert store.update("ns", "id-1", None, None, orjson.dumps({"json": "updated"}))
    store.set_metadata_many("ns", [("id-2", orjson.dumps({"json": "by filter"}))])
    assert _fetched_metadata(store, "id-1") == {"json": "updated"}
    assert _fetched_metadata(store, "id-2") == {"json": "by filter"}
    assert store.update("ns", "id-0", np.ones(1, dtype=np.float32).tobytes(), None, None)
    assert _fetched_metadata(store, "id-0") == {"kept": "as sent"}  # values changed, metadata did not
