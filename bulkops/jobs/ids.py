"""IDs given to a job as an iterable or a file: validated in full and fingerprinted before anything is sent.

This is the one reader of IDs files: the CLI's early check is :func:`prepare_ids` itself, and the job
then takes the prepared :class:`IdsInput` instead of reading the file a second time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bulkops.engine.sources import read_ids_file
from bulkops.errors import Param, UsageError
from bulkops.models import validate_record_id

__all__ = ["IdsInput", "IdsSource", "prepare_ids"]

IdsSource = Iterable[str] | str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class IdsInput:
    """A re-readable, validated list of IDs: ``open()`` iterates them again in the same order.

    ``path``: the absolute path of the file they came from (None: an iterable held in memory).
    """

    open: Callable[[], Iterable[str]]
    count: int
    digest: str  # sha256 of the IDs: ties a checkpoint to exactly this input
    path: str | None

    @property
    def source(self) -> str:
        return self.path if self.path is not None else f"{self.count} IDs"


def prepare_ids(ids: IdsSource | IdsInput) -> IdsInput:
    """Validate every ID (ASCII, no NUL, 1..512 characters, at least one) and fingerprint the input.

    A ``str`` or path is a file with one ID per line (blank lines skipped); anything else is an
    iterable of IDs (read into memory once, so that it can be validated before the first request and
    re-read on verification). An :class:`IdsInput` is already prepared and comes back as it is.
    """
    if isinstance(ids, IdsInput):
        return ids
    if isinstance(ids, str | os.PathLike):
        return _prepare_file(Path(ids).absolute(), str(ids))
    digest = hashlib.sha256()
    items = list(ids)
    for position, record_id in enumerate(items):
        if not isinstance(record_id, str):
            raise UsageError(
                Param("ids"), f"[{position}] is {type(record_id).__name__}, not a string; nothing was sent"
            )
        problem = validate_record_id(record_id)
        if problem is not None:
            raise UsageError(Param("ids"), f"[{position}]: {problem}; nothing was sent")
        digest.update(record_id.encode("ascii") + b"\n")
    if not items:
        raise UsageError(Param("ids"), " holds no IDs; give at least one")
    frozen = tuple(items)
    return IdsInput(lambda: frozen, len(frozen), digest.hexdigest(), None)


def _prepare_file(path: Path, given: str) -> IdsInput:
    if not path.exists():
        raise UsageError(Param("ids", given), ": no such file; give a text file with one ID per line")
    if not path.is_file():
        raise UsageError(Param("ids", given), ": not a regular file; give a text file with one ID per line")
    digest = hashlib.sha256()
    count = 0
    try:
        for block in _id_blocks(path):
            digest.update(("\n".join(block) + "\n").encode("ascii"))
            count += len(block)
    except OSError as exc:
        raise UsageError(Param("ids", given), f": cannot read it ({exc.strerror})") from None
    except UsageError as exc:  # the line reader names the file and line
        raise UsageError(Param("ids"), f": {exc}", param="ids") from None
    if count == 0:
        raise UsageError(Param("ids", given), " holds no IDs (one ID per line)")
    return IdsInput(
        lambda: itertools.chain.from_iterable(_id_blocks(path)), count, digest.hexdigest(), str(path)
    )


_BLOCK_BYTES = 1 << 20
_SLOW_BLOCK_IDS = 10_000
# A line the fast path cannot take as is: empty (skipped by the line reader), with whitespace at either
# end (str.strip's ASCII whitespace; an error), or longer than any valid ID (an error).
_NOT_PLAIN_LINE = re.compile(
    rb"^$|^[ \t\x0b\x0c\x1c-\x1f]|[ \t\x0b\x0c\x1c-\x1f]$|^[^\n]{513,}", re.MULTILINE
)


def _id_blocks(path: Path) -> Iterator[list[str]]:
    """The IDs of ``path`` in blocks, exactly as :func:`read_ids_file` gives them, several times faster.

    Validating and fingerprinting a big IDs file line by line was a visible part of a purge's start
    (profiled: ~0.1 s per 50k IDs before the first request). A block of plain lines (ASCII, no NUL or
    CR, no blank line, no surrounding whitespace, none longer than an ID may be) is valid as a whole and
    split in one call; from the first block that is not, the line reader takes over, so the IDs and the
    error (file and line) are the same as its.
    """
    done = 0
    with open(path, "rb") as handle:
        carry = b""
        while True:
            chunk = handle.read(_BLOCK_BYTES)
            data = carry + chunk
            if not chunk:
                cut, carry = len(data), b""
            else:
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
            block = data[:cut].removesuffix(b"\n")
            if block:
                if not _plain(block):
                    break
                ids = block.decode("ascii").split("\n")
                done += len(ids)
                yield ids
            if not chunk:
                return
    rest = itertools.islice(read_ids_file(path), done, None)
    while block_ids := list(itertools.islice(rest, _SLOW_BLOCK_IDS)):
        yield block_ids


def _plain(block: bytes) -> bool:
    return block.isascii() and b"\0" not in block and b"\r" not in block and not _NOT_PLAIN_LINE.search(block)
