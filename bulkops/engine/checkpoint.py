"""The crash-safe job journal: SQLite in WAL mode, one transaction per step, file mode 0600.

A checkpoint belongs to one job. It holds:

* ``kind`` (``"purge"``, ``"export"``, ``"import"``...) and the job ``spec`` (a JSON-able dict: index
  host, namespace, prefix... never the API key) with its fingerprint. Opening an existing file with a
  different kind or spec raises :class:`~bulkops.errors.CheckpointMismatchError`, naming both jobs.
* per *scope* (a namespace, or any name the job uses), the list chains of
  :class:`~bulkops.engine.fanout.Chain`: prefix, bound, carve level, watermark position, done,
  delegated ranges and parent. The
  watermark is the newest list position whose batches are all acknowledged: resuming from it replays
  at most the batches that were in flight.
* in-flight batches (their IDs), so a resumed job can redo them first.
* integer counters (deleted, listed...) and free key/value progress state (JSON values), e.g. the byte
  offset of an export file recorded together with the watermark.

API::

    cp = Checkpoint.open(path, kind="purge", spec={"host": ..., "namespace": ..., "prefix": ...})
    cp.resumed                       # True if the file already held this job
    cp.chains(scope)                 # list[Chain] saved for scope ([] on a fresh job)
    cp.in_flight()                   # list[InFlightBatch] left by an interrupted run
    cp.counters(); cp.get(key, default)
    with cp.step() as step:          # ONE transaction: all or nothing
        step.save_chains(scope, chains)
        step.start_batch(batch_id, scope, ids); step.finish_batch(batch_id)
        step.count("deleted", 1000); step.set("bytes", 123)
    cp.close()

Durability: ``synchronous=NORMAL`` in WAL mode survives a killed process (the tests kill -9) but not
necessarily a power cut in the last instants; every step is atomic either way.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bulkops.engine.fanout import Chain
from bulkops.errors import CheckpointError, CheckpointMismatchError, UsageError

__all__ = ["Checkpoint", "CheckpointStep", "InFlightBatch", "fingerprint"]

SCHEMA_VERSION = 1
_FORBIDDEN_SPEC_KEYS = ("api_key", "apikey", "key", "secret", "token", "password")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS chains (
    scope TEXT NOT NULL, id INTEGER NOT NULL, prefix TEXT NOT NULL, bound TEXT, level INTEGER NOT NULL,
    position TEXT, done INTEGER NOT NULL, skips BLOB, parent INTEGER, PRIMARY KEY (scope, id));
CREATE TABLE IF NOT EXISTS in_flight (batch INTEGER PRIMARY KEY, scope TEXT NOT NULL, ids BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class InFlightBatch:
    batch: int
    scope: str
    ids: tuple[str, ...]


def fingerprint(kind: str, spec: Mapping[str, Any]) -> str:
    """A stable hash of the job's identity (kind + spec, keys sorted)."""
    blob = orjson.dumps({"kind": kind, "spec": spec}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:32]


def _describe(kind: str, spec: Mapping[str, Any]) -> str:
    parts = ", ".join(f"{k}={v!r}" for k, v in sorted(spec.items()) if v not in (None, "", [], {}))
    return f"{kind}({parts})"


class CheckpointStep:
    """The writes of one step; applied in the transaction :meth:`Checkpoint.step` opens."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def save_chains(self, scope: str, chains: Iterable[Chain]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO chains (scope, id, prefix, bound, level, position, done, skips, parent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    scope,
                    c.id,
                    c.prefix,
                    c.bound,
                    c.level,
                    c.position,
                    int(c.done),
                    orjson.dumps([list(r) for r in c.skips]) if c.skips else None,
                    c.parent,
                )
                for c in chains
            ],
        )

    def start_batch(self, batch: int, scope: str, ids: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO in_flight (batch, scope, ids) VALUES (?, ?, ?)",
            (batch, scope, orjson.dumps(list(ids))),
        )

    def finish_batch(self, batch: int) -> None:
        self._db.execute("DELETE FROM in_flight WHERE batch = ?", (batch,))

    def count(self, name: str, delta: int) -> None:
        if delta:
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, delta),
            )

    def set(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, orjson.dumps(value))
        )


def _ranges(blob: bytes | None) -> tuple[tuple[str, str], ...]:
    return tuple((lo, hi) for lo, hi in orjson.loads(blob)) if blob else ()


class Checkpoint:
    """One job's journal. Use :meth:`open`; close it (or use it as a context manager) when done."""

    def __init__(self, path: Path, db: sqlite3.Connection, kind: str, spec: Mapping[str, Any], resumed: bool):
        self.path = path
        self.kind = kind
        self.spec = dict(spec)
        self.resumed = resumed
        self._db = db

    @classmethod
    def open(cls, path: str | Path, *, kind: str, spec: Mapping[str, Any]) -> Checkpoint:
        """Create the checkpoint for this job, or reopen it if it holds the same job."""
        bad = [k for k in spec if k.lower() in _FORBIDDEN_SPEC_KEYS]
        if bad:
            raise UsageError(f"a checkpoint spec must not hold secrets; remove {', '.join(bad)}")
        path = Path(path)
        fresh = not path.exists() or path.stat().st_size == 0
        if fresh:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                os.chmod(path, 0o600)
            except OSError as exc:
                raise CheckpointError(f"cannot create checkpoint {path}: {exc.strerror}") from exc
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(
                f"{path} is not a usable bulkops checkpoint ({exc}); pass another checkpoint path"
            ) from exc
        want = fingerprint(kind, spec)
        if not rows:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("version", orjson.dumps(SCHEMA_VERSION)),
                    ("kind", orjson.dumps(kind)),
                    ("spec", orjson.dumps(dict(spec), option=orjson.OPT_SORT_KEYS)),
                    ("fingerprint", orjson.dumps(want)),
                ],
            )
            db.execute("COMMIT")
            return cls(path, db, kind, spec, resumed=False)
        try:
            have_kind = orjson.loads(rows["kind"])
            have_spec = orjson.loads(rows["spec"])
            have = orjson.loads(rows["fingerprint"])
        except (KeyError, orjson.JSONDecodeError) as exc:
            db.close()
            raise CheckpointError(f"{path} is not a bulkops checkpoint (no job recorded)") from exc
        if have != want:
            db.close()
            raise CheckpointMismatchError(
                f"checkpoint {path} belongs to a different job: it holds {_describe(have_kind, have_spec)}, "
                f"this job is {_describe(kind, spec)}. Pass the checkpoint of this job, a new path, "
                "or delete the file to start over."
            )
        return cls(path, db, kind, spec, resumed=True)

    @contextmanager
    def step(self) -> Iterator[CheckpointStep]:
        """One atomic step: every write inside is committed together, or none is."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise CheckpointError(f"cannot write checkpoint {self.path}: {exc}") from exc
        try:
            yield CheckpointStep(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise CheckpointError(f"cannot write checkpoint {self.path}: {exc}") from exc

    def chains(self, scope: str = "") -> list[Chain]:
        rows = self._db.execute(
            "SELECT id, prefix, bound, level, position, done, skips, parent FROM chains "
            "WHERE scope = ? ORDER BY id",
            (scope,),
        ).fetchall()
        return [
            Chain(
                i, p, b, lv, pos, bool(d), tuple((lo, hi) for lo, hi in orjson.loads(sk)) if sk else (), par
            )
            for i, p, b, lv, pos, d, sk, par in rows
        ]

    def in_flight(self) -> list[InFlightBatch]:
        rows = self._db.execute("SELECT batch, scope, ids FROM in_flight ORDER BY batch").fetchall()
        return [InFlightBatch(b, s, tuple(orjson.loads(ids))) for b, s, ids in rows]

    def counters(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT name, value FROM counters").fetchall())

    def get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, kind={self.kind!r}, resumed={self.resumed})"
