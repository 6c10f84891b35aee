from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bulkops.errors import CheckpointError
from bulkops.models import Record
from bulkops.sinks import JsonlReader, JsonlWriter


def _write(path: Path, position: dict | None, chunks: list[tuple[str, list[Record]]]) -> dict:
    writer = JsonlWriter(path, commit_records=10**9)
    writer.truncate_to(position)
    for ns, recs in chunks:
        writer.write(ns, recs)
    pos = writer.commit()
    writer.close()
    return pos


def test_each_line_is_upsertable_vector_json(tmp_path: Path, records: list[Record]) -> None:
    path = tmp_path / "out.jsonl"
    _write(path, None, [("", records)])
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        doc = orjson.loads(line)
        assert doc == record.to_wire()
        assert set(doc) <= {"id", "values", "sparseValues", "metadata"}


def test_truncate_to_drops_uncommitted_lines_after_a_crash(tmp_path: Path, records: list[Record]) -> None:
    path = tmp_path / "out.jsonl"
    first = _write(path, None, [("a", records[:100])])
    # A crashed run appended lines (even half a line) that were never recorded in a checkpoint.
    with open(path, "ab") as fh:
        fh.write(b'{"id":"ghost","values":[1.0]}\n{"id":"half')
    resumed = _write(path, first, [("a", records[100:200]), ("b", records[200:])])
    ids = [item.record.id for item in JsonlReader(path) if item.record]
    assert ids == [r.id for r in records]
    assert resumed["segments"] == [["a", 0, 200], ["b", 200, 50]]
    assert resumed["offset"] == path.stat().st_size


def test_truncate_refuses_a_file_shorter_than_the_checkpoint(tmp_path: Path, records: list[Record]) -> None:
    path = tmp_path / "out.jsonl"
    pos = _write(path, None, [("", records)])
    path.write_bytes(b"")
    writer = JsonlWriter(path)
    with pytest.raises(CheckpointError, match="changed or replaced"):
        writer.truncate_to(pos)


def test_reader_resumes_at_an_item_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id":"a","values":[1]}\n\nnot json\n{"values":[1]}\n{"id":"b","values":[2]}\n')
    items = list(JsonlReader(path))
    assert [i.location for i in items] == [
        "in.jsonl line 1",
        "in.jsonl line 3",
        "in.jsonl line 4",
        "in.jsonl line 5",
    ]
    assert items[1].error is not None
    assert "JSON" in items[1].error
    assert items[2].error is not None
    assert "id" in items[2].error
    again = list(JsonlReader(path).items(items[3].resume))
    assert [(i.ordinal, i.record.id if i.record else None) for i in again] == [(3, "b")]


def test_reader_maps_lines_to_namespaces_by_segment(tmp_path: Path, records: list[Record]) -> None:
    path = tmp_path / "out.jsonl"
    pos = _write(path, None, [("a", records[:3]), ("b", records[3:5])])
    items = list(JsonlReader(path, segments=pos["segments"]))
    assert [i.namespace for i in items] == ["a", "a", "a", "b", "b"]
