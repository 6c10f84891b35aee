"""``bulkops resume CHECKPOINT`` and ``bulkops status CHECKPOINT``: a job's checkpoint is its memory."""

from __future__ import annotations

import click

from bulkops.cli.context import Settings, global_options, pass_settings

__all__ = ["resume", "status"]


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@global_options(with_env=False)
@pass_settings
def resume(settings: Settings, checkpoint: str) -> None:
    """Resume the job recorded in CHECKPOINT where it stopped."""
    raise click.ClickException("resume is not available yet: the checkpoint module has not landed")


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@global_options(with_env=False)
@pass_settings
def status(settings: Settings, checkpoint: str) -> None:
    """What CHECKPOINT holds: the job, its target, and how far it got."""
    raise click.ClickException("status is not available yet: the checkpoint module has not landed")
