"""bulkops's own jobs, called through the public library API as a user would.

``bulkops.purge`` (prefix or IDs file), ``bulkops.export`` (prefix or IDs file → JSONL) and
``bulkops.load`` (JSONL → upsert). The limit profile given to the job is the one the server enforces,
so bulkops paces to the same numbers the bound is computed from. A time budget cancels the job; the
harness then counts what was done on the server or in the output.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from typing import Any, cast

import anyio

# Imported here, before the worker starts its clock, exactly as the SDK contenders import ``pinecone``
# at module level: a run measures the job, not the interpreter loading aiohttp and friends.
import bulkops
import bulkops.api
import bulkops.jobs.export
import bulkops.jobs.load
import bulkops.jobs.purge
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import WorkerSpec

__all__ = ["run"]


def run(spec: WorkerSpec) -> Outcome:
    return anyio.run(_run, spec)


def _accepted(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop keyword arguments ``fn`` does not take (optional knobs such as ``max_concurrency``)."""
    parameters = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}


def _resolve(name: str) -> Callable[..., Awaitable[Any]]:
    """``bulkops.<name>`` (the public surface), else ``bulkops.jobs.<module>.<name>``."""
    job = getattr(bulkops, name, None)
    if job is None:
        module = importlib.import_module(f"bulkops.jobs.{name}")
        job = getattr(module, name)
    return cast("Callable[..., Awaitable[Any]]", job)


# Which knob of each job the point's ``concurrency`` sets (None: the job sizes itself).
_CONCURRENCY_KNOB = {
    "purge-prefix": "target_chains",
    "purge-ids": "workers",
    "export-prefix": "target_chains",
    "export-ids": "fetch_workers",
    "import": "workers",
}


def _job(spec: WorkerSpec) -> Callable[[], Awaitable[Any]]:
    common: dict[str, Any] = {
        "host": spec.host,
        "api_key": spec.api_key,
        "namespace": spec.namespace,
        "checkpoint": spec.checkpoint,
        "limits": spec.limits,
    }
    if spec.concurrency is not None:
        common[_CONCURRENCY_KNOB[spec.scenario]] = spec.concurrency
    # The server runs without consistency lag, so the purge's verification pass needs no wait.
    purge_options = {"verify_delay": 0.0}
    name, kwargs = {
        "purge-prefix": ("purge", {**common, **purge_options, "prefix": spec.prefix}),
        "purge-ids": ("purge", {**common, **purge_options, "ids": spec.ids_file}),
        "export-prefix": ("export", {**common, "prefix": spec.prefix, "to": spec.output_file}),
        "export-ids": ("export", {**common, "ids": spec.ids_file, "to": spec.output_file}),
        "import": ("load", {**common, "from_": spec.input_file}),
    }[spec.scenario]
    fn = _resolve(name)
    accepted = _accepted(fn, kwargs)
    knob = _CONCURRENCY_KNOB[spec.scenario]
    if spec.concurrency is not None and knob not in accepted:  # a sweep must not silently do nothing
        raise TypeError(f"bulkops.{name} has no {knob}= parameter to set the concurrency with")
    return lambda: fn(**accepted)


def _report_doc(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    if is_dataclass(report) and not isinstance(report, type):
        return asdict(report)
    if isinstance(report, dict):
        return dict(report)
    names = [k for k in dir(report) if not k.startswith("_")]
    return {k: getattr(report, k) for k in names if not callable(getattr(report, k))}


def _first(doc: dict[str, Any], *names: str) -> int:
    for name in names:
        value = doc.get(name)
        if isinstance(value, dict):  # e.g. requests per operation
            value = sum(v for v in value.values() if isinstance(v, int | float))
        if isinstance(value, int | float):
            return int(value)
    return 0


async def _run(spec: WorkerSpec) -> Outcome:
    job = _job(spec)
    outcome = Outcome()
    report: Any = None
    with anyio.move_on_after(spec.budget_s) as scope:
        report = await job()
    outcome.stopped_by_budget = scope.cancelled_caught
    doc = _report_doc(report)
    outcome.processed = _first(doc, "deleted", "exported", "upserted", "loaded", "imported", "records")
    outcome.requests = _first(doc, "requests")
    outcome.http_429 = _first(doc, "rate_limited", "http_429", "throttled")
    outcome.retries = _first(doc, "retries")
    outcome.extra = {k: v for k, v in doc.items() if isinstance(v, int | float | str | bool)}
    return outcome
