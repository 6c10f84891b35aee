"""Checks on job inputs that run before anything is sent, so bad input changes nothing (exit 2).

They repeat some of the library's own checks on purpose: the CLI wants to fail *before* asking for
confirmation, opening a checkpoint or creating a backup, and with the option's name in the message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bulkops.errors import UsageError
from bulkops.models import validate_record_id

__all__ = ["check_ids_file", "check_input_path", "check_output_path", "check_prefix"]


def check_prefix(prefix: str) -> None:
    """A list prefix: a non-empty ASCII ID start without spaces (the API rejects spaces in ``prefix``)."""
    if not prefix:
        raise UsageError("--prefix must not be empty (to purge a whole namespace use --all)")
    if any(ch.isspace() for ch in prefix):
        raise UsageError(
            f"--prefix {prefix!r} contains whitespace; Pinecone ID prefixes cannot contain spaces"
        )
    problem = validate_record_id(prefix)
    if problem:
        raise UsageError(f"--prefix is not a valid ID prefix: {problem}")


def check_ids_file(path: str) -> int:
    """Read the IDs file once (one ID per line, blank lines ignored); return how many IDs it holds."""
    file = Path(path)
    if not file.exists():
        raise UsageError(f"--ids-file {path}: no such file")
    if not file.is_file():
        raise UsageError(f"--ids-file {path}: not a regular file")
    count = 0
    try:
        with file.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                try:
                    record_id = line.decode("ascii")
                except UnicodeDecodeError:
                    raise UsageError(
                        f"--ids-file {path} line {number}: not ASCII; Pinecone IDs are ASCII"
                    ) from None
                problem = validate_record_id(record_id)
                if problem:
                    raise UsageError(f"--ids-file {path} line {number}: {problem}")
                count += 1
    except OSError as exc:
        raise UsageError(f"--ids-file {path}: cannot read it ({exc.strerror})") from None
    if count == 0:
        raise UsageError(f"--ids-file {path} holds no IDs (one ID per line)")
    return count


def check_input_path(path: str, option: str = "--input") -> None:
    """An export to import: a JSONL file or a Parquet directory/file that exists and can be read."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{option} {path}: no such file or directory")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{option} {path}: not readable")


def check_output_path(path: str, option: str = "--output") -> str:
    """Where an export goes: ``.jsonl`` file or ``.parquet`` (a directory of parts). Returns the format."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise UsageError(f"{option} {path}: the name must end in .jsonl or .parquet (that picks the format)")
    parent = p.parent
    if not parent.exists():
        raise UsageError(f"{option} {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a directory")
    _probe_writable(parent, option, path)
    if p.exists() and suffix == ".jsonl" and not p.is_file():
        raise UsageError(f"{option} {path}: exists and is not a regular file")
    return suffix.lstrip(".")


def _probe_writable(directory: Path, option: str, path: str) -> None:
    """Create and remove a scratch file: permission bits lie for root and read-only mounts."""
    try:
        fd, scratch = tempfile.mkstemp(prefix=".bulkops-probe-", dir=directory)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write in {directory} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(scratch)
