"""The global options, shared by every command, and the one way commands run async work.

Global options are accepted both before the command (``bulkops --json indexes list``) and after it
(``bulkops indexes list --json``): the group stores them in :class:`Settings`, and each command's own
copy of the options overwrites what the user gave there. Environment variables are read once, by the
group, exactly as the official SDK reads them (``PINECONE_API_KEY``, ``PINECONE_CONTROLLER_HOST``).
``--namespace`` may be repeated (every value applies; before and after the command add up); giving
``--index``, ``--host``, ``--limits`` or ``--transport`` twice is an error rather than the last one
silently winning. ``--transport`` (env ``BULKOPS_TRANSPORT``) is the library's ``transport`` argument,
passed to the client of every command, so jobs and data-plane commands use the same wire; the library
checks the value (one source for what is valid).
``--log-format`` and ``--stats-interval`` are for scripts and containers (:mod:`bulkops.cli.logs`,
:mod:`bulkops.cli.progress`).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from bulkops.cli.logs import LogFormat, configure_logging, quiet_grpc
from bulkops.cli.options import single
from bulkops.cli.output import Output
from bulkops.cli.signals import run_cancellable
from bulkops.errors import UsageError

__all__ = ["Settings", "global_options", "pass_settings", "run_async"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    """What the global options say. The API key never appears in ``repr``."""

    api_key: str | None = field(default=None, repr=False)
    controller_host: str | None = None
    index: str | None = None
    host: str | None = None
    namespaces: tuple[str, ...] = ()
    limits: str | None = None
    transport: str | None = None  # auto | grpc | rest; None: not given (the library's default, auto)
    json: bool = False
    quiet: bool = False
    verbose: bool = False
    log_format: LogFormat = "text"
    stats_interval: float = 10.0
    _output: Output | None = field(default=None, repr=False)

    @property
    def out(self) -> Output:
        if self._output is None:
            self._output = Output(
                json_mode=self.json, quiet=self.quiet, secret=self.api_key, log_format=self.log_format
            )
        return self._output

    def start_logging(self) -> None:
        """bulkops's loggers to stderr in ``--log-format``, the key redacted (again after an option)."""
        quiet_grpc(verbose=self.verbose)
        configure_logging(verbose=self.verbose, form=lambda: self.log_format, redact=self.out.redact)

    @property
    def namespace(self) -> str | None:
        """The one ``--namespace`` of a command that takes one (None: not given)."""
        return single(self.namespaces, "--namespace")

    def target_required(self) -> None:
        """Data-plane commands need exactly one of --index / --host."""
        if self.index and self.host:
            raise UsageError("give either --index NAME or --host URL, not both")
        if not self.index and not self.host:
            raise UsageError("which index? give --index NAME or --host URL")

    def global_args(self) -> list[str]:
        """The global options to repeat in a printed command (never the API key)."""
        args: list[str] = []
        if self.controller_host:
            args += ["--controller-host", self.controller_host]
        limits = self.limits_spec()
        if limits:
            args += ["--limits", limits]
        if self.transport:
            args += ["--transport", self.transport]
        return args

    def limits_spec(self) -> str | None:
        """--limits as it should be recorded: a profile file by its absolute path (any directory works)."""
        if self.limits and Path(self.limits).is_file():
            return str(Path(self.limits).absolute())
        return self.limits

    def command_line(self, *words: str) -> str:
        """A copy-pasteable ``bulkops ...`` command using these settings."""
        return shlex.join(["bulkops", *self.global_args(), *words])


pass_settings = click.make_pass_decorator(Settings, ensure=True)


_REPEATABLE = ("namespaces",)  # every value applies
_ONCE = ("index", "host", "limits", "transport")  # a repeat is an error


def _seconds(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value} is not a number of seconds (0 or more; 0 turns the lines off)")
    return value


def _setter(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False or value == ():
            return  # not given here: keep what the group (or the environment) said
        settings = ctx.ensure_object(Settings)
        if name in _REPEATABLE:
            value = (*getattr(settings, name), *value)
        elif name in _ONCE:
            value = single(value, param.opts[0])
        elif name == "stats_interval":
            value = _seconds(value)
        setattr(settings, name, value)
        if name in ("json", "quiet", "api_key", "log_format"):
            settings._output = None  # rebuild with the new mode / secret / format
        if name in ("verbose", "log_format", "api_key"):
            settings.start_logging()

    return store


def global_options(*, with_env: bool) -> Callable[[F], F]:
    """Decorate the group (``with_env=True``) or a command with the global options."""
    specs: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
        (
            ("--api-key",),
            "api_key",
            {
                "envvar": "PINECONE_API_KEY",
                "metavar": "KEY",
                "help": "Pinecone API key [env PINECONE_API_KEY]. Never logged or printed.",
            },
        ),
        (
            ("--controller-host",),
            "controller_host",
            {
                "envvar": "PINECONE_CONTROLLER_HOST",
                "metavar": "URL",
                "help": "Control-plane URL (default https://api.pinecone.io) [env PINECONE_CONTROLLER_HOST].",
            },
        ),
        (("--index",), "index", {"metavar": "NAME", "multiple": True, "help": "Index to work on, by name."}),
        (
            ("--host",),
            "host",
            {"metavar": "URL", "multiple": True, "help": "Index host URL, instead of --index."},
        ),
        (
            ("--namespace", "-n"),
            "namespaces",
            {
                "metavar": "NS",
                "multiple": True,
                "help": "Namespace ('' or __default__ is the default namespace); jobs take it repeated.",
            },
        ),
        (
            ("--limits",),
            "limits",
            {
                "metavar": "PROFILE",
                "multiple": True,
                "help": "Rate limits: default, strict, none, or a JSON file of overrides.",
            },
        ),
        (
            ("--transport",),
            "transport",
            {
                "envvar": "BULKOPS_TRANSPORT",
                "metavar": "WIRE",
                "multiple": True,
                "help": "Data-plane wire: auto (gRPC where the index host speaks it, else REST), grpc or "
                "rest [env BULKOPS_TRANSPORT; default auto].",
            },
        ),
        (("--json",), "json", {"is_flag": True, "default": None, "help": "Print the result as JSON."}),
        (("--quiet", "-q"), "quiet", {"is_flag": True, "default": None, "help": "Only results and errors."}),
        (
            ("--verbose", "-v"),
            "verbose",
            {"is_flag": True, "default": None, "help": "Log requests and retries (the key is redacted)."},
        ),
        (
            ("--log-format",),
            "log_format",
            {
                "type": click.Choice(["text", "json"]),
                "help": "Log and progress lines on stderr as text [default] or one JSON object per line.",
            },
        ),
        (
            ("--stats-interval",),
            "stats_interval",
            {
                "type": float,
                "metavar": "S",
                "help": "When stderr is not a terminal, a progress line every S seconds (done/total, rate, "
                "ETA, 429s, retries, transport) [default: 10; 0: off].",
            },
        ),
    ]

    def decorate(func: F) -> F:
        for decls, name, kwargs in reversed(specs):
            kwargs = dict(kwargs)
            if not with_env:
                kwargs.pop("envvar", None)
            func = click.option(*decls, name, expose_value=False, callback=_setter(name), **kwargs)(func)
        return func

    return decorate


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's coroutine on a fresh event loop.

    Ctrl-C or SIGTERM cancels the coroutine (so the library can flush its checkpoint in a shielded scope)
    and then surfaces here as KeyboardInterrupt or :class:`~bulkops.cli.signals.Terminated`, which
    ``main`` turns into exit code 130 or 143.
    """
    return run_cancellable(factory)
