"""One template data dir per data set, seeded once, cached, and copied for every run.

Seeding 1M records must not dominate a suite, so it happens once per data set (and is reused across
suite invocations while the template exists: the directory name is the data set's hash, and a
``READY`` marker is written last). The template is written by the server's own code, in process and
without HTTP (``LocalServer.create_index_direct`` + ``seed``), then the server is closed cleanly so
the SQLite files are complete; each run gets a byte-identical copy. Import's template holds only the
empty index; its input is the target records as JSONL.
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
from benchmarks.harness.spec import INDEX_NAME, NAMESPACE, Dataset, Scenario
from bulkops.models import Record

__all__ = ["Template", "ensure_template"]


@dataclass(frozen=True, slots=True)
class Template:
    data_dir: Path
    ids_file: Path
    input_file: Path | None


def ensure_template(
    dataset: Dataset, scenario: Scenario, root: Path, *, log: Callable[[str], None]
) -> Template:
    populated = scenario != "import"
    home = root / f"{dataset.key}-{'full' if populated else 'empty'}"
    template = Template(
        data_dir=home / "data",
        ids_file=home / "ids.txt",
        input_file=None if populated else home / "input.jsonl",
    )
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"{home.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites sharing a work dir seed each template once
        if not (home / "READY").exists():
            _build(dataset, populated, home, template, log)
    return template


def _build(
    dataset: Dataset, populated: bool, home: Path, template: Template, log: Callable[[str], None]
) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    datagen.write_ids_file(dataset, template.ids_file)
    if template.input_file is not None:
        datagen.write_jsonl(dataset, template.input_file)
    template.data_dir.mkdir()
    count = anyio.run(_seed, dataset, template.data_dir, populated)
    expected = dataset.records if populated else 0
    if count != expected:
        raise RuntimeError(f"seeded {count} records, expected {expected}")
    (home / "READY").write_bytes(orjson.dumps(asdict(dataset)))
    log(f"seeded template {home.name} ({dataset.label()}) in {time.perf_counter() - started:.1f} s")


def _records(dataset: Dataset) -> Iterator[Record]:
    for batch in datagen.iter_batches(dataset):
        for doc in batch:
            yield Record(id=doc["id"], values=doc["values"], metadata=doc["metadata"])


async def _seed(dataset: Dataset, data_dir: Path, populated: bool) -> int:
    """Create the index (and its records) on disk with the server's own storage code."""
    from bulkops.server.app import serve_local
    from bulkops.server.config import ServerConfig

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        await server.create_index_direct(INDEX_NAME, dimension=dataset.dimension)
        if populated:
            await server.seed(INDEX_NAME, NAMESPACE, _records(dataset))
        return server.count(INDEX_NAME, NAMESPACE)
