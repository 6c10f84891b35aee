"""Template data dirs and input files per data set, built once, cached, and copied for every run.

Seeding 200k records of dimension 1536 must not dominate a suite, so it happens once per data set and
is reused across suite invocations while the template exists: the directory name is the data set's
hash, and a ``READY`` marker is written last (a lock file makes two suites sharing a work dir build it
once). A populated template is written by the server's own storage code, in process and without HTTP
(``LocalServer.create_index_direct`` + ``seed``, float32 rows straight from numpy), then the server is
closed cleanly so the SQLite files are complete; each run gets a byte-identical copy.

Pieces (each cached on its own):

- ``<key>-full``    the index with every record, and the IDs file of the targets
- ``<key>-empty``   the same index with no records: import's start, and the target server of a copy

(an index template's key ends with the server's storage layout, ``-s2``: a template written by an
older server is not reused, since its runs would measure the older layout)
- ``<key>-input.<format>``   the target records as an import input (JSONL file or Parquet directory)
"""

from __future__ import annotations

import fcntl
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
import orjson

from benchmarks.harness import datagen
from benchmarks.harness.spec import INDEX_NAME, Dataset, Point
from bulkops.models import Record
from bulkops.server.storage import LAYOUT as STORE_LAYOUT

__all__ = ["Template", "ensure_template"]

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Template:
    """What the runs of one point start from (copied per run, except the read-only input and IDs file)."""

    data_dir: Path
    ids_file: Path
    input_file: Path | None = None
    target_data_dir: Path | None = None  # copy: the empty index the target server serves


def ensure_template(point: Point, root: Path, *, log: Log) -> Template:
    dataset = point.dataset
    root.mkdir(parents=True, exist_ok=True)
    index = f"{dataset.key}-s{STORE_LAYOUT}"
    full = _ensure(root, f"{index}-full", log, lambda home: _build_index(dataset, home, populated=True))
    if point.scenario == "import":
        empty = _ensure(
            root, f"{index}-empty", log, lambda home: _build_index(dataset, home, populated=False)
        )
        name = f"{dataset.key}-input-{point.format}"
        inputs = _ensure(root, name, log, lambda home: _build_input(dataset, home, point.format))
        return Template(empty / "data", full / "ids.txt", input_file=inputs / f"input.{point.format}")
    if point.scenario.startswith("copy"):
        empty = _ensure(
            root, f"{index}-empty", log, lambda home: _build_index(dataset, home, populated=False)
        )
        return Template(full / "data", full / "ids.txt", target_data_dir=empty / "data")
    return Template(full / "data", full / "ids.txt")


def _ensure(root: Path, name: str, log: Log, build: Callable[[Path], str]) -> Path:
    """``root/name``, built by ``build`` unless a complete one (``READY``) is there already."""
    home = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites sharing a work dir build each piece once
        if not (home / "READY").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir(parents=True)
            started = time.perf_counter()
            what = build(home)
            (home / "READY").write_bytes(b"ok\n")
            log(f"built template {name} ({what}) in {time.perf_counter() - started:.1f} s")
    return home


def _build_index(dataset: Dataset, home: Path, *, populated: bool) -> str:
    datagen.write_ids_file(dataset, home / "ids.txt")
    (home / "data").mkdir()
    count = anyio.run(_seed, dataset, home / "data", populated)
    expected = dataset.records if populated else 0
    if count != expected:
        raise RuntimeError(f"seeded {count} records, expected {expected}")
    (home / "dataset.json").write_bytes(orjson.dumps(asdict(dataset)))
    return dataset.label() if populated else f"empty index, dim {dataset.dimension}"


def _build_input(dataset: Dataset, home: Path, fmt: str) -> str:
    datagen.write_input(dataset, home / f"input.{fmt}", fmt)
    return f"{dataset.target:,} records as {fmt}"


def _records(chunk: datagen.Chunk) -> Iterator[Record]:
    for record_id, row, meta in zip(chunk.ids, chunk.values, chunk.metadata, strict=True):
        yield Record(id=record_id, values=row, metadata=meta)  # values: a float32 row, no list


async def _seed(dataset: Dataset, data_dir: Path, populated: bool) -> int:
    """Create the index (and its records) on disk with the server's own storage code."""
    from bulkops.server.app import serve_local
    from bulkops.server.config import ServerConfig

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        await server.create_index_direct(INDEX_NAME, dimension=dataset.dimension)
        if populated:
            for chunk in datagen.iter_chunks(dataset):
                await server.seed(INDEX_NAME, chunk.namespace, _records(chunk))
        return sum(server.count(INDEX_NAME, ns) for ns in dataset.namespace_names())
