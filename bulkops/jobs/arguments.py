"""Keyword arguments whose names changed to match the CLI's options: the old names still work, with a
DeprecationWarning."""

from __future__ import annotations

import warnings
from typing import TypeVar

from bulkops.errors import Param, UsageError

__all__ = ["renamed"]

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
