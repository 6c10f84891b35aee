"""The one table from the library's parameter names to the CLI's options.

Library errors name the parameters they are about as :class:`bulkops.errors.Param` parts; the CLI
prints the same error with each parameter spelled as its option (``max_delete=10`` becomes
``--max-delete 10``), so it never rewrites library text and the two cannot drift apart.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from bulkops.errors import Param, UsageError

__all__ = ["OPTION_FOR", "single", "spell"]

OPTION_FOR: Mapping[str, str] = {
    "all_namespaces": "--all-namespaces",
    "api_key": "--api-key",
    "allow_missing": "--allow-missing",
    "backup_first": "--backup-first",
    "checkpoint": "--checkpoint",
    "all": "--all",
    "everything": "--all",
    "export_first": "--export-first",
    "filter": "--filter",
    "host": "--host",
    "ids": "--ids-file",
    "ids_file": "--ids-file",
    "index": "--index",
    "input": "--input",
    "limits": "--limits",
    "max_delete": "--max-delete",
    "namespace": "--namespace",
    "namespace_map": "--namespace-map",
    "namespaces": "--namespace",
    "on_error": "--on-error",
    "output": "--output",
    "overwrite": "--overwrite",
    "prefix": "--prefix",
    "to_cloud": "--to-cloud",
    "to_host": "--to-host",
    "to_index": "--to-index",
    "to_region": "--to-region",
    "transport": "--transport",
    "verify_delay": "--verify-delay",
    "verify_sample": "--verify-sample",
}


def spell(param: Param) -> str:
    """``param`` as the CLI's option (with its value as it would be typed), or as the library names it."""
    option = OPTION_FOR.get(param.name)
    if option is None:
        return str(param)
    if not param.has_value or param.value is True:
        return option
    return f"{option} {shlex.quote(str(param.value))}"


def single(values: Sequence[str], option: str) -> str | None:
    """The one value of an option that may be given once (click keeps the last of a repeated option
    silently; here a repeat is an error, never a dropped value)."""
    if len(values) > 1:
        raise UsageError(
            f"{option} was given {len(values)} times ({', '.join(map(repr, values))}); give it once"
        )
    return values[0] if values else None
