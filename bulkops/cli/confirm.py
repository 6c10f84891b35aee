"""Confirmation before destructive work: show what will go, then ask — or refuse when nobody can answer.

Without a terminal on stdin (scripts, CI, pipes) nobody can answer, so a destructive command refuses
with a usage error (exit 2, nothing changed) unless ``--yes`` was given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click

from bulkops.cli.output import Output
from bulkops.errors import UsageError

__all__ = ["confirm_destructive", "yes_option"]

yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


def confirm_destructive(
    out: Output, action: str, what: Sequence[str] | Callable[[], Sequence[str]], *, yes: bool
) -> None:
    """Show ``what`` will be destroyed by ``action``; return only if the user agreed (or ``--yes``).
    ``what`` may be a function: it is called only when someone will be asked (it may send requests).

    Raises UsageError (exit 2) when there is no terminal to ask and ``--yes`` was not given, and
    UsageError too when the user says no (nothing was changed either way).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"refusing to {action} without confirmation: no terminal to ask; pass --yes")
    lines = what() if callable(what) else what
    out.stderr.print(f"[bold red]About to {action}:[/bold red]", highlight=False)
    for line in lines:
        out.stderr.print(f"  - {out.redact(line)}", markup=False, highlight=False)
    if not click.confirm("Proceed?", default=False, err=True):
        raise UsageError(f"not confirmed: did not {action}; nothing was changed")
