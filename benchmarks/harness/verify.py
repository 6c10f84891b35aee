"""Count a run's outcome independently of the contender: on the server, or in the output file.

purge: records that left the namespace (count before − after); import: records now in the namespace;
export: distinct target IDs in the JSONL output. More than the target is reported as a failed run.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import orjson

from benchmarks.harness.spec import API_KEY

__all__ = ["count_export", "namespace_count"]


def namespace_count(host: str, namespace: str, *, api_key: str = API_KEY) -> int:
    """Live records in ``namespace`` according to ``describe_index_stats``."""
    request = urllib.request.Request(
        host.rstrip("/") + "/describe_index_stats",
        data=b"{}",
        method="POST",
        headers={
            "Api-Key": api_key,
            "Content-Type": "application/json",
            "X-Pinecone-Api-Version": "2025-04",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        doc = orjson.loads(response.read())
    return int(doc.get("namespaces", {}).get(namespace, {}).get("vectorCount", 0))


def count_export(path: Path, prefix: str = "") -> tuple[int, int]:
    """(distinct IDs under ``prefix``, lines) in a JSONL export file or a directory of ``*.jsonl`` parts.

    An ID outside the prefix or a repeated line is not work done, so neither counts towards the rate.
    """
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path] if path.exists() else []
    seen: set[str] = set()
    lines = 0
    for file in files:
        with file.open("rb") as source:
            for line in source:
                if line.strip():
                    lines += 1
                    record_id = orjson.loads(line)["id"]
                    if record_id.startswith(prefix):
                        seen.add(record_id)
    return len(seen), lines
