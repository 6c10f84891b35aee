"""The ``bulkops`` command: a click group; each command lives in its own module under ``bulkops.cli``.

``main`` runs click in non-standalone mode so that *every* failure — click's own usage errors, library
errors, Ctrl-C — is printed the same way (one line on stderr) and exits with the documented code.
"""

from __future__ import annotations

import sys

import click

from bulkops import __version__
from bulkops.cli.context import Settings, global_options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkops")
@global_options(with_env=True)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Fast, resumable bulk operations on Pinecone serverless indexes.

    Exit codes: 0 ok, 1 error, 2 usage (nothing changed), 3 partial / verification failed,
    130 interrupted (the checkpoint is flushed and the resume command printed).
    """
    ctx.ensure_object(Settings)


def _register() -> None:
    """Attach every command. Imports stay here so ``bulkops --help`` does not load the whole library."""
    from bulkops.cli import backups, bench, checkpoints, demo, indexes, jobs, namespaces

    for command in (
        indexes.indexes,
        backups.backups,
        backups.restore_jobs,
        namespaces.namespaces,
        jobs.purge,
        jobs.export,
        jobs.import_,
        checkpoints.resume,
        checkpoints.status,
        demo.demo,
        bench.bench,
    ):
        cli.add_command(command)
    from bulkops.cli.serve import serve

    cli.add_command(serve)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the group, map any failure to one line and an exit code."""
    settings = Settings()  # created here so errors raised after click unwinds are still redacted
    try:
        result = cli.main(args=argv, prog_name="bulkops", standalone_mode=False, obj=settings)
    except click.exceptions.Abort:  # click turns Ctrl-C (outside our own handling) into Abort
        sys.exit(settings.out.error(KeyboardInterrupt()))
    except (Exception, KeyboardInterrupt) as exc:
        code = settings.out.error(exc)
        if settings.verbose and not isinstance(exc, click.ClickException):
            import traceback

            text = "".join(traceback.format_exception(exc))
            settings.out.stderr.print(settings.out.redact(text), markup=False, highlight=False)
        sys.exit(code)
    # A command that ends with ctx.exit(N) comes back as the int N in non-standalone mode.
    sys.exit(result if isinstance(result, int) else 0)
