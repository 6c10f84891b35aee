"""One index's records in SQLite: WAL on disk (or in memory), vectors as float32 blobs.

``PRIMARY KEY(ns, id)`` is an index in BINARY collation, which is Pinecone's bitwise ID order, so
``list`` is a keyset range scan of it. The table is a rowid table with the small columns first
(``dead_at``, ``written_at``) and the blobs last: its rows (~7 KB at dimension 1536) spill into
overflow pages, and a ``WITHOUT ROWID`` table keeps whole rows in its b-tree (interior pages
included), so every key lookup went ~8 levels deep through pages holding a few rows each. Measured
(55,000 rows at 1536, 1,000 IDs of a fetch): visible IDs 6.2 → 1.6 ms, whole rows 8.5 → 4.5 ms,
inserts 2.5× faster (``docs/decisions/0010-export-cpu.md``). Stores written before keep their
``WITHOUT ROWID`` layout and work as they are (every statement names its columns). Metadata and
sparse values are stored as their JSON bytes so answers can embed them without decoding; metadata
also as the ``Struct`` a gRPC answer carries (``meta_pb``), when the writer had it at hand (a gRPC
upsert's own bytes, direct seeding): building a ``Struct`` is most of a gRPC fetch's CPU (~10 of
~16 ms per 1,000 records at ~1 KB of metadata) and every export pays it once per record. Rows
without it (REST upserts, imports, metadata updates, stores written before the column) get it built
at fetch time, as before.

Every write is one transaction, so an acknowledged write survives a SIGKILL (WAL, synchronous=NORMAL
is durable against process death). Deletes under a consistency lag are soft: the row gets
``dead_at`` and stays visible to list/fetch until then; counts exclude it at once. ``written_at`` is
when a record was last upserted (wall clock; NULL for rows written before the column existed): a
backup leaves out the records written within the server's backup freshness window.

Formatting floats as JSON is the most expensive part of a fetch (about 3.7 ms per 1000 x 128
values), so each store keeps an in-memory cache of every record's encoded answer (the vector object
a fetch returns), per :class:`AnswerEncoding` (REST's JSON, gRPC's protobuf): filled on first fetch
(and, for the encoding a writer names, on write), dropped on any change to the record, bounded by
``ANSWER_CACHE_BYTES`` per encoding.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson

__all__ = ["JSON_ANSWER", "LAYOUT", "AnswerEncoding", "IndexStore", "StoredRecord"]

LAYOUT = 2
"""The table layout new stores get (1: ``WITHOUT ROWID``, blobs before ``dead_at``; 2: see above).
Tools that keep stores on disk for reuse (the benchmark templates) name them by it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    ns TEXT NOT NULL, id TEXT NOT NULL, dead_at REAL, written_at REAL, vals BLOB, sparse BLOB, meta BLOB,
    meta_pb BLOB, PRIMARY KEY (ns, id)
);
CREATE INDEX IF NOT EXISTS records_dead ON records (dead_at) WHERE dead_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS namespaces (ns TEXT PRIMARY KEY, created_at REAL NOT NULL) WITHOUT ROWID;
"""
_LIVE = "(dead_at IS NULL OR dead_at > ?)"
_CHUNK = 900  # SQL parameters per IN list, under every SQLite build's limit
ANSWER_CACHE_BYTES = 256 * 1024 * 1024  # per index and per encoding


class StoredRecord(NamedTuple):
    """A row as stored: float32 bytes, and sparse values / metadata as JSON bytes (``metadata_pb``:
    the same metadata as a serialized ``google.protobuf.Struct``, when known)."""

    id: str
    values: bytes | None
    sparse: bytes | None
    metadata: bytes | None
    metadata_pb: bytes | None = None


def record_json(record_id: str, values: bytes | None, sparse: bytes | None, metadata: bytes | None) -> bytes:
    """The vector object fetch answers with: ``{"id", "values", "sparseValues"?, "metadata"?}``."""
    doc: dict[str, object] = {
        "id": record_id,
        "values": np.frombuffer(values, dtype=np.float32) if values is not None else [],
    }
    if sparse is not None:
        doc["sparseValues"] = orjson.Fragment(sparse)
    if metadata is not None:
        doc["metadata"] = orjson.Fragment(metadata)
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


class AnswerEncoding(NamedTuple):
    """How a transport encodes one record of a fetch answer; each encoding has its own cache."""

    name: str
    encode: Callable[[StoredRecord], bytes]


JSON_ANSWER = AnswerEncoding("json", lambda r: record_json(r.id, r.values, r.sparse, r.metadata))


class _AnswerCache:
    """Encoded answers of one encoding, by namespace and ID, within a byte budget."""

    __slots__ = ("by_ns", "size")

    def __init__(self) -> None:
        self.by_ns: dict[str, dict[str, bytes]] = {}
        self.size = 0

    def remember(self, ns: str, record_id: str, encoded: bytes) -> None:
        if self.size + len(encoded) <= ANSWER_CACHE_BYTES:
            self.by_ns.setdefault(ns, {})[record_id] = encoded
            self.size += len(encoded)

    def forget(self, ns: str, ids: Iterable[str]) -> None:
        cache = self.by_ns.get(ns)
        if cache:
            for record_id in ids:
                encoded = cache.pop(record_id, None)
                if encoded is not None:
                    self.size -= len(encoded)

    def forget_namespace(self, ns: str) -> None:
        cache = self.by_ns.pop(ns, None)
        if cache:
            self.size -= sum(len(encoded) for encoded in cache.values())


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix`` (UTF-8 order)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:
                nxt = 0xE000
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None


class IndexStore:
    """Records and namespaces of one index. Not thread-safe: use it from the server's loop only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA mmap_size=1073741824")  # reads served from the page cache
        self._db.execute("PRAGMA cache_size=-131072")  # up to 128 MB, allocated as needed
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(records)")}
        if "written_at" not in columns:  # a store written before the column existed
            self._db.execute("ALTER TABLE records ADD COLUMN written_at REAL")
        if "meta_pb" not in columns:
            self._db.execute("ALTER TABLE records ADD COLUMN meta_pb BLOB")
        self._answers: dict[str, _AnswerCache] = {}

    def _cache(self, encoding: AnswerEncoding) -> _AnswerCache:
        cache = self._answers.get(encoding.name)
        if cache is None:
            cache = self._answers[encoding.name] = _AnswerCache()
        return cache

    def _forget(self, ns: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        for cache in self._answers.values():
            cache.forget(ns, ids)

    def _forget_namespace(self, ns: str) -> None:
        for cache in self._answers.values():
            cache.forget_namespace(ns)

    def close(self) -> None:
        self._db.close()

    # -- namespaces -------------------------------------------------------------------------
    def namespace_exists(self, ns: str) -> bool:
        row = self._db.execute("SELECT 1 FROM namespaces WHERE ns = ?", (ns,)).fetchone()
        return row is not None

    def create_namespace(self, ns: str, now: float) -> bool:
        """Create ``ns``; False if it already existed."""
        cur = self._db.execute("INSERT OR IGNORE INTO namespaces (ns, created_at) VALUES (?, ?)", (ns, now))
        return cur.rowcount == 1

    def delete_namespace(self, ns: str) -> bool:
        self._forget_namespace(ns)
        with self._transaction():
            self._db.execute("DELETE FROM records WHERE ns = ?", (ns,))
            cur = self._db.execute("DELETE FROM namespaces WHERE ns = ?", (ns,))
        return cur.rowcount == 1

    def namespace_counts(self) -> dict[str, int]:
        """Every existing namespace with its live record count (0 for empty ones), in bitwise order.

        Every row counted from the key index alone, less the soft-deleted ones found through their
        partial index: filtering on ``dead_at`` in the count itself reads every row (47 ms for 55,000
        rows at dimension 1536, against 3 ms), and this answers every stats and namespaces call.
        """
        result: dict[str, int] = {row[0]: 0 for row in self._db.execute("SELECT ns FROM namespaces")}
        for ns, count in self._db.execute("SELECT ns, count(*) FROM records GROUP BY ns"):
            result[ns] = count
        for ns, dead in self._db.execute(
            "SELECT ns, count(*) FROM records INDEXED BY records_dead WHERE dead_at IS NOT NULL GROUP BY ns"
        ):
            result[ns] -= dead
        return dict(sorted(result.items()))

    def count(self, ns: str) -> int:
        """Live records in ``ns`` (counted as :meth:`namespace_counts` counts)."""
        total = self._db.execute("SELECT count(*) FROM records WHERE ns = ?", (ns,)).fetchone()[0]
        dead = self._db.execute(
            "SELECT count(*) FROM records INDEXED BY records_dead WHERE dead_at IS NOT NULL AND ns = ?", (ns,)
        ).fetchone()[0]
        return int(total) - int(dead)

    def size_bytes(self) -> int:
        row = self._db.execute(
            "SELECT coalesce(sum(length(id) + coalesce(length(vals), 0) + coalesce(length(sparse), 0)"
            " + coalesce(length(meta), 0)), 0) FROM records WHERE dead_at IS NULL"
        ).fetchone()
        return int(row[0])

    # -- writes -----------------------------------------------------------------------------
    def upsert(
        self, ns: str, records: Iterable[StoredRecord], now: float, warm: AnswerEncoding | None = None
    ) -> int:
        """Insert or replace ``records``; with ``warm``, cache their answers in that encoding at once."""
        batch = list(records)
        rows = [(ns, r.id, r.values, r.sparse, r.metadata, r.metadata_pb, now) for r in batch]
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO namespaces (ns, created_at) VALUES (?, ?)", (ns, now))
            self._db.executemany(
                "INSERT OR REPLACE INTO records (ns, id, vals, sparse, meta, meta_pb, dead_at, written_at)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                rows,
            )
        self._forget(ns, (r.id for r in batch))
        if warm is not None:
            cache = self._cache(warm)
            for r in batch:
                cache.remember(ns, r.id, warm.encode(r))
        return len(rows)

    def update(
        self, ns: str, record_id: str, values: bytes | None, sparse: bytes | None, metadata: bytes | None
    ) -> bool:
        """Replace the given parts of one live record; False if it does not exist."""
        sets, params = [], []
        for column, value in (("vals", values), ("sparse", sparse), ("meta", metadata)):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if metadata is not None:
            sets.append("meta_pb = NULL")  # built again from the new JSON when fetched
        if not sets:
            return self.get(ns, [record_id], now=None) != []
        self._forget(ns, [record_id])
        cur = self._db.execute(
            f"UPDATE records SET {', '.join(sets)} WHERE ns = ? AND id = ? AND dead_at IS NULL",
            (*params, ns, record_id),
        )
        return cur.rowcount == 1

    def set_metadata_many(self, ns: str, rows: Sequence[tuple[str, bytes]]) -> None:
        self._forget(ns, [record_id for record_id, _ in rows])
        with self._transaction():
            self._db.executemany(
                "UPDATE records SET meta = ?, meta_pb = NULL WHERE ns = ? AND id = ?",
                [(m, ns, i) for i, m in rows],
            )

    def delete_ids(self, ns: str, ids: Sequence[str], dead_at: float | None) -> int:
        """Delete (or, with ``dead_at``, soft-delete until then) the given IDs. Returns rows hit."""
        hit = 0
        if dead_at is None:
            self._forget(ns, ids)
        with self._transaction():
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                if dead_at is None:
                    cur = self._db.execute(
                        f"DELETE FROM records WHERE ns = ? AND id IN ({marks})", (ns, *chunk)
                    )
                else:
                    cur = self._db.execute(
                        "UPDATE records SET dead_at = ? WHERE ns = ? AND dead_at IS NULL"
                        f" AND id IN ({marks})",
                        (dead_at, ns, *chunk),
                    )
                hit += cur.rowcount
        return hit

    def delete_all(self, ns: str, dead_at: float | None) -> int:
        """Empty ``ns`` and forget it (Pinecone: deleting all records deletes the namespace)."""
        if dead_at is None:
            self._forget_namespace(ns)
        with self._transaction():
            if dead_at is None:
                cur = self._db.execute("DELETE FROM records WHERE ns = ?", (ns,))
            else:
                cur = self._db.execute(
                    "UPDATE records SET dead_at = ? WHERE ns = ? AND dead_at IS NULL", (dead_at, ns)
                )
            self._db.execute("DELETE FROM namespaces WHERE ns = ?", (ns,))
        return cur.rowcount

    def forget_written_after(self, moment: float) -> int:
        """Drop the records upserted after ``moment`` (a backup's freshness window); returns how many."""
        with self._transaction():
            cur = self._db.execute("DELETE FROM records WHERE written_at > ?", (moment,))
        return cur.rowcount

    def purge_dead(self, now: float) -> int:
        cur = self._db.execute("DELETE FROM records WHERE dead_at IS NOT NULL AND dead_at <= ?", (now,))
        return cur.rowcount

    # -- reads ------------------------------------------------------------------------------
    def get(self, ns: str, ids: Sequence[str], now: float | None) -> list[StoredRecord]:
        """Visible records among ``ids`` (missing ones left out), in the order SQLite finds them."""
        return [StoredRecord(*row) for row in self._select(ns, "id, vals, sparse, meta", ids, now)]

    def get_encoded(
        self, ns: str, ids: Sequence[str], now: float | None, encoding: AnswerEncoding
    ) -> list[tuple[str, bytes]]:
        """(id, encoded answer) of the visible records among ``ids``: from the cache, else built and
        cached. Mostly uncached IDs (an export fetches each record once) are read in one query;
        otherwise the visible IDs first, then the rows of those not cached."""
        cache = self._cache(encoding)
        known = cache.by_ns.get(ns, {})
        if 2 * sum(1 for record_id in ids if record_id in known) < len(ids):
            out: list[tuple[str, bytes]] = []
            for row in self._select(ns, "id, vals, sparse, meta, meta_pb", ids, now):
                encoded = known.get(row[0])
                if encoded is None:
                    encoded = encoding.encode(StoredRecord(*row))
                    cache.remember(ns, row[0], encoded)
                out.append((row[0], encoded))
            return out
        visible = [row[0] for row in self._select(ns, "id", ids, now)]
        built: dict[str, bytes] = {}
        missing = [record_id for record_id in visible if record_id not in known]
        if missing:
            for row in self._select(ns, "id, vals, sparse, meta, meta_pb", missing, now):
                record = StoredRecord(*row)
                built[record.id] = encoded = encoding.encode(record)
                cache.remember(ns, record.id, encoded)
            known = cache.by_ns.get(ns, {})
        return [(record_id, known.get(record_id) or built[record_id]) for record_id in visible]

    def _select(self, ns: str, columns: str, ids: Sequence[str], now: float | None) -> list[Any]:
        visible = _LIVE if now is not None else "dead_at IS NULL"
        rows: list[Any] = []
        for chunk in _chunks(list(dict.fromkeys(ids))):
            marks = ",".join("?" * len(chunk))
            params: tuple[object, ...] = (ns, *chunk) if now is None else (ns, *chunk, now)
            sql = f"SELECT {columns} FROM records WHERE ns = ? AND id IN ({marks}) AND {visible}"
            rows.extend(self._db.execute(sql, params))
        return rows

    def list_ids(self, ns: str, prefix: str, after: str | None, limit: int, now: float) -> list[str]:
        """Up to ``limit`` visible IDs starting with ``prefix`` and greater than ``after``, bitwise order."""
        clauses, params = ["ns = ?", _LIVE], [ns, now]
        # One lower bound only: given ``id >= prefix AND id > after`` SQLite seeks to the prefix and
        # scans every row up to ``after`` (measured: 80 ms per page deep into a 100k-record prefix,
        # 0.08 ms with one bound), which made a long walk quadratic.
        if after is not None and after >= prefix:
            clauses.append("id > ?")
            params.append(after)
        elif prefix:
            clauses.append("id >= ?")
            params.append(prefix)
        if prefix:
            upper = _upper_bound(prefix)
            if upper is not None:
                clauses.append("id < ?")
                params.append(upper)
        sql = f"SELECT id FROM records WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"
        return [row[0] for row in self._db.execute(sql, (*params, limit))]

    def metadata_page(self, ns: str, after: str | None, limit: int) -> list[tuple[str, bytes | None]]:
        """Up to ``limit`` (id, metadata JSON) of live records after ``after``, in ID order.

        Pages (not one long cursor) so callers can yield to the event loop between them without
        leaving a statement open while other requests write."""
        live = "ns = ? AND dead_at IS NULL"
        if after is None:
            sql, params = f"SELECT id, meta FROM records WHERE {live} ORDER BY id LIMIT ?", [ns, limit]
        else:
            sql, params = (
                f"SELECT id, meta FROM records WHERE {live} AND id > ? ORDER BY id LIMIT ?",
                [ns, after, limit],
            )
        return self._db.execute(sql, params).fetchall()

    def all_ids(self, ns: str) -> list[str]:
        rows = self._db.execute("SELECT id FROM records WHERE ns = ? AND dead_at IS NULL ORDER BY id", (ns,))
        return [row[0] for row in rows]

    def scan(self, ns: str) -> Iterator[StoredRecord]:
        cursor = self._db.execute(
            "SELECT id, vals, sparse, meta FROM records WHERE ns = ? AND dead_at IS NULL ORDER BY id", (ns,)
        )
        for row in cursor:
            yield StoredRecord(*row)

    # -- copies -----------------------------------------------------------------------------
    def copy_to(self, path: Path | None) -> IndexStore:
        """A consistent snapshot of this store in a new store (file or memory): SQLite's backup API."""
        if path is not None and path.exists():
            path.unlink()
        target = IndexStore(path)
        self._db.backup(target._db)
        if path is not None:
            target._db.execute("PRAGMA journal_mode=WAL")
        return target

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error, so a failed request changes nothing."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
