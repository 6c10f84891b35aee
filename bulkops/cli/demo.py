"""``bulkops demo``: the whole tour on an embedded local server, with no account and no arguments."""

from __future__ import annotations

import click

__all__ = ["demo"]


@click.command()
def demo() -> None:
    """Run every job end to end on a local server in a temp dir (no account needed)."""
    raise click.ClickException("demo is not available yet: the local server has not landed")
