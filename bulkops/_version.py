"""The installed version of bulkops, read from the package metadata (``pyproject.toml`` is its one source).

A leaf module, so that any layer (the client's ``User-Agent``, the CLI's ``--version``) can ask for the
version without importing the top-level package.
"""

from __future__ import annotations

from functools import cache

__all__ = ["package_version"]


@cache
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~10 ms: only when asked

    try:
        return version("bulkops")
    except PackageNotFoundError:  # a source tree on sys.path that was never installed
        return "0+unknown"
