"""The crash-safe job journal: SQLite in WAL mode, one step per transaction, mode 0600, one run at a time.

A checkpoint belongs to one job. It holds:

* ``kind`` (``"purge"``, ``"export"``, ``"load"``...) and the job ``spec`` (JSON: what the job is and the
  options a rerun needs, never the API key). Opening an existing file for a different job raises
  :class:`~bulkops.errors.CheckpointMismatchError` naming both. What "the same job" means is the job's
  business (``differs``); by default the kind and spec must be equal. When the same job comes back with
  a different spec (the index moved to another host, an option changed), the new spec is recorded and
  the old one kept in :attr:`Checkpoint.previous_spec`.
* per *scope* (a namespace, or any name the job uses), the list chains of
  :class:`~bulkops.engine.fanout.Chain`: prefix, bound, carve level, watermark position, done,
  delegated ranges and parent. The watermark is the newest list position whose batches are all
  acknowledged: resuming from it replays at most the batches that were in flight.
* in-flight batches (their IDs), so a resumed job can redo them first.
* integer counters (deleted, listed...) and free key/value progress state (JSON values), e.g. the byte
  offset of an export file recorded together with the watermark.

One run at a time: :meth:`Checkpoint.open` takes an exclusive ``flock`` on ``<checkpoint>.lock`` and
holds it until :meth:`Checkpoint.close`; the OS drops it if the process dies. A second run is refused at
once with :class:`~bulkops.errors.CheckpointBusyError` naming the process that holds it (two runs of one
export would interleave their writes). The lock is a file of its own so that nothing but SQLite ever
opens or closes the database file (closing any descriptor of it would drop SQLite's own POSIX locks).

A file that exists and is not a bulkops checkpoint (another program's SQLite database, a text file) is
refused, never adopted. :meth:`Checkpoint.inspect` reads a checkpoint without writing or locking it.

API::

    cp = Checkpoint.open(path, kind="purge", spec={"host": ..., "namespace": ..., "prefix": ...})
    cp.resumed                       # True if the file already held this job
    cp.chains(scope)                 # list[Chain] saved for scope ([] on a fresh job)
    cp.in_flight()                   # list[InFlightBatch] left by an interrupted run
    cp.counters(); cp.counter(name); cp.get(key, default)
    cp.next_batch_id()               # unique among every pipeline running on this checkpoint
    with cp.step() as step:          # ONE transaction: all or nothing
        step.save_chains(scope, chains)
        step.start_batch(batch_id, scope, ids); step.finish_batch(batch_id)
        step.count("deleted", 1000); step.set("bytes", 123)
    cp.close()                       # cp.close(discard=True): remove a checkpoint that holds nothing
    Checkpoint.inspect(path)         # read-only view (safe while the job runs)
    Checkpoint.remove(path)          # delete it, unless a run holds it

Durability: ``synchronous=NORMAL`` in WAL mode survives a killed process (the tests kill -9) but not
necessarily a power cut in the last instants; every step is atomic either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bulkops.clock import SYSTEM_CLOCK
from bulkops.engine.fanout import Chain
from bulkops.errors import CheckpointBusyError, CheckpointError, CheckpointMismatchError, UsageError

__all__ = [
    "Checkpoint",
    "CheckpointStep",
    "CheckpointView",
    "Differs",
    "InFlightBatch",
    "RunHolder",
    "fingerprint",
    "lock_path",
]

SCHEMA_VERSION = 2
_FORBIDDEN_SPEC_KEYS = ("api_key", "apikey", "key", "secret", "token", "password")
_SQLITE_HEADER = b"SQLite format 3\x00"
_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE chains (scope TEXT NOT NULL, id INTEGER NOT NULL, prefix TEXT NOT NULL, bound TEXT, "
    "level INTEGER NOT NULL, position TEXT, done INTEGER NOT NULL, skips BLOB, parent INTEGER, "
    "PRIMARY KEY (scope, id))",
    "CREATE TABLE in_flight (batch INTEGER PRIMARY KEY, scope TEXT NOT NULL, ids BLOB NOT NULL)",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
)

# Why the stored job (its kind and spec) is not this one, or None when it is.
Differs = Callable[[str, Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class InFlightBatch:
    batch: int
    scope: str
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunHolder:
    """The process running a checkpoint's job, as it recorded itself in the lock file."""

    pid: int | None
    job: str
    since: float | None


def fingerprint(kind: str, spec: Mapping[str, Any]) -> str:
    """A stable hash of a job (kind + spec, keys sorted)."""
    blob = orjson.dumps({"kind": kind, "spec": spec}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:32]


def _describe(kind: str, spec: Mapping[str, Any]) -> str:
    parts = ", ".join(f"{k}={v!r}" for k, v in sorted(spec.items()) if v not in (None, "", [], {}))
    return f"{kind}({parts})"


def _same_fingerprint(kind: str, spec: Mapping[str, Any]) -> Differs:
    want = fingerprint(kind, spec)

    def differs(have_kind: str, have_spec: Mapping[str, Any]) -> str | None:
        if fingerprint(have_kind, have_spec) == want:
            return None
        return f"it holds {_describe(have_kind, have_spec)}, this job is {_describe(kind, spec)}"

    return differs


def _secret_keys(doc: Any) -> list[str]:
    if isinstance(doc, Mapping):
        found = [str(k) for k in doc if str(k).lower() in _FORBIDDEN_SPEC_KEYS]
        return found + [k for value in doc.values() for k in _secret_keys(value)]
    if isinstance(doc, list | tuple):
        return [k for value in doc for k in _secret_keys(value)]
    return []


def lock_path(path: Path) -> Path:
    """The lock file of checkpoint ``path``: held (``flock``) for as long as a run has it open."""
    return path.with_name(path.name + ".lock")


class _RunLock:
    """An exclusive ``flock`` on ``<checkpoint>.lock``, recording who holds it (pid, job, since)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, checkpoint: Path, job: str) -> _RunLock:
        path = lock_path(checkpoint)
        for _ in range(5):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise _busy(checkpoint, holder) from None
            # A run that finishes unlinks its lock file while still holding it: the file we locked must
            # still be the one at the path, or another process may lock a fresh file there meanwhile.
            try:
                current = os.stat(path)
            except FileNotFoundError:
                os.close(fd)
                continue
            mine = os.fstat(fd)
            if (mine.st_dev, mine.st_ino) != (current.st_dev, current.st_ino):
                os.close(fd)
                continue
            record = {"pid": os.getpid(), "job": job, "since": SYSTEM_CLOCK.wall()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, orjson.dumps(record), 0)
            return cls(path, fd)
        raise CheckpointBusyError(f"checkpoint {checkpoint} keeps changing hands; try again in a moment")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # while still locked: see acquire()
        os.close(fd)


def _read_holder(fd: int) -> RunHolder:
    try:
        doc = orjson.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, orjson.JSONDecodeError):
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    pid = doc.get("pid")
    since = doc.get("since")
    return RunHolder(
        pid if isinstance(pid, int) else None,
        str(doc.get("job") or ""),
        float(since) if isinstance(since, int | float) else None,
    )


def _busy(checkpoint: Path, holder: RunHolder) -> CheckpointBusyError:
    who = f"process {holder.pid}" if holder.pid is not None else "another process"
    what = f" ({holder.job})" if holder.job else ""
    return CheckpointBusyError(
        f"checkpoint {checkpoint} is in use by {who}{what}: one run per checkpoint. Wait for it to "
        "finish, or stop it and run again",
        pid=holder.pid,
        job=holder.job,
    )


def _probe_holder(checkpoint: Path) -> RunHolder | None:
    """Who runs ``checkpoint`` now (None: nobody). Takes and drops a shared lock, writes nothing."""
    try:
        fd = os.open(lock_path(checkpoint), os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _reader(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (``query_only``). Not ``mode=ro``: a read-only connection to a WAL
    database leaves ``-wal``/``-shm`` files behind, where this one, closing last, removes them."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA query_only = ON")
    return db


def _refuse_foreign(path: Path) -> None:
    """Raise unless ``path`` is empty, a blank SQLite database, or a bulkops checkpoint. Reads only."""
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if not header:
        return
    if header != _SQLITE_HEADER:
        raise CheckpointError(
            f"{path} is not a bulkops checkpoint (not an SQLite file); it was left untouched. Pass "
            "another checkpoint path"
        )
    try:
        db = _reader(path)
        try:
            tables = _tables(db)
            kind = (
                db.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone()
                if "meta" in tables
                else None
            )
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise CheckpointError(
            f"{path} is not a usable bulkops checkpoint ({exc}); pass another path"
        ) from exc
    if tables and kind is None:
        raise CheckpointError(
            f"{path} is an SQLite database but not a bulkops checkpoint; it was left untouched. Pass "
            "another checkpoint path"
        )


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


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """What a checkpoint holds, read without writing or locking it (``status``, ``resume``, tests)."""

    path: Path
    kind: str
    spec: Mapping[str, Any]
    counters: Mapping[str, int]
    state: Mapping[str, Any] = field(default_factory=dict)
    chains_done: int = 0
    chains_total: int = 0
    in_flight: int = 0
    running: RunHolder | None = None  # the process running the job now, if any

    @property
    def phase(self) -> Any:
        return self.state.get("phase")

    @property
    def report(self) -> Mapping[str, Any] | None:
        """The finished job's stored report (export, load), if any."""
        report = self.state.get("report")
        return report if isinstance(report, Mapping) else None

    @property
    def finished(self) -> bool:
        return self.report is not None or self.phase == "done"

    def refuse_if_running(self) -> None:
        """Raise CheckpointBusyError (as a second run would get) when a process runs the job now."""
        if self.running is not None:
            raise _busy(self.path, self.running)


class Checkpoint:
    """One job's journal. Use :meth:`open`; close it (or use it as a context manager) when done."""

    def __init__(
        self,
        path: Path,
        db: sqlite3.Connection,
        lock: _RunLock,
        kind: str,
        spec: Mapping[str, Any],
        *,
        resumed: bool,
        created: bool,
        previous_spec: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.spec = dict(spec)
        self.resumed = resumed
        self.created = created  # this run made the file (a fresh job)
        self.previous_spec = previous_spec  # the spec the same job was recorded with, when it changed
        self._db = db
        self._lock = lock
        self._next_batch: int | None = None

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        kind: str,
        spec: Mapping[str, Any],
        differs: Differs | None = None,
        describe: str = "",
    ) -> Checkpoint:
        """Create the checkpoint for this job, or reopen it if it holds the same job; lock it for this run.

        ``differs(stored_kind, stored_spec)`` says why a stored job is not this one (None: it is);
        ``describe`` is how this run names itself to a second run that is refused.
        """
        bad = _secret_keys(spec)
        if bad:
            raise UsageError(f"a checkpoint spec must not hold secrets; remove {', '.join(bad)}")
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise CheckpointError(f"cannot create checkpoint {path}: {exc.strerror}") from exc
        lock = _RunLock.acquire(path, describe or _describe(kind, spec))
        try:
            return cls._open_locked(path, lock, kind, spec, differs or _same_fingerprint(kind, spec))
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_locked(
        cls, path: Path, lock: _RunLock, kind: str, spec: Mapping[str, Any], differs: Differs
    ) -> Checkpoint:
        existed = path.exists()
        if existed:
            _refuse_foreign(path)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(path, 0o600)
        except OSError as exc:
            raise CheckpointError(f"cannot create checkpoint {path}: {exc.strerror}") from exc
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            blank = not _tables(db)
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(
                f"{path} is not a usable bulkops checkpoint ({exc}); pass another checkpoint path"
            ) from exc
        try:
            if blank:
                cls._create(db, kind, spec)
                return cls(path, db, lock, kind, spec, resumed=False, created=not existed)
            return cls._reopen(path, db, lock, kind, spec, differs)
        except BaseException:
            db.close()
            if blank and not existed:
                _remove_files(path)
            raise

    @staticmethod
    def _create(db: sqlite3.Connection, kind: str, spec: Mapping[str, Any]) -> None:
        """Tables and the job's record in one transaction: a crash leaves a blank file, not half a job."""
        db.execute("BEGIN IMMEDIATE")
        for statement in _TABLES:
            db.execute(statement)
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                ("version", orjson.dumps(SCHEMA_VERSION)),
                ("kind", orjson.dumps(kind)),
                ("spec", orjson.dumps(dict(spec), option=orjson.OPT_SORT_KEYS)),
                ("fingerprint", orjson.dumps(fingerprint(kind, spec))),
            ],
        )
        db.execute("COMMIT")

    @classmethod
    def _reopen(
        cls,
        path: Path,
        db: sqlite3.Connection,
        lock: _RunLock,
        kind: str,
        spec: Mapping[str, Any],
        differs: Differs,
    ) -> Checkpoint:
        try:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
            have_kind = orjson.loads(rows["kind"])
            have_spec = orjson.loads(rows["spec"])
        except (sqlite3.Error, KeyError, orjson.JSONDecodeError) as exc:
            raise CheckpointError(f"{path} is not a bulkops checkpoint (no job recorded)") from exc
        why = differs(str(have_kind), have_spec)
        if why is not None:
            raise CheckpointMismatchError(
                f"checkpoint {path} belongs to a different job: {why}. Pass the checkpoint of this job, "
                "a new path, or delete the file to start over."
            )
        previous = None
        if have_kind != kind or fingerprint(have_kind, have_spec) != fingerprint(kind, spec):
            previous = have_spec
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [
                    ("version", orjson.dumps(SCHEMA_VERSION)),
                    ("kind", orjson.dumps(kind)),
                    ("spec", orjson.dumps(dict(spec), option=orjson.OPT_SORT_KEYS)),
                    ("fingerprint", orjson.dumps(fingerprint(kind, spec))),
                ],
            )
            db.execute("COMMIT")
        return cls(path, db, lock, kind, spec, resumed=True, created=False, previous_spec=previous)

    @classmethod
    def inspect(cls, path: str | os.PathLike[str]) -> CheckpointView:
        """Read a checkpoint without changing it (safe while its job runs)."""
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"checkpoint {path}: no such file")
        _refuse_foreign(file)
        try:
            db = _reader(file)
        except sqlite3.Error as exc:
            raise CheckpointError(f"{path} cannot be opened ({exc})") from None
        try:
            if not _tables(db):
                raise CheckpointError(
                    f"{path} holds no job yet (a run is creating it, or stopped before it began); "
                    "there is nothing to show or resume"
                )
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            kind = orjson.loads(meta["kind"])
            spec = orjson.loads(meta["spec"])
            counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
            state = {key: orjson.loads(value) for key, value in db.execute("SELECT key, value FROM state")}
            done, total = db.execute("SELECT COALESCE(SUM(done), 0), COUNT(*) FROM chains").fetchone()
            in_flight = db.execute("SELECT COUNT(*) FROM in_flight").fetchone()[0]
        except (sqlite3.Error, KeyError, orjson.JSONDecodeError) as exc:
            raise CheckpointError(f"{path} is not a bulkops checkpoint ({exc})") from None
        finally:
            db.close()
        return CheckpointView(
            file,
            str(kind),
            spec,
            counters,
            state,
            int(done),
            int(total),
            int(in_flight),
            _probe_holder(file),
        )

    @classmethod
    def remove(cls, path: str | os.PathLike[str]) -> None:
        """Delete a checkpoint (its database, WAL and lock file) unless a run holds it.

        The run lock is taken first, so a job running now (or starting meanwhile) is refused with
        :class:`~bulkops.errors.CheckpointBusyError` rather than losing its journal. A file that is not
        a bulkops checkpoint is refused untouched.
        """
        file = Path(path)
        cls.inspect(file)  # a bulkops checkpoint, or refused untouched
        lock = _RunLock.acquire(file, "removing it")
        try:
            _remove_files(file)
        finally:
            lock.release()

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

    def counter(self, name: str) -> int:
        """One counter (0 if never counted): a job with a counter per namespace reads one row, not all."""
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row is not None else 0

    def next_batch_id(self) -> int:
        """An in-flight batch id no batch recorded in this checkpoint has: pipelines of several
        namespaces running at once on one checkpoint share this counter, so none overwrites another's."""
        if self._next_batch is None:
            row = self._db.execute("SELECT COALESCE(MAX(batch), -1) FROM in_flight").fetchone()
            self._next_batch = int(row[0]) + 1
        batch = self._next_batch
        self._next_batch += 1
        return batch

    def get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def blank(self) -> bool:
        """Nothing recorded but the job itself: no progress, state, chains or batches."""
        for table in ("counters", "state", "chains", "in_flight"):
            if self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                return False
        return True

    def close(self, *, discard: bool = False) -> None:
        """Close and unlock. ``discard``: also remove the file (with its WAL), e.g. a job refused before
        it recorded anything leaves nothing behind."""
        self._db.close()
        if discard:
            _remove_files(self.path)
        self._lock.release()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, kind={self.kind!r}, resumed={self.resumed})"


def _remove_files(path: Path) -> None:
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        file.unlink(missing_ok=True)
