"""IDs given to a purge (or any job) as an iterable or a file: validated in full before anything is sent."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bulkops.engine.sources import read_ids_file
from bulkops.errors import UsageError
from bulkops.models import validate_record_id

__all__ = ["IdsInput", "prepare_ids"]


@dataclass(frozen=True, slots=True)
class IdsInput:
    """A re-readable, validated list of IDs: ``open()`` iterates them again in the same order."""

    open: Callable[[], Iterable[str]]
    count: int
    digest: str  # sha256 of the IDs: ties a checkpoint to exactly this input
    source: str


def prepare_ids(ids: Iterable[str] | str | os.PathLike[str]) -> IdsInput:
    """Validate every ID (ASCII, no NUL, 1..512 characters) and fingerprint the input.

    A ``str`` or path is a file with one ID per line; anything else is an iterable of IDs (it is read
    into memory once, so that it can be validated before the first delete and re-read on verification).
    """
    digest = hashlib.sha256()
    if isinstance(ids, str | os.PathLike):
        path = Path(ids)
        if not path.is_file():
            raise UsageError(
                f"ids={str(ids)!r} is not a file; pass a list of IDs, or the path of a text file with one "
                "ID per line"
            )
        count = 0
        for record_id in read_ids_file(path):
            digest.update(record_id.encode("ascii") + b"\n")
            count += 1
        return IdsInput(lambda: read_ids_file(path), count, digest.hexdigest(), str(path))
    items = list(ids)
    for position, record_id in enumerate(items):
        if not isinstance(record_id, str):
            raise UsageError(
                f"ids[{position}] is {type(record_id).__name__}, not a string; nothing was deleted"
            )
        problem = validate_record_id(record_id)
        if problem is not None:
            raise UsageError(f"ids[{position}]: {problem}; nothing was deleted")
        digest.update(record_id.encode("ascii") + b"\n")
    frozen = tuple(items)
    return IdsInput(lambda: frozen, len(frozen), digest.hexdigest(), f"{len(frozen)} IDs")
