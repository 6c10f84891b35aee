"""Everything the CLI shows: results on stdout, messages and errors on stderr.

Results are a rich table on a terminal, plain aligned text when piped, or one JSON document with
``--json`` (so ``bulkops --json ... | jq`` always works). Errors are one line on stderr and map to the
exit codes documented in the README; the API key is redacted from anything printed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from bulkops.cli.options import spell
from bulkops.errors import (
    EXIT_CODES,
    ApiError,
    AuthenticationError,
    BulkopsError,
    DeletionProtectedError,
    NotFoundError,
    TransportError,
    redact,
)

__all__ = ["Output", "exit_code_for", "one_line"]

Row = Mapping[str, Any]
MIN_REDACTED_KEY = 8  # Pinecone keys are ~70 characters; test keys in tests/cli are longer than this


def one_line(text: str) -> str:
    """Collapse whitespace so an error is always exactly one line."""
    return " ".join(text.split())


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_CODES["interrupted"]
    if isinstance(exc, BulkopsError):
        return exc.exit_code
    if isinstance(exc, click.exceptions.UsageError | click.BadParameter):
        return EXIT_CODES["usage"]
    if isinstance(exc, click.ClickException):
        return exc.exit_code
    return EXIT_CODES["error"]


_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (AuthenticationError, "check --api-key or PINECONE_API_KEY"),
    (DeletionProtectedError, "run `bulkops indexes configure NAME --deletion-protection disabled` first"),
    (TransportError, "check --controller-host / --host and that the server is reachable"),
)


def _hint_for(exc: BaseException) -> str | None:
    for cls, hint in _HINTS:
        if isinstance(exc, cls):
            return hint
    return None


class Output:
    """Where and how a command prints. One per invocation, built from the global options."""

    def __init__(self, *, json_mode: bool = False, quiet: bool = False, secret: str | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.secret = secret
        self.stdout = Console()
        self.stderr = Console(stderr=True, soft_wrap=True)
        if not self.stdout.is_terminal:
            # Piped output is read by scripts and people pasting reports: never cut a value short.
            self.stdout = Console(width=max(self.stdout.width, 240))

    # -- results (stdout) ---------------------------------------------------------------------------
    def document(self, doc: Any) -> None:
        """Write one JSON document to stdout (the ``--json`` result)."""
        data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default)
        sys.stdout.write(self.redact(data.decode()) + "\n")
        sys.stdout.flush()

    def table(self, rows: Sequence[Row], columns: Sequence[str], *, title: str | None = None) -> None:
        """A result that is a list of objects: a table, or the list itself as JSON."""
        if self.json_mode:
            self.document(list(rows))
            return
        if not rows:
            self.info(f"(no {title or 'results'})")
            return
        table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(self.redact(_cell(row.get(column))) for column in columns))
        self.stdout.print(table)

    def record(self, doc: Row, *, title: str | None = None) -> None:
        """A result that is one object: two columns (field, value), or the object as JSON."""
        if self.json_mode:
            self.document(doc)
            return
        table = Table(title=title, title_justify="left", show_header=False, show_edge=False)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, value in doc.items():
            table.add_row(str(key), self.redact(_cell(value)))
        self.stdout.print(table)

    # -- messages (stderr) --------------------------------------------------------------------------
    def info(self, text: str) -> None:
        """Human chatter: suppressed by --quiet and in --json mode's stdout (it goes to stderr)."""
        if not self.quiet:
            self.stderr.print(self.redact(text), highlight=False)

    def warn(self, text: str) -> None:
        self.stderr.print(f"[yellow]warning:[/yellow] {self.redact(text)}", highlight=False)

    def error(self, exc: BaseException) -> int:
        """Print ``exc`` as one line on stderr; return the exit code it maps to."""
        if isinstance(exc, click.ClickException):
            message = exc.format_message()
            if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
                message += f" (see `{exc.ctx.command_path} --help`)"
        elif isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        elif isinstance(exc, NotFoundError):
            message = f"not found: {exc.message} (HTTP {exc.status})"
        elif isinstance(exc, ApiError):
            message = f"{exc.message} (HTTP {exc.status})"
        elif isinstance(exc, BulkopsError):  # the parameters it names, spelled as the CLI's options
            message = exc.render(spell) or type(exc).__name__
        else:
            message = f"unexpected {type(exc).__name__}: {exc}"
        hint = _hint_for(exc)
        if hint and "`bulkops " not in message:  # the message may already say exactly what to run
            message = f"{message.rstrip('.')}; {hint}"
        # markup=False: messages quote user input such as filters with [brackets].
        self.stderr.print(f"error: {one_line(self.redact(message))}", markup=False, highlight=False)
        return exit_code_for(exc)

    def redact(self, text: str) -> str:
        # Real keys are long; a short placeholder ("local") would blank out ordinary words and paths.
        if self.secret is None or len(self.secret) < MIN_REDACTED_KEY:
            return text
        return redact(text, self.secret)

    @property
    def interactive(self) -> bool:
        """Progress bars and live displays only when stderr is a terminal and the user wants chatter."""
        return self.stderr.is_terminal and not self.quiet and not self.json_mode


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=_default).decode()
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _default(value: Any) -> Any:
    """orjson fallback for report values: paths, sets, dataclasses without orjson support."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
