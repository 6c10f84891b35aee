"""What the CLI writes to stderr besides errors: log records and progress lines, as text or as JSON.

``--log-format text`` (the default) writes ``TIME LEVEL LOGGER: message``; ``--log-format json`` writes
one JSON object per line (``time`` in ISO 8601 UTC, ``level``, ``logger``, ``message``, and the
event's own fields), for log collectors. Both go through :func:`line`, which redacts the API key, so the
key never appears whichever format is chosen. bulkops's loggers print warnings and errors; ``--verbose``
adds one line per request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["LogFormat", "configure_logging", "line", "quiet_grpc"]

LogFormat = Literal["text", "json"]
_LOGGER = "bulkops"
# grpc's C core logs to stderr on its own (a failed TLS handshake, invalid metadata); the CLI reports
# every failure itself, in one line, so grpc's own lines are off unless the user set GRPC_VERBOSITY.
_GRPC_VERBOSITY = "GRPC_VERBOSITY"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def line(
    form: LogFormat,
    *,
    level: str,
    logger: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    created: float | None = None,
    redact: Callable[[str], str] = str,
) -> str:
    """One log line (no newline) in ``form``; ``redact`` removes the key from the finished line. Text
    lines are the message alone (it says what the fields say); JSON lines carry the fields as keys."""
    when = _iso(created if created is not None else datetime.now(UTC).timestamp())
    if form == "json":
        doc = {"time": when, "level": level.lower(), "logger": logger, "message": message, **(fields or {})}
        text = orjson.dumps(doc, default=str).decode()
    else:
        text = f"{when} {level.upper()} {logger}: {message}"
    return redact(text)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """bulkops's records, formatted by :func:`line` in the chosen format, key redacted."""

    def __init__(self, form: Callable[[], LogFormat], redact: Callable[[str], str]) -> None:
        super().__init__()
        self._form = form
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message} ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        return line(
            self._form(),
            level=record.levelname,
            logger=record.name,
            message=message,
            created=record.created,
            redact=self._redact,
        )


def configure_logging(*, verbose: bool, form: Callable[[], LogFormat], redact: Callable[[str], str]) -> None:
    """bulkops's loggers to stderr through one handler: warnings and errors, everything with ``verbose``.

    Called again when an option changes: the handler is replaced, never duplicated."""
    logger = logging.getLogger(_LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    logger.addHandler(_Handler(form, redact))
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False


_quieted: list[bool] = []  # set once this process turned grpc's lines off (not the user)


def quiet_grpc(*, verbose: bool) -> None:
    """Keep grpc's own stderr lines out of the CLI's output (before grpc starts; a user's setting wins);
    ``verbose`` lets its errors through."""
    if verbose:
        if _quieted:
            os.environ[_GRPC_VERBOSITY] = "ERROR"
        return
    if _GRPC_VERBOSITY not in os.environ:
        os.environ[_GRPC_VERBOSITY] = "NONE"
        _quieted.append(True)
