"""Values must come back bit-identical to the server's float32, through every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from bulkops.models import Record
from bulkops.sinks import JsonlReader, JsonlWriter, ParquetReader, ParquetWriter


def _awkward_float32s() -> np.ndarray:
    rng = np.random.default_rng(7)
    specials = np.array(
        [0.1, 1 / 3, 1e-38, 1.17549435e-38, 1e-45, 3.4028235e38, -0.0, 16777217.0, 2.0**-149, 0.3],
        dtype=np.float32,
    )
    randoms = rng.standard_normal(2000).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30, 2000)
    bits = rng.integers(0, 2**32, 2000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([specials, randoms.astype(np.float32), bits[np.isfinite(bits)]])


def _as_server_sends(values: np.ndarray) -> bytes:
    """The wire text: float32 values in their shortest decimal repr (what numpy's str gives)."""
    return ("[" + ",".join(str(v) for v in values) + "]").encode()


def test_json_parse_then_float32_is_exact() -> None:
    values = _awkward_float32s()
    parsed = orjson.loads(_as_server_sends(values))
    again = np.array(parsed, dtype=np.float32)
    assert again.view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_jsonl_and_parquet_keep_float32_bits(tmp_path: Path) -> None:
    values = _awkward_float32s()
    parsed = orjson.loads(_as_server_sends(values))
    record = Record(id="x", values=parsed)

    jsonl = JsonlWriter(tmp_path / "a.jsonl")
    jsonl.truncate_to(None)
    jsonl.write("", [record])
    jsonl.commit()
    jsonl.close()
    # The line holds the very float64s parsed from the server's text (same shortest digits).
    assert orjson.loads((tmp_path / "a.jsonl").read_bytes())["values"] == parsed
    (item,) = list(JsonlReader(tmp_path / "a.jsonl"))
    assert item.record is not None
    back = np.array(item.record.values, dtype=np.float32)
    assert back.view(np.uint32).tolist() == values.view(np.uint32).tolist()

    pq = ParquetWriter(tmp_path / "a.parquet")
    pq.truncate_to(None)
    pq.write("", [record])
    pq.commit()
    (row,) = list(ParquetReader(tmp_path / "a.parquet"))
    assert row.record is not None
    back = np.array(row.record.values, dtype=np.float32)
    assert back.view(np.uint32).tolist() == values.view(np.uint32).tolist()
