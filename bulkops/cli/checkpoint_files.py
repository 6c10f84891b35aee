"""``bulkops checkpoints list|prune [DIR]``: the checkpoints in a directory, and clearing out old ones.

``list`` reads each checkpoint with :meth:`~bulkops.engine.checkpoint.Checkpoint.inspect` (read-only,
safe while a job runs). ``prune`` deletes the finished ones (``--finished``) and/or those not touched
for a while (``--older-than 7d``) with :meth:`~bulkops.engine.checkpoint.Checkpoint.remove`, which takes
the run lock first: a checkpoint whose job is running is never deleted. DIR defaults to the state
directory where purge and load keep their checkpoints (``$XDG_STATE_HOME/bulkops``); export checkpoints
live beside their output (``out.jsonl.checkpoint``): give that directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bulkops.cli.checkpoints import iso_time, phase_of, state_of
from bulkops.cli.confirm import confirm_destructive, yes_option
from bulkops.cli.context import Settings, global_options, pass_settings
from bulkops.cli.output import shorten
from bulkops.cli.runner import state_dir
from bulkops.clock import SYSTEM_CLOCK
from bulkops.engine.checkpoint import Checkpoint, CheckpointView
from bulkops.errors import CheckpointBusyError, CheckpointError, UsageError
from bulkops.jobs.resume import spec_from_json

__all__ = ["checkpoints", "parse_age"]

_COLUMNS = ("checkpoint", "kind", "state", "phase", "modified", "size", "job")
_SIDE_FILES = ("-wal", "-shm", ".lock")  # SQLite's and the run lock's companions of a checkpoint
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w`` as seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not found:
        raise click.BadParameter(f"{text!r} is not an age; give e.g. 7d, 12h, 30m or 90s")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


@dataclass(frozen=True, slots=True)
class Found:
    """A checkpoint in the directory, as inspect saw it."""

    path: Path
    view: CheckpointView
    kind: str
    job: str
    modified: float
    size: int

    @property
    def age(self) -> float:
        return max(0.0, SYSTEM_CLOCK.wall() - self.modified)

    def row(self) -> dict[str, Any]:
        running = self.view.running
        return {
            "checkpoint": str(self.path),
            "kind": self.kind,
            "state": state_of(self.view),
            "phase": phase_of(self.view, self.kind),
            "modified": iso_time(self.modified),
            "age_seconds": round(self.age, 1),
            "size": self.size,
            "job": shorten(self.job),
            "pid": running.pid if running is not None else None,
        }


def _directory(given: str | None) -> Path | None:
    """The directory to look in (None: the default one, which does not exist yet)."""
    if given is None:
        default = state_dir()
        return default if default.is_dir() else None
    path = Path(given)
    if not path.is_dir():
        raise UsageError(f"{given}: no such directory; give the directory that holds the checkpoints")
    return path.absolute()


def scan(directory: Path | None) -> list[Found]:
    """Every bulkops checkpoint directly in ``directory`` (other files, and checkpoints still being
    created, are skipped), oldest first."""
    if directory is None:
        return []
    found: list[Found] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.endswith(_SIDE_FILES):
            continue
        try:
            view = Checkpoint.inspect(path)
            spec = spec_from_json(view.kind, view.spec)
            stat = path.stat()
        except (CheckpointError, UsageError, OSError):
            continue
        found.append(Found(path, view, spec.kind, spec.describe(), stat.st_mtime, stat.st_size))
    return sorted(found, key=lambda item: item.modified)


@click.group()
def checkpoints() -> None:
    """List the checkpoints in a directory, and prune finished or old ones."""


@checkpoints.command("list")
@click.argument("directory", required=False, metavar="[DIR]")
@global_options(with_env=False)
@pass_settings
def list_(settings: Settings, directory: str | None) -> None:
    """The checkpoints in DIR (default: $XDG_STATE_HOME/bulkops), read-only: kind, state, phase, age."""
    rows = [item.row() for item in scan(_directory(directory))]
    settings.out.table(rows, _COLUMNS, title="checkpoints")


@checkpoints.command()
@click.argument("directory", required=False, metavar="[DIR]")
@click.option("--finished", is_flag=True, help="Checkpoints of finished jobs.")
@click.option(
    "--older-than", "older_than", metavar="AGE", help="Checkpoints not touched for AGE (7d, 12h, 30m, 90s)."
)
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@yes_option
@global_options(with_env=False)
@pass_settings
def prune(
    settings: Settings,
    directory: str | None,
    finished: bool,
    older_than: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Delete checkpoints in DIR: finished ones (--finished) and/or old ones (--older-than AGE; both:
    finished and old). A checkpoint whose job is running is never deleted."""
    if not finished and older_than is None:
        raise UsageError("say which checkpoints to delete: --finished, --older-than AGE, or both")
    age = parse_age(older_than) if older_than is not None else None
    found = scan(_directory(directory))
    chosen = [
        item for item in found if (not finished or item.view.finished) and (age is None or item.age >= age)
    ]
    running = [item for item in chosen if item.view.running is not None]
    doomed = [item for item in chosen if item.view.running is None]
    if doomed and not dry_run:
        unfinished = sum(1 for item in doomed if not item.view.finished)
        lines = [
            f"{item.path} ({item.kind}, {state_of(item.view)}): {shorten(item.job)}" for item in doomed[:20]
        ]
        if len(doomed) > 20:
            lines.append(f"... and {len(doomed) - 20} more")
        if unfinished:
            lines.append(f"{unfinished} of them unfinished: those jobs could no longer be resumed")
        confirm_destructive(settings.out, f"delete {len(doomed)} checkpoint(s)", lines, yes=yes)
    removed: list[Found] = []
    for item in doomed:
        if dry_run:
            removed.append(item)
            continue
        try:
            Checkpoint.remove(item.path)
        except CheckpointBusyError:  # its job started since the scan
            running.append(item)
            continue
        removed.append(item)
    if settings.json:
        settings.out.document(
            {
                "dry_run": dry_run,
                "removed": [item.row() for item in removed],
                "kept_running": [item.row() for item in running],
            }
        )
        return
    title = "checkpoints to delete (dry run)" if dry_run else "checkpoints deleted"
    settings.out.table([item.row() for item in removed], _COLUMNS, title=title)
    for item in running:
        settings.out.info(f"kept {item.path}: its job is running")
