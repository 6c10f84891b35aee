"""Why a bulk import stops: the one error type its steps raise, with the text ``describe_import`` shows."""

from __future__ import annotations

__all__ = ["ImportFailure"]


class ImportFailure(Exception):
    """The import cannot go on; ``str(self)`` is the ``error`` field of the failed import."""
