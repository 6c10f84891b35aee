"""What the harness needs to know about bulkops's public API, in one place, by introspection.

The harness must measure features the moment they land (the copy job, the ``transport=`` option), so it
asks the checkout instead of assuming: a job or an option that is not there yet makes the contender
:class:`Unavailable` (a result: "transport option not available"), never a crash and never a silent
fallback to something else. Used in the harness process (to skip a run before copying gigabytes of
data) and in the worker (to build the call).

- the job of each scenario: ``bulkops.purge`` / ``export`` / ``load`` / ``copy`` (``bulkops.<name>``,
  else ``bulkops.jobs.<name>``)
- ``transport=``: a parameter of the job, else a ``Client`` option that names transports (passed
  through the job's ``client_options``), else unavailable
- the CLI: a command exists when ``bulkops.cli.main.COMMANDS`` registers it
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

from benchmarks.harness.contenders.outcome import Unavailable
from benchmarks.harness.spec import Contender, Scenario, transport_of

__all__ = ["JOB_OF", "accepted", "resolve_job", "transport_kwargs", "unavailable_reason"]

JOB_OF: dict[Scenario, str] = {
    "purge-prefix": "purge",
    "purge-ids": "purge",
    "export-prefix": "export",
    "export-ids": "export",
    "export-namespaces": "export",
    "import": "load",
    "copy": "copy",
    "copy-namespaces": "copy",
    "copy-via-storage": "bulk_import",  # preceded by an export for bulk import (bulkops_jobs)
}
_CLI_COMMAND = {"purge": "purge", "export": "export", "load": "import", "copy": "copy"}


def resolve_job(name: str) -> Callable[..., Awaitable[Any]]:
    """``bulkops.<name>`` (the public surface), else ``bulkops.jobs.<name>.<name>``; else Unavailable."""
    import bulkops

    job = getattr(bulkops, name, None)
    if job is None:
        try:
            module = importlib.import_module(f"bulkops.jobs.{name}")
        except ImportError:
            raise Unavailable(f"{name} job not available") from None
        job = getattr(module, name, None)
        if job is None:
            raise Unavailable(f"{name} job not available")
    return cast("Callable[..., Awaitable[Any]]", job)


def accepted(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop keyword arguments ``fn`` does not take (optional knobs, alternative spellings)."""
    parameters = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}


def _client_names_transports() -> bool:
    """Whether ``bulkops.Client(transport=...)`` takes a transport's name (not only a test double)."""
    from bulkops.api.client import Client

    parameter = inspect.signature(Client).parameters.get("transport")
    if parameter is None:
        return False
    annotation = str(parameter.annotation)
    return any(word in annotation for word in ("grpc", "Literal", "str", "TransportName"))


def transport_kwargs(fn: Callable[..., Any], transport: str) -> dict[str, Any]:
    """The keyword arguments that make job ``fn`` use ``transport`` (``rest`` / ``grpc``)."""
    parameters = inspect.signature(fn).parameters
    if "transport" in parameters:
        return {"transport": transport}
    if "client_options" in parameters and _client_names_transports():
        return {"client_options": {"transport": transport}}
    raise Unavailable("transport option not available")


def unavailable_reason(contender: Contender, scenario: Scenario) -> str | None:
    """Why ``contender`` cannot run ``scenario`` on this checkout, or None if it can."""
    if not contender.startswith("bulkops") or scenario not in JOB_OF:
        return None
    name = JOB_OF[scenario]
    try:
        if contender == "bulkops-cli":
            from bulkops.cli.main import COMMANDS

            if name not in _CLI_COMMAND:
                return f"{scenario} is two commands (export, then import): run by the library contenders"
            if _CLI_COMMAND[name] not in COMMANDS:
                return f"bulkops {_CLI_COMMAND[name]} command not available"
            return None
        fn = resolve_job(name)
        if transport_of(contender) != "auto":
            transport_kwargs(fn, transport_of(contender))
    except Unavailable as exc:
        return str(exc)
    return None
