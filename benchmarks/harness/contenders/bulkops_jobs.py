"""bulkops's own jobs, called through the public library API as a user would.

``bulkops.purge`` (prefix or IDs file), ``bulkops.export`` (prefix, IDs file or every namespace → JSONL
or Parquet), ``bulkops.load`` (JSONL or Parquet → upsert), ``bulkops.copy`` (list → fetch → upsert
into a second server, another key: ``to_host`` / ``to_api_key``) and copy via object storage
(``bulkops.export(for_bulk_import=True)`` then ``bulkops.bulk_import`` on the second server).
Contender ``bulkops`` leaves the transport to the library's default; ``bulkops-rest`` and
``bulkops-grpc`` ask for one with ``transport=`` (:mod:`bulkops_api` says how, or that the option is
not available yet). The limit profile given to the job is the one the server enforces, so bulkops
paces to the same numbers the bound is computed from. A time budget cancels the job; the harness then
counts what was done on the server or in the output.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from typing import Any

import anyio

# Imported here, before the worker starts its clock, exactly as the SDK contenders import ``pinecone``
# at module level: a run measures the job, not the interpreter loading aiohttp and friends.
from benchmarks.harness.contenders.bulkops_api import JOB_OF, accepted, resolve_job, transport_kwargs
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import WorkerSpec, transport_of

__all__ = ["run"]


def run(spec: WorkerSpec) -> Outcome:
    return anyio.run(_run, spec)


# Which knob of each job the point's ``concurrency`` sets (None: the job sizes itself).
_CONCURRENCY_KNOB = {
    "purge-prefix": "target_chains",
    "purge-ids": "workers",
    "export-prefix": "target_chains",
    "export-ids": "fetch_workers",
    "import": "workers",
}


def _scenario_kwargs(spec: WorkerSpec) -> dict[str, Any]:
    ns = {"namespace": spec.namespace}
    # The purge's verification runs as a user gets it: the tail observes the lag (none on this server),
    # with the default --verify-delay as its upper bound only.
    purge: dict[str, Any] = {}
    # bulkops.copy: the destination by host (the harness's second server), with its own key.
    target = {"to_host": spec.target_host, "to_api_key": spec.target_api_key}
    table: dict[str, dict[str, Any]] = {
        "purge-prefix": {**ns, **purge, "prefix": spec.prefix},
        "purge-ids": {**ns, **purge, "ids_file": spec.ids_file},
        "export-prefix": {**ns, "prefix": spec.prefix, "output": spec.output_file},
        "export-ids": {**ns, "ids_file": spec.ids_file, "output": spec.output_file},
        "export-namespaces": {"all_namespaces": True, "output": spec.output_file},
        "import": {**ns, "input": spec.input_file},
        "copy": {**ns, **target, "prefix": spec.prefix},
        "copy-namespaces": {**target, "all_namespaces": True},
        "copy-via-storage": {**ns},  # the rest: _copy_via_storage
    }
    return table[spec.scenario]


def storage_uri(spec: WorkerSpec) -> str:
    """Where a copy via storage goes: below ``$BULKOPS_BENCH_STORAGE`` (an ``s3://`` prefix the servers'
    environment can read; one directory per run), else the run directory through ``file://``."""
    base = os.environ.get("BULKOPS_BENCH_STORAGE")
    assert spec.output_file is not None
    if base:
        return f"{base.rstrip('/')}/{uuid.uuid4().hex[:8]}/via-storage/"
    return f"file://{spec.output_file}/"


def _copy_via_storage(spec: WorkerSpec, kwargs: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    """Export for bulk import, then the second server's bulk import; the report is the import's, with
    the records the export wrote (the harness verifies them on the second server)."""
    export, bulk_import = resolve_job("export"), resolve_job("bulk_import")
    uri = storage_uri(spec)
    exporting = accepted(export, {**kwargs, "prefix": spec.prefix, "output": uri, "for_bulk_import": True})

    async def both() -> Any:
        await export(**exporting)
        return await bulk_import(
            uri=uri,
            host=spec.target_host,
            api_key=spec.target_api_key,
            limits=spec.limits,
            poll_interval=0.1,
            checkpoint=f"{spec.checkpoint}.bulk-import",
        )

    return both


def _job(spec: WorkerSpec) -> Callable[[], Awaitable[Any]]:
    fn = resolve_job(JOB_OF[spec.scenario])
    kwargs: dict[str, Any] = {
        "host": spec.host,
        "api_key": spec.api_key,
        "checkpoint": spec.checkpoint,
        "limits": spec.limits,
        **_scenario_kwargs(spec),
    }
    if transport_of(spec.contender) != "auto":
        kwargs.update(transport_kwargs(fn, transport_of(spec.contender)))
    knob = _CONCURRENCY_KNOB.get(spec.scenario, "")
    if spec.concurrency is not None:
        kwargs[knob] = spec.concurrency
    if spec.scenario == "copy-via-storage":
        return _copy_via_storage(spec, kwargs)
    chosen = accepted(fn, kwargs)
    if spec.concurrency is not None and knob not in chosen:  # a sweep must not silently do nothing
        raise TypeError(f"bulkops.{fn.__name__} has no {knob or 'concurrency'}= parameter to set")
    return lambda: fn(**chosen)


def _report_doc(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    if is_dataclass(report) and not isinstance(report, type):
        return asdict(report)
    if isinstance(report, dict):
        return dict(report)
    names = [k for k in dir(report) if not k.startswith("_")]
    return {k: getattr(report, k) for k in names if not callable(getattr(report, k))}


def first_count(doc: dict[str, Any], *names: str) -> int:
    """The first of ``names`` that the report has, as a number (a dict of counts is summed)."""
    for name in names:
        value = doc.get(name)
        if isinstance(value, dict):  # e.g. requests per operation
            value = sum(v for v in value.values() if isinstance(v, int | float))
        if isinstance(value, int | float):
            return int(value)
    return 0


def outcome_from_report(doc: dict[str, Any], outcome: Outcome) -> Outcome:
    """Fill ``outcome`` from a job report's fields (library dataclass or the CLI's ``--json``)."""
    outcome.processed = first_count(
        doc, "deleted", "exported", "copied", "upserted", "loaded", "imported", "records_imported", "records"
    )
    outcome.requests = first_count(doc, "requests")
    outcome.http_429 = first_count(doc, "rate_limited", "http_429", "throttled")
    outcome.retries = first_count(doc, "retries")
    transport = doc.get("transport")
    outcome.transport = str(transport) if isinstance(transport, str) else None
    outcome.extra = {k: v for k, v in doc.items() if isinstance(v, int | float | str | bool)}
    return outcome


async def _run(spec: WorkerSpec) -> Outcome:
    job = _job(spec)
    outcome = Outcome()
    report: Any = None
    with anyio.move_on_after(spec.budget_s) as scope:
        report = await job()
    outcome.stopped_by_budget = scope.cancelled_caught
    return outcome_from_report(_report_doc(report), outcome)
