from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bulkops.errors import CheckpointError
from bulkops.models import Record
from bulkops.sinks import ParquetReader, ParquetWriter
from bulkops.sinks.parquet import namespace_from_dir, namespace_to_dir
from tests.helpers.records import make_records


def test_layout_matches_pinecone_bulk_import(tmp_path: Path, records: list[Record]) -> None:
    root = tmp_path / "out.parquet"
    writer = ParquetWriter(root, commit_records=100, row_group_rows=40)
    writer.truncate_to(None)
    writer.write("", records[:150])
    writer.write("tenant/1", records[150:])
    pos = writer.commit()
    assert [p["path"] for p in pos["parts"]] == [
        "__default__/part-00000.parquet",
        "__default__/part-00001.parquet",
        "tenant%2F1/part-00002.parquet",
    ]
    table = pq.read_table(root / "__default__/part-00000.parquet")
    assert table.schema.field("id").type == pa.string()
    assert table.schema.field("values").type == pa.list_(pa.float32())
    assert table.schema.field("sparse_values").type == pa.struct(
        [pa.field("indices", pa.list_(pa.uint32())), pa.field("values", pa.list_(pa.float32()))]
    )
    assert table.schema.field("metadata").type == pa.string()
    meta = pq.ParquetFile(root / "__default__/part-00000.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [40, 40, 20]
    codecs = {
        meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).compression
        for i in range(meta.num_columns)
    }
    assert codecs["values.list.element"] == "UNCOMPRESSED"  # embedding floats do not compress
    assert codecs["id"] == codecs["metadata"] == "SNAPPY"
    rows = table.to_pylist()
    assert rows[0]["id"] == records[0].id
    assert orjson.loads(rows[0]["metadata"]) == records[0].metadata
    assert rows[1]["metadata"] is None
    assert rows[0]["sparse_values"]["indices"] == list(records[0].sparse_values.indices)  # type: ignore[union-attr]

    back = list(ParquetReader(root))
    assert [i.record for i in back] == records  # float32 values bit for bit, sparse and metadata equal
    assert all(isinstance(i.record.values, np.ndarray) for i in back if i.record is not None)
    assert [i.namespace for i in back] == [""] * 150 + ["tenant/1"] * 100


def test_uncommitted_parts_and_temp_files_are_removed_on_resume(
    tmp_path: Path, records: list[Record]
) -> None:
    root = tmp_path / "out.parquet"
    writer = ParquetWriter(root, commit_records=50)
    writer.truncate_to(None)
    writer.write("ns", records[:50])
    pos = writer.commit()
    # The crashed run closed one more part and left a half-written temporary one.
    writer.write("ns", records[50:120])
    assert (root / "ns/part-00001.parquet").exists()
    (root / "ns/.part-00002.parquet.tmp").write_bytes(b"PAR1 half a part")

    resumed = ParquetWriter(root, commit_records=50)
    resumed.truncate_to(pos)
    assert sorted(p.name for p in (root / "ns").iterdir()) == ["part-00000.parquet"]
    resumed.write("ns", records[50:])
    resumed.commit()
    ids = [i.record.id for i in ParquetReader(root) if i.record]
    assert ids == [r.id for r in records]


def test_truncate_refuses_when_a_committed_part_is_missing(tmp_path: Path, records: list[Record]) -> None:
    root = tmp_path / "out.parquet"
    writer = ParquetWriter(root)
    writer.truncate_to(None)
    writer.write("", records)
    pos = writer.commit()
    (root / pos["parts"][0]["path"]).unlink()
    with pytest.raises(CheckpointError, match="missing"):
        ParquetWriter(root).truncate_to(pos)


def test_reader_resumes_at_ordinal(tmp_path: Path, records: list[Record]) -> None:
    root = tmp_path / "out.parquet"
    writer = ParquetWriter(root, commit_records=60, row_group_rows=25)
    writer.truncate_to(None)
    writer.write("", records)
    writer.commit()
    items = list(ParquetReader(root, batch_rows=7).items({"ordinal": 123}))
    assert items[0].ordinal == 123
    assert items[0].record is not None
    assert items[0].record.id == records[123].id
    assert items[0].location == "__default__/part-00002.parquet row 3"
    assert len(items) == len(records) - 123


@pytest.mark.parametrize("name", ["", "a b", "..", ".x", "a/b", "100%", "__default__", "ü"])
def test_namespace_dir_names_round_trip(name: str) -> None:
    encoded = namespace_to_dir(name)
    assert "/" not in encoded
    assert encoded not in (".", "..")
    assert namespace_from_dir(encoded) == ("" if name == "__default__" else name)


def test_sparse_index_has_no_values_column(tmp_path: Path) -> None:
    from bulkops.models import SparseValues

    root = tmp_path / "s.parquet"
    writer = ParquetWriter(root, vector_type="sparse")
    writer.truncate_to(None)
    writer.write("", [Record("a", sparse_values=SparseValues([1, 5], [0.5, 0.25]))])
    writer.commit()
    table = pq.read_table(root / "__default__/part-00000.parquet")
    assert table.column_names == ["id", "sparse_values", "metadata"]
    (item,) = list(ParquetReader(root))
    assert item.record == Record("a", sparse_values=SparseValues([1, 5], [0.5, 0.25]))


def test_a_commit_after_a_part_closes_leaves_no_small_part_behind(tmp_path: Path) -> None:
    """The export commits as soon as a part closes; the group that fills a part takes what is buffered
    (when that fits a group), so the commit has no remainder to close as a tiny part of its own."""
    records = make_records(4000, dim=4, seed=8, sparse_every=0)
    writer = ParquetWriter(tmp_path / "p.parquet", commit_records=1000, row_group_rows=400)
    writer.truncate_to(None)
    for start in range(0, len(records), 385):  # fetch-sized writes that do not divide the part size
        writer.write("ns", records[start : start + 385], flush=False)
        writer.flush()
        if writer.wants_commit():
            writer.commit()
    position = writer.commit()
    rows = [part["rows"] for part in position["parts"]]
    assert sum(rows) == len(records)
    assert all(1000 <= n < 1400 for n in rows[:-1]), rows
    assert [i.record.id for i in ParquetReader(tmp_path / "p.parquet") if i.record] == [r.id for r in records]


@pytest.mark.parametrize(
    "values_type",
    [pa.list_(pa.float64()), pa.large_list(pa.float32()), pa.list_(pa.float32(), 3)],
    ids=["float64", "large_list", "fixed_size_list"],
)
def test_hand_made_value_columns_read_as_float32(tmp_path: Path, values_type: pa.DataType) -> None:
    """Bulk-import files written by other tools: other list types and element types still read back as
    float32 arrays; a null element is NaN (the import's checks refuse that row), a null row no values."""
    root = tmp_path / "hand.parquet" / "__default__"
    root.mkdir(parents=True)
    rows = [[0.5, -1.25, 3.0], [1e-3, None, 2.0], None]
    table = pa.table({"id": ["a", "b", "c"], "values": pa.array(rows, type=values_type)})
    pq.write_table(table, root / "part-0.parquet")
    a, b, c = (item.record for item in ParquetReader(tmp_path / "hand.parquet"))
    assert a is not None
    assert b is not None
    assert c is not None
    assert isinstance(a.values, np.ndarray)
    assert a.values.dtype == np.float32
    assert a.values.tolist() == [0.5, -1.25, 3.0]
    assert np.isnan(b.values[1])
    assert len(c.values) == 0
