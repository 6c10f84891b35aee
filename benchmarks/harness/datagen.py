"""Deterministic benchmark data: the same seed gives the same IDs, vectors and metadata, byte for byte.

IDs are ``<tenant>#<12 hex digits>``: the target tenant is ``acme#`` (``TARGET_PREFIX``), the others
``t000#`` … so the target prefix holds ``target`` IDs spread across all 16 hex children (what a real
tenant's random document IDs look like to a prefix fan-out), among ``records`` in the namespace. A
many-namespace data set puts ``records / namespaces`` target records in each namespace.

Records are generated in chunks of at most ``CHUNK`` records; each chunk's vectors and metadata come
from their own RNG seeded by (seed, namespace, chunk), so any record can be regenerated on its own
(:func:`expected_records`, used to check a sample of what a contender moved) and memory stays flat.

Realistic metadata (``Dataset.metadata == "realistic"``) looks like a RAG chunk's: a text excerpt of
varying length, a source URI, a title, page / chunk / token numbers, a score, a date, 1–5 tags, a
language and a flag; about ``metadata_bytes`` of JSON per record on average.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from benchmarks.harness.spec import TARGET_PREFIX, Dataset

__all__ = [
    "CHUNK",
    "Chunk",
    "bytes_per_record",
    "expected_records",
    "iter_chunks",
    "namespace_of",
    "protobuf_bytes_per_record",
    "target_ids",
    "write_ids_file",
    "write_input",
]

CHUNK = 1000
_OTHER_TENANTS = 16
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive records of one namespace: IDs, a (n, dimension) float32 matrix, metadata dicts."""

    namespace: str
    ids: list[str]
    values: npt.NDArray[np.float32]
    metadata: list[dict[str, Any]]

    def docs(self) -> Iterator[dict[str, Any]]:
        """Pinecone's vector JSON (values as a float32 row: serialize with ``OPT_SERIALIZE_NUMPY``)."""
        for record_id, row, meta in zip(self.ids, self.values, self.metadata, strict=True):
            yield {"id": record_id, "values": row, "metadata": meta}


@functools.lru_cache(maxsize=2)
def _ids(dataset: Dataset) -> list[str]:
    """All IDs, targets first; unique because the hex part is drawn without repetition."""
    rng = np.random.default_rng(dataset.seed)
    # Distinct 48-bit numbers: sample with replacement, then top up until unique (cheap at these sizes).
    numbers = np.unique(rng.integers(0, 2**48, size=dataset.records + 1024, dtype=np.int64))
    while numbers.size < dataset.records:
        extra = rng.integers(0, 2**48, size=dataset.records, dtype=np.int64)
        numbers = np.unique(np.concatenate([numbers, extra]))
    numbers = rng.permutation(numbers)[: dataset.records]
    ids = [f"{TARGET_PREFIX}{int(n):012x}" for n in numbers[: dataset.target]]
    ids.extend(f"t{i % _OTHER_TENANTS:03d}#{int(n):012x}" for i, n in enumerate(numbers[dataset.target :]))
    return ids


@functools.lru_cache(maxsize=2)
def _positions(dataset: Dataset) -> dict[str, int]:
    return {record_id: i for i, record_id in enumerate(_ids(dataset))}


def target_ids(dataset: Dataset) -> list[str]:
    """The IDs a purge/export targets, in a shuffled (seeded) order, as an IDs file would hold them."""
    return list(_ids(dataset)[: dataset.target])


def namespace_of(dataset: Dataset, record_id: str) -> str | None:
    """The namespace the data set puts ``record_id`` in (None: not a record of the data set)."""
    position = _positions(dataset).get(record_id)
    return None if position is None else dataset.namespace_names()[position // dataset.per_namespace]


def _chunk_bounds(dataset: Dataset) -> Iterator[tuple[int, int, int, int]]:
    """(namespace index, chunk index in it, first position, end position) of every chunk."""
    per_ns = dataset.per_namespace
    for ns in range(dataset.namespaces):
        base = ns * per_ns
        for c, start in enumerate(range(base, base + per_ns, CHUNK)):
            yield ns, c, start, min(start + CHUNK, base + per_ns)


def _chunk(dataset: Dataset, ns: int, c: int, start: int, end: int) -> Chunk:
    """One chunk, always whole (the RNG draws depend on its size), so a record is the same wherever seen."""
    ids = _ids(dataset)[start:end]
    values = np.random.default_rng([dataset.seed, 1, ns, c]).standard_normal(
        (end - start, dataset.dimension), dtype=np.float32
    )
    rng = np.random.default_rng([dataset.seed, 2, ns, c])
    if dataset.metadata == "realistic":
        metadata = _realistic_metadata(rng, ids, dataset.metadata_bytes)
    else:
        pad = "x" * dataset.metadata_bytes
        metadata = [
            {"tenant": record_id.split("#", 1)[0], "n": start + i, "text": pad}
            for i, record_id in enumerate(ids)
        ]
    return Chunk(dataset.namespace_names()[ns], ids, values, metadata)


def iter_chunks(dataset: Dataset, *, only_targets: bool = False) -> Iterator[Chunk]:
    """Every record (or only the targets), chunk by chunk, generated lazily so memory stays flat."""
    limit = dataset.target if only_targets else dataset.records
    for ns, c, start, end in _chunk_bounds(dataset):
        if start >= limit:
            return
        chunk = _chunk(dataset, ns, c, start, end)
        if end > limit:  # the last targets share a chunk with the first other tenants
            keep = limit - start
            chunk = Chunk(chunk.namespace, chunk.ids[:keep], chunk.values[:keep], chunk.metadata[:keep])
        yield chunk


def expected_records(dataset: Dataset, ids: Iterable[str]) -> dict[str, tuple[npt.NDArray[np.float32], Any]]:
    """id → (float32 values, metadata) as seeded, for the given IDs of the data set (others skipped)."""
    positions = _positions(dataset)
    wanted = {positions[i] for i in ids if i in positions}
    found: dict[str, tuple[npt.NDArray[np.float32], Any]] = {}
    for ns, c, start, end in _chunk_bounds(dataset):
        if any(start <= p < end for p in wanted):
            chunk = _chunk(dataset, ns, c, start, end)
            for offset in (p - start for p in wanted if start <= p < end):
                found[chunk.ids[offset]] = (chunk.values[offset], chunk.metadata[offset])
    return found


# -- realistic metadata -----------------------------------------------------------------------------

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "be",
    "da",
    "fe",
    "gu",
    "ho",
    "ji",
    "pe",
    "qua",
    "ra",
    "se",
    "to",
    "wi",
    "xa",
    "yo",
    "zu",
    "an",
    "el",
    "in",
    "or",
    "un",
    "ber",
    "con",
    "dor",
    "gen",
    "lin",
    "mar",
    "nor",
    "pol",
    "ser",
    "tan",
    "ver",
)
_SECTIONS = ("guides", "reference", "blog", "support", "changelog", "api", "tutorials", "faq", "legal")
_LANGS = ("en", "en", "en", "de", "fr", "es", "ja")
_FIXED_FIELDS_BYTES = 260  # the JSON of everything but the text, on average (measured)


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    rng = np.random.default_rng(2024)
    words = {
        "".join(_SYLLABLES[s] for s in rng.integers(0, len(_SYLLABLES), size=int(rng.integers(1, 4))))
        for _ in range(3000)
    }
    return tuple(sorted(words))


@functools.cache
def _tags() -> tuple[str, ...]:
    return tuple(f"{word}-{i % 7}" for i, word in enumerate(_vocabulary()[:48]))


def _realistic_metadata(rng: np.random.Generator, ids: list[str], mean_bytes: int) -> list[dict[str, Any]]:
    words, tags = _vocabulary(), _tags()
    mean_text = max(20, mean_bytes - _FIXED_FIELDS_BYTES)
    mean_word = sum(len(w) + 1 for w in words) / len(words)
    n = len(ids)
    text_chars = rng.integers(mean_text // 2, mean_text * 3 // 2 + 1, size=n)
    word_counts = np.maximum(1, np.round(text_chars / mean_word)).astype(np.int64)
    picks = rng.integers(0, len(words), size=int(word_counts.sum()))
    uri_picks = rng.integers(0, len(words), size=(n, 3))
    tag_counts = rng.integers(1, 6, size=n)
    tag_picks = rng.integers(0, len(tags), size=(n, 5))
    numbers = rng.integers(0, 1_000_000, size=(n, 4))
    scores = rng.random(n)
    out: list[dict[str, Any]] = []
    at = 0
    for i, record_id in enumerate(ids):
        text = " ".join(words[w] for w in picks[at : at + word_counts[i]])
        at += int(word_counts[i])
        slug = "-".join(words[w] for w in uri_picks[i])
        section = _SECTIONS[int(numbers[i, 0]) % len(_SECTIONS)]
        out.append(
            {
                "text": text.capitalize() + ".",
                "source": f"https://docs.example.com/{section}/{slug}.html",
                "title": " ".join(words[w] for w in uri_picks[i, :2]).title(),
                "page": int(numbers[i, 1] % 400) + 1,
                "chunk": int(numbers[i, 2] % 64),
                "tokens": int(text_chars[i] // 4),
                "score": round(float(scores[i]), 4),
                "published": f"20{22 + int(numbers[i, 3] % 4)}-{1 + int(numbers[i, 3] % 12):02d}-"
                f"{1 + int(numbers[i, 0] % 28):02d}",
                "tags": sorted({tags[t] for t in tag_picks[i, : tag_counts[i]]}),
                "lang": _LANGS[int(numbers[i, 2]) % len(_LANGS)],
                "public": bool(numbers[i, 0] % 3),
                "tenant": record_id.split("#", 1)[0],
            }
        )
    return out


# -- sizes on the wire ------------------------------------------------------------------------------


def _sample(dataset: Dataset) -> Chunk:
    first = next(iter_chunks(dataset, only_targets=True))
    return Chunk(first.namespace, first.ids[:200], first.values[:200], first.metadata[:200])


@functools.lru_cache(maxsize=16)
def bytes_per_record(dataset: Dataset) -> int:
    """Mean JSON size of one record on the wire (REST: the upsert bytes bound and batch sizing)."""
    sample = _sample(dataset)
    return max(
        1, round(sum(len(orjson.dumps(doc, option=_NUMPY)) + 1 for doc in sample.docs()) / len(sample.ids))
    )


@functools.lru_cache(maxsize=16)
def protobuf_bytes_per_record(dataset: Dataset) -> int:
    """Mean size of one record inside a gRPC ``UpsertRequest`` (packed float32 values, Struct metadata)."""
    from bulkops.protos import vector_service_pb2 as pb
    from bulkops.protos.codec import floats_to_bytes, struct_from_dict

    sample = _sample(dataset)
    request = pb.UpsertRequest(namespace=sample.namespace)
    for doc in sample.docs():
        vector = request.vectors.add(id=doc["id"], values=floats_to_bytes(doc["values"]))
        struct_from_dict(doc["metadata"], into=vector.metadata)
    return max(1, round(request.ByteSize() / len(sample.ids)))


# -- files ------------------------------------------------------------------------------------------


def write_ids_file(dataset: Dataset, path: Path) -> Path:
    path.write_text("\n".join(target_ids(dataset)) + "\n", encoding="ascii")
    return path


def write_input(dataset: Dataset, path: Path, fmt: str) -> Path:
    """The target records as an import input: one JSONL file, or a Parquet directory (bulk-import layout).

    Both are what ``bulkops export`` writes, so ``bulkops import`` and the SDK loops read the same
    records; the Parquet directory is written with pyarrow directly (one part per namespace, row groups
    of 10,000), not by bulkops.
    """
    if fmt == "parquet":
        from benchmarks.harness.parquet_out import ParquetOut

        with ParquetOut(path) as out:
            for chunk in iter_chunks(dataset, only_targets=True):
                out.write(chunk.namespace, chunk.ids, chunk.values, chunk.metadata)
        return path
    with path.open("wb") as out:
        for chunk in iter_chunks(dataset, only_targets=True):
            out.write(b"".join(orjson.dumps(doc, option=_NUMPY) + b"\n" for doc in chunk.docs()))
    return path
