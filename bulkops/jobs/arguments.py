"""Keyword arguments whose names changed to match the CLI's options: the old names still work, with a
DeprecationWarning."""

from __future__ import annotations

import os
import warnings
from typing import TypeVar

from bulkops.errors import Param, UsageError

__all__ = ["ids_argument", "renamed"]

T = TypeVar("T")


def renamed(new_name: str, new: T, old_name: str, old: T) -> T:
    """The value of ``new_name``, taken from ``old_name`` (warning) when only the old one was given."""
    if old is None:
        return new
    if new is not None:
        raise UsageError("give ", Param(new_name), " only (", Param(old_name), " is its old name)")
    warnings.warn(
        f"{old_name}= is deprecated; use {new_name}= (the name of the CLI's --{new_name} option)",
        DeprecationWarning,
        stacklevel=3,
    )
    return old


def ids_argument(ids: T, ids_file: str | os.PathLike[str] | None) -> T | str | os.PathLike[str]:
    """The IDs a job was given: ``ids_file=`` (the CLI's ``--ids-file``) or ``ids=`` in memory. A path
    given as ``ids=`` still works, with a DeprecationWarning."""
    if ids_file is not None:
        if ids is not None:
            raise UsageError("give ", Param("ids"), " (IDs in memory) or ", Param("ids_file"), ", not both")
        if not isinstance(ids_file, str | os.PathLike):
            raise UsageError(Param("ids_file"), " is the path of a file with one ID per line")
        return ids_file
    if isinstance(ids, str | os.PathLike):
        warnings.warn(
            "ids= with a file path is deprecated; use ids_file= (the name of the CLI's --ids-file option)",
            DeprecationWarning,
            stacklevel=3,
        )
    return ids
