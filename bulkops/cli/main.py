"""The ``bulkops`` command: a click group; each command lives in its own module under ``bulkops.cli``."""

from __future__ import annotations

import click

from bulkops import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkops")
def cli() -> None:
    """Fast, resumable bulk operations on Pinecone serverless indexes."""


def main() -> None:
    """Console-script entry point."""
    cli()
