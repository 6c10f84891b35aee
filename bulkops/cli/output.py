"""Everything the CLI shows: results on stdout, messages and errors on stderr.

Results are a rich table on a terminal, plain aligned text when piped, or one JSON document with
``--json`` (so ``bulkops --json ... | jq`` always works). Errors are one line on stderr and map to the
exit codes documented in the README; with ``--json`` the error is also a JSON document on stdout,
``{"error": {"message", "type", "exit_code", "param", "option"}}`` (inside the report when a job ended
part-way). The API key is redacted from anything printed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from bulkops.cli.logs import LogFormat, line
from bulkops.cli.options import OPTION_FOR, spell
from bulkops.cli.signals import Terminated
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

__all__ = ["Output", "exit_code_for", "first_error", "one_line", "shorten"]

Row = Mapping[str, Any]
MIN_REDACTED_KEY = 8  # Pinecone keys are ~70 characters; test keys in tests/cli are longer than this


def one_line(text: str) -> str:
    """Collapse whitespace so an error is always exactly one line."""
    return " ".join(text.split())


def shorten(text: str, width: int = 160) -> str:
    """``text`` on one line, cut to ``width`` characters (a 10,000-value filter in a table cell...)."""
    text = one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def first_error(exc: BaseException) -> BaseException:
    """The error itself out of an ExceptionGroup (the library raises errors as themselves; this keeps
    anything else that gathers them from reaching the user as "unexpected ExceptionGroup")."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception that ended a command."""
    exc = first_error(exc)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_CODES["interrupted"]
    if isinstance(exc, Terminated):
        return EXIT_CODES["terminated"]
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

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        secret: str | None = None,
        log_format: LogFormat = "text",
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.secret = secret
        self.log_format: LogFormat = log_format
        self.documents = 0  # JSON documents written to stdout by this invocation
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
        self.documents += 1

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
        if self.log_format == "json":
            json_line = line("json", level="warning", logger="bulkops.cli", message=text)
            self.stderr.print(self.redact(json_line), markup=False, highlight=False, soft_wrap=True)
            return
        self.stderr.print(f"[yellow]warning:[/yellow] {self.redact(text)}", highlight=False)

    def event(self, message: str, fields: Mapping[str, Any]) -> None:
        """One progress line on stderr, in ``--log-format`` (the key redacted)."""
        text = line(self.log_format, level="info", logger="bulkops.cli", message=message, fields=fields)
        self.stderr.print(self.redact(text), markup=False, highlight=False, soft_wrap=True)

    def error(self, exc: BaseException) -> int:
        """Print ``exc`` as one line on stderr (and with ``--json`` as a document on stdout, unless the
        report already written carries it); return the exit code it maps to."""
        exc = first_error(exc)
        message = self.error_message(exc)
        # markup=False: messages quote user input such as filters with [brackets].
        self.stderr.print(f"error: {message}", markup=False, highlight=False)
        if self.json_mode and not self.documents:
            self.document({"error": self.error_document(exc)})
        return exit_code_for(exc)

    def error_document(self, exc: BaseException) -> dict[str, Any]:
        """``exc`` as the JSON the ``--json`` mode prints: message, type, exit code, and the parameter it
        is about with its option."""
        exc = first_error(exc)
        param = getattr(exc, "param", None)
        if isinstance(exc, click.BadParameter) and exc.param is not None:
            param = exc.param.name
        option = OPTION_FOR.get(param) if isinstance(param, str) else None
        if isinstance(exc, click.BadParameter) and exc.param is not None and exc.param.opts:
            option = exc.param.opts[0]
        return {
            "message": self.error_message(exc),
            "type": type(exc).__name__,
            "exit_code": exit_code_for(exc),
            "param": param if isinstance(param, str) else None,
            "option": option,
        }

    def error_message(self, exc: BaseException) -> str:
        """The one line that says what went wrong (and what to do), key redacted."""
        if isinstance(exc, click.ClickException):
            message = exc.format_message()
            if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
                message += f" (see `{exc.ctx.command_path} --help`)"
        elif isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        elif isinstance(exc, Terminated):
            message = "terminated (SIGTERM)"
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
        return one_line(self.redact(message))

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
