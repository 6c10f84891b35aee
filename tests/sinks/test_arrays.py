"""Records reach the sinks as float32 arrays (gRPC) or as floats (REST): the files must not differ.

And Parquet reads back as float32 arrays, bit for bit, with memory bounded by bytes at any dimension.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.models import Record, SparseValues
from bulkops.sinks import JsonlReader, JsonlWriter, ParquetReader, ParquetWriter
from tests.helpers.records import bits, make_records

_FLOAT32S = st.floats(width=32, allow_nan=False, allow_infinity=False)
_VECTORS = st.lists(_FLOAT32S, min_size=1, max_size=40).map(lambda xs: np.array(xs, dtype=np.float32))
_TRICKY = np.array(
    [0.1, 1 / 3, 1e-38, 1.17549435e-38, 1e-45, 3.4028235e38, -3.4028235e38, -0.0, 0.0, 16777217.0,
     2.0**-149, 7.0262058e13, 1e16, 123456789.0, 1e-7, 1e-5, 1e21, -1e-44],
    dtype=np.float32,
)  # fmt: skip


def as_rest_gives(values: np.ndarray) -> list[float]:
    """What the REST client holds for these float32s: the server's shortest-form text, parsed."""
    floats: list[float] = orjson.loads(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY))
    return floats


def as_lists(records: list[Record]) -> list[Record]:
    return [
        Record(r.id, as_rest_gives(np.asarray(r.values, dtype=np.float32)), r.sparse_values, r.metadata)
        for r in records
    ]


def as_arrays(records: list[Record]) -> list[Record]:
    out = []
    for r in records:
        view = np.frombuffer(np.asarray(r.values, dtype=np.float32).tobytes(), dtype=np.float32)
        out.append(Record(r.id, view, r.sparse_values, r.metadata))  # read-only, as gRPC gives them
    return out


def write_all(sink: JsonlWriter | ParquetWriter, records: list[Record]) -> None:
    sink.truncate_to(None)
    sink.write("ns", records)
    sink.commit()
    sink.close()


def write_jsonl(path: Path, records: list[Record]) -> bytes:
    write_all(JsonlWriter(path), records)
    return path.read_bytes()


def write_parquet(root: Path, records: list[Record]) -> None:
    write_all(ParquetWriter(root), records)


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_arrays_and_lists_make_the_same_files(tmp_path: Path) -> None:
    records = make_records(300, dim=24, seed=5)
    records.append(Record("tricky", _TRICKY.tolist(), metadata={"z": 1, "a": {"y": [1, 2], "b": "x"}}))
    from_lists, from_arrays = as_lists(records), as_arrays(records)

    assert write_jsonl(tmp_path / "l.jsonl", from_lists) == write_jsonl(tmp_path / "a.jsonl", from_arrays)
    write_parquet(tmp_path / "l.parquet", from_lists)
    write_parquet(tmp_path / "a.parquet", from_arrays)
    assert digests(tmp_path / "l.parquet") == digests(tmp_path / "a.parquet") != {}


def test_metadata_keys_are_sorted_so_either_transport_gives_one_file(tmp_path: Path) -> None:
    one = Record("r", [0.5], metadata={"b": 1, "a": {"d": True, "c": ["x"]}})
    other = Record("r", [0.5], metadata={"a": {"c": ["x"], "d": True}, "b": 1})
    line = write_jsonl(tmp_path / "1.jsonl", [one])
    assert line == write_jsonl(tmp_path / "2.jsonl", [other])
    assert line == b'{"id":"r","values":[0.5],"metadata":{"a":{"c":["x"],"d":true},"b":1}}\n'
    write_parquet(tmp_path / "1.parquet", [one])
    write_parquet(tmp_path / "2.parquet", [other])
    assert digests(tmp_path / "1.parquet") == digests(tmp_path / "2.parquet")


@settings(max_examples=60, deadline=None)
@given(st.lists(_VECTORS, min_size=1, max_size=6))
def test_any_float32_survives_both_formats_from_both_sources_bit_for_bit(vectors: list[np.ndarray]) -> None:
    records = [Record(f"r{i}", v) for i, v in enumerate(vectors)]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        text = write_jsonl(root / "a.jsonl", as_arrays(records))
        assert text == write_jsonl(root / "l.jsonl", as_lists(records))
        # Each float is written in its shortest float32 form: the digits the server's REST answer has.
        for line, vector in zip(text.splitlines(), vectors, strict=True):
            shortest = orjson.dumps(vector, option=orjson.OPT_SERIALIZE_NUMPY)
            assert b'"values":' + shortest in line
        for item, vector in zip(JsonlReader(root / "a.jsonl"), vectors, strict=True):
            assert item.record is not None
            assert bits(item.record.values) == bits(vector)
        write_parquet(root / "a.parquet", as_arrays(records))
        for item, vector in zip(ParquetReader(root / "a.parquet"), vectors, strict=True):
            assert item.record is not None
            values = item.record.values
            assert isinstance(values, np.ndarray)
            assert values.dtype == np.float32
            assert values.tobytes() == vector.tobytes()


def test_parquet_reads_back_read_only_float32_views_of_one_buffer(tmp_path: Path) -> None:
    records = make_records(50, dim=16, seed=2)
    write_parquet(tmp_path / "v.parquet", records)
    back = [item.record for item in ParquetReader(tmp_path / "v.parquet")]
    assert back == records  # values compared as float32, bit for bit
    first, second = back[0], back[1]
    assert first is not None
    assert second is not None
    assert isinstance(first.values, np.ndarray)
    assert not first.values.flags.writeable
    assert isinstance(second.values, np.ndarray)
    assert first.values.base is not None
    assert first.values.base is second.values.base
    assert isinstance(first.sparse_values, SparseValues)
    assert first.sparse_values == records[0].sparse_values


def test_row_groups_and_parts_are_cut_by_bytes_so_memory_stays_bounded(tmp_path: Path) -> None:
    """Dimension 3072: the row cap (10,000) alone would buffer ~120 MB; the byte cap holds it to ~1 MB."""
    dim, group_bytes, part_bytes = 3072, 1 << 20, 4 << 20
    rng = np.random.default_rng(0)
    root = tmp_path / "wide.parquet"
    writer = ParquetWriter(root, row_group_bytes=group_bytes, part_bytes=part_bytes, commit_records=10**6)
    writer.truncate_to(None)
    batch_bytes = 0
    for start in range(0, 1200, 100):
        records = [
            Record(f"r{start + i:05d}", rng.standard_normal(dim, dtype=np.float32), metadata={"n": i})
            for i in range(100)
        ]
        batch_bytes = max(batch_bytes, 100 * dim * 4)
        writer.write("ns", records)
        assert writer.buffered_bytes <= group_bytes + batch_bytes  # never more than one group + one write
    writer.commit()
    writer.close()
    row_bytes = dim * 4 + 40
    files = sorted(root.rglob("*.parquet"))
    assert len(files) >= 3  # parts closed by bytes, not by the million-row cap
    for path in files:
        meta = pq.ParquetFile(path).metadata
        assert meta.num_rows * row_bytes <= part_bytes + 2 * group_bytes
        for group in range(meta.num_row_groups):
            assert meta.row_group(group).num_rows * dim * 4 <= group_bytes
    assert sum(1 for _ in ParquetReader(root)) == 1200
