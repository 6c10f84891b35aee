"""How a record's fields become bytes in an export, the same whichever transport fetched it.

- Dense and sparse values are written as the float32 Pinecone stores: a JSONL line holds each float
  in its shortest float32 form (orjson's numpy writer: the digits the server's REST answer carries, and
  ``numpy.float32(text)`` gives the same bits back); Parquet holds the float32 values themselves. A
  record fetched over gRPC (a float32 array) and over REST (Python floats parsed from that text) give
  the same bytes.
- Metadata is JSON with its keys sorted. Over gRPC metadata is a protobuf ``Struct``, a map whose order
  is not the upserter's (nor even stable), so a canonical order is the only one both transports can
  give: the same records make the same file (``docs/decisions/0008-export-encoding.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from bulkops.models import FLOAT32, Record, float32_values

__all__ = ["json_line", "metadata_json"]

_LINE = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


def metadata_json(metadata: Mapping[str, Any]) -> bytes:
    """Metadata as JSON with sorted keys (nested objects too)."""
    doc = metadata if isinstance(metadata, dict) else dict(metadata)
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def json_line(record: Record) -> bytes:
    """One JSONL line: Pinecone's vector JSON (``id``, ``values``, ``sparseValues``, ``metadata``),
    upsertable as it is; values in shortest float32 form, metadata keys sorted."""
    doc: dict[str, Any] = {"id": record.id}
    if len(record.values):
        doc["values"] = float32_values(record.values)
    sparse = record.sparse_values
    if sparse is not None:
        doc["sparseValues"] = {
            "indices": list(sparse.indices),
            "values": np.asarray(sparse.values, dtype=FLOAT32),
        }
    if record.metadata:
        doc["metadata"] = orjson.Fragment(metadata_json(record.metadata))
    return orjson.dumps(doc, option=_LINE)
