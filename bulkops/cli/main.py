"""The ``bulkops`` command: a click group; each command lives in its own module under ``bulkops.cli``.

``main`` runs click in non-standalone mode so that *every* failure — click's own usage errors, library
errors, Ctrl-C — is printed the same way (one line on stderr) and exits with the documented code.
Without the ``[cli]`` extra (click, rich) the console script says how to install it and exits 1.
"""

from __future__ import annotations

import importlib
import sys

try:
    import click

    from bulkops.cli.context import Settings, global_options
    from bulkops.cli.signals import Terminated, raise_on_sigterm
except ImportError as missing:  # the base install: the command's dependencies come with the [cli] extra
    package = (missing.name or "").partition(".")[0]
    if package not in ("click", "rich"):
        raise
    raise SystemExit(
        f"error: the bulkops command needs the [cli] extra ({package} is not installed): "
        "pip install 'bulkops[cli]'"
    ) from None

from bulkops import __version__

# Each command is imported only when it runs (or for --help): ``bulkops indexes list`` should not pay
# for importing the local server. name -> "module:attribute".
COMMANDS: dict[str, str] = {
    "indexes": "bulkops.cli.indexes:indexes",
    "backups": "bulkops.cli.backups:backups",
    "restore-jobs": "bulkops.cli.backups:restore_jobs",
    "namespaces": "bulkops.cli.namespaces:namespaces",
    "purge": "bulkops.cli.jobs:purge",
    "export": "bulkops.cli.jobs:export",
    "load": "bulkops.cli.jobs:load",
    "import": "bulkops.cli.jobs:import_",  # Pinecone's word for it: the same command as load
    "copy": "bulkops.cli.jobs:copy",
    "imports": "bulkops.cli.imports:imports",
    "resume": "bulkops.cli.checkpoints:resume",
    "checkpoints": "bulkops.cli.checkpoint_files:checkpoints",
    "status": "bulkops.cli.checkpoints:status",
    "demo": "bulkops.cli.demo:demo",
    "serve": "bulkops.cli.serve:serve",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkops")
@global_options(with_env=True)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Fast, resumable bulk operations on Pinecone serverless indexes.

    Exit codes: 0 ok, 1 error, 2 usage (nothing changed), 3 partial / verification failed,
    130 interrupted by Ctrl-C, 143 by SIGTERM (the checkpoint is flushed and the resume command
    printed).
    """
    ctx.ensure_object(Settings)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the group, map any failure to one line and an exit code."""
    settings = Settings()  # created here so errors raised after click unwinds are still redacted
    settings.start_logging()
    raise_on_sigterm()
    try:
        result = cli.main(args=argv, prog_name="bulkops", standalone_mode=False, obj=settings)
    except click.exceptions.Abort:  # click turns Ctrl-C (outside our own handling) into Abort
        sys.exit(settings.out.error(KeyboardInterrupt()))
    except (Exception, KeyboardInterrupt, Terminated) as exc:
        code = settings.out.error(exc)
        if settings.verbose and not isinstance(exc, click.ClickException):
            import traceback

            text = "".join(traceback.format_exception(exc))
            settings.out.stderr.print(settings.out.redact(text), markup=False, highlight=False)
        sys.exit(code)
    # A command that ends with ctx.exit(N) comes back as the int N in non-standalone mode.
    sys.exit(result if isinstance(result, int) else 0)
