"""The server's records (indexes, backups, restore jobs, bulk imports) and where their data files live.

Persisted as JSON documents in ``<data_dir>/control.db`` (SQLite, WAL) or kept in memory. Index data
lives in ``<data_dir>/indexes/<index_id>.db``, backup snapshots in ``<data_dir>/backups/<id>.db``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

__all__ = ["BackupMeta", "Catalog", "ImportMeta", "IndexMeta", "RestoreJobMeta"]

Kind = Literal["index", "backup", "restore", "import"]


@dataclass(slots=True)
class IndexMeta:
    name: str
    index_id: str
    dimension: int | None
    metric: str
    vector_type: str
    cloud: str
    region: str
    deletion_protection: str
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    embed: dict[str, Any] | None = None
    source_backup_id: str | None = None
    ready_at: float = 0.0  # restored indexes report Initializing until then
    port: int = 0  # where its host listens, kept across restarts (0: not assigned yet)


@dataclass(slots=True)
class BackupMeta:
    backup_id: str
    source_index_name: str
    source_index_id: str
    name: str | None
    description: str | None
    cloud: str
    region: str
    dimension: int | None
    metric: str
    vector_type: str
    record_count: int
    namespace_count: int
    size_bytes: int
    created_at: float
    ready_at: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RestoreJobMeta:
    restore_job_id: str
    backup_id: str
    target_index_name: str
    target_index_id: str
    created_at: float
    done_at: float


@dataclass(slots=True)
class ImportMeta:
    """A bulk import on one index (``bulkops.server.bulk_import``). ``namespaces`` are the target
    namespaces it claimed (storage keys, ``""`` for the default one); ``files_done`` and
    ``records_imported`` are saved together after each file, so a restarted server resumes there."""

    import_id: str
    index_id: str
    uri: str
    error_mode: str
    created_at: float
    status: str = "Pending"
    integration_id: str | None = None
    finished_at: float | None = None
    percent_complete: float = 0.0
    records_imported: int = 0
    error: str | None = None
    namespaces: list[str] = field(default_factory=list)
    files_done: int = 0


_T = TypeVar("_T", IndexMeta, BackupMeta, RestoreJobMeta, ImportMeta)


def _from_doc(cls: type[_T], doc: dict[str, Any]) -> _T:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in doc.items() if k in names})


class Catalog:
    """Control-plane documents by kind and key, written through to SQLite when there is a data dir."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        if data_dir is not None:
            (data_dir / "indexes").mkdir(parents=True, exist_ok=True)
            (data_dir / "backups").mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(data_dir / "control.db"), isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        else:
            self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (kind TEXT, key TEXT, doc BLOB, PRIMARY KEY (kind, key))"
        )
        self.indexes: dict[str, IndexMeta] = {}
        self.backups: dict[str, BackupMeta] = {}
        self.restores: dict[str, RestoreJobMeta] = {}
        self.imports: dict[str, ImportMeta] = {}
        for kind, doc in self._db.execute("SELECT kind, doc FROM objects"):
            data = orjson.loads(doc)
            if kind == "index":
                index = _from_doc(IndexMeta, data)
                self.indexes[index.name] = index
            elif kind == "backup":
                backup = _from_doc(BackupMeta, data)
                self.backups[backup.backup_id] = backup
            elif kind == "restore":
                job = _from_doc(RestoreJobMeta, data)
                self.restores[job.restore_job_id] = job
            elif kind == "import":
                bulk = _from_doc(ImportMeta, data)
                self.imports[bulk.import_id] = bulk

    def close(self) -> None:
        self._db.close()

    def index_path(self, index_id: str) -> Path | None:
        return None if self.data_dir is None else self.data_dir / "indexes" / f"{index_id}.db"

    def backup_path(self, backup_id: str) -> Path | None:
        return None if self.data_dir is None else self.data_dir / "backups" / f"{backup_id}.db"

    def save_index(self, meta: IndexMeta) -> None:
        self.indexes[meta.name] = meta
        self._put("index", meta.name, asdict(meta))

    def drop_index(self, name: str) -> None:
        self.indexes.pop(name, None)
        self._db.execute("DELETE FROM objects WHERE kind = 'index' AND key = ?", (name,))

    def save_backup(self, meta: BackupMeta) -> None:
        self.backups[meta.backup_id] = meta
        self._put("backup", meta.backup_id, asdict(meta))

    def drop_backup(self, backup_id: str) -> None:
        self.backups.pop(backup_id, None)
        self._db.execute("DELETE FROM objects WHERE kind = 'backup' AND key = ?", (backup_id,))

    def save_restore(self, meta: RestoreJobMeta) -> None:
        self.restores[meta.restore_job_id] = meta
        self._put("restore", meta.restore_job_id, asdict(meta))

    def save_import(self, meta: ImportMeta) -> None:
        self.imports[meta.import_id] = meta
        self._put("import", meta.import_id, asdict(meta))

    def drop_import(self, import_id: str) -> None:
        self.imports.pop(import_id, None)
        self._db.execute("DELETE FROM objects WHERE kind = 'import' AND key = ?", (import_id,))

    def _put(self, kind: Kind, key: str, doc: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO objects (kind, key, doc) VALUES (?, ?, ?)", (kind, key, orjson.dumps(doc))
        )
