"""A copy run: open both indexes and the checkpoint, check or create the destination, copy, verify, report.

1. the source is opened and described; the namespaces are resolved (a named one that does not exist is
   refused unless ``allow_missing``, as is a mapped one);
2. the destination is checked, or created from the source's description (:mod:`.destination`), before
   any record is sent; copying a namespace onto itself is refused;
3. every namespace is copied (:mod:`.run`), several at once;
4. verification (:mod:`.verify`): counts per namespace, then the sample; a failure raises
   :class:`~bulkops.errors.VerificationError` carrying the report (exit 3).

A finished copy run again verifies again (nothing is copied). A dry run resolves and counts, checks the
destination (creating nothing) and estimates requests and time (:mod:`.estimate`); it keeps no
checkpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import Param, UsageError, VerificationError
from bulkops.jobs.copy.batches import cut_upserts
from bulkops.jobs.copy.destination import Destination, SourceShape, describe_source, reach_destination
from bulkops.jobs.copy.estimate import estimate_copy
from bulkops.jobs.copy.report import CopyProgress, CopyReport
from bulkops.jobs.copy.run import CopyRun
from bulkops.jobs.copy.spec import CopySpec, destination_key
from bulkops.jobs.copy.verify import CopyVerification, Sample, verify_copy
from bulkops.jobs.counting import count_selected
from bulkops.jobs.figures import FiguresMeter
from bulkops.jobs.groups import raises_single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.journal import moved_note, open_journal
from bulkops.jobs.namespaces import NAMESPACE_LANES, label, resolve_namespace_sizes
from bulkops.jobs.selection import ids_for
from bulkops.jobs.target import NO_ACCESS, Access, Target, open_target

__all__ = ["run_copy"]


@raises_single_errors
async def run_copy(
    spec: CopySpec,
    *,
    ids: IdsInput | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    access: Access = NO_ACCESS,
    to_access: Access = NO_ACCESS,
    progress: Callable[[CopyProgress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
    sample_seed: int | None = None,
) -> CopyReport:
    """Run the copy ``spec`` (built by :func:`bulkops.jobs.copy.spec.build_copy`). ``access`` reaches
    the source, ``to_access`` the destination (without a key: ``PINECONE_TO_API_KEY``, else the
    source's key). Without a checkpoint the copy is not resumable (rerunning it copies everything again,
    which is harmless: upserts are idempotent)."""
    prepared = ids_for(spec.selection, ids)
    async with open_target(spec.source, access) as source:
        spec = replace(spec, source=source.spec)
        to_access = _destination_access(to_access, access, source)
        meter = FiguresMeter(source, clock)
        shape = await describe_source(source)
        if dry_run:
            return await _dry_run(spec, source, to_access, shape, prepared, meter, clock, namespace_lanes)
        journal = open_journal(Path(checkpoint), spec) if checkpoint is not None else contextlib.nullcontext()
        with journal as cp:
            names: list[str] | None = cp.get("namespaces") if cp is not None else None
            sizes: dict[str, int] | None = None  # records per namespace: a fresh start knows them
            if names is None:
                sizes = await _namespaces(spec, source)
                names = list(sizes)
            async with reach_destination(
                spec.destination, to_access, shape, spec.options, dry_run=False
            ) as destination:
                assert destination.target is not None
                spec = replace(spec, destination=destination.spec)
                _refuse_self_copy(spec, source, destination.target, names)
                if cp is not None and cp.get("namespaces") is None:
                    with cp.step() as step:
                        step.set("namespaces", names)
                        step.set("phase", "copying")
                return await _copy(
                    spec,
                    source,
                    destination,
                    cp,
                    names,
                    shape,
                    prepared,
                    meter,
                    progress,
                    clock,
                    target_chains,
                    namespace_lanes,
                    sample_seed,
                    sizes,
                )
    raise AssertionError("unreachable")  # pragma: no cover - the contexts do not swallow exceptions


def _destination_access(to_access: Access, access: Access, source: Target) -> Access:
    """The destination's access: as given, else its key from ``PINECONE_TO_API_KEY``, else the source's
    (a copy within one project)."""
    if to_access.client is not None or to_access.dataplane is not None or to_access.api_key is not None:
        return to_access
    key = destination_key(None)
    if key is None:
        key = access.api_key if access.api_key is not None else None
        if key is None and source.client is not None:
            key = source.client.config.api_key
    return replace(to_access, api_key=key)


async def _namespaces(spec: CopySpec, source: Target) -> dict[str, int]:
    """The source namespaces to copy with their record counts, checked, with the namespace map checked
    against them."""
    where = spec.source.describe()
    sizes = await resolve_namespace_sizes(source.dataplane, spec.namespaces, index=where)
    if spec.namespace_map and spec.namespaces.names is None:
        missing = [src for src, _ in spec.namespace_map if src not in sizes]
        if missing and not spec.namespaces.allow_missing:
            raise UsageError(
                Param("namespace_map", f"{label(missing[0])}={label(spec.destination_of(missing[0]))}"),
                f" maps namespace {label(missing[0])!r}, which does not exist in {where}. Check the name, "
                "or pass ",
                Param("allow_missing", True),
                " to go on without it",
                param="namespace_map",
            )
    return sizes


def _refuse_self_copy(spec: CopySpec, source: Target, destination: Target, names: Sequence[str]) -> None:
    if source.dataplane.host.rstrip("/") != destination.dataplane.host.rstrip("/"):
        return
    onto_itself = [ns for ns in names if spec.destination_of(ns) == ns]
    if onto_itself:
        raise UsageError(
            f"the destination is the source index and namespace {label(onto_itself[0])!r} would be copied "
            "onto itself; map it elsewhere with ",
            Param("namespace_map"),
            " or choose another destination; nothing was sent",
            param="namespace_map",
        )


async def _copy(
    spec: CopySpec,
    source: Target,
    destination: Destination,
    cp: Checkpoint | None,
    names: list[str],
    shape: SourceShape,
    ids: IdsInput | None,
    meter: FiguresMeter,
    progress: Callable[[CopyProgress], None] | None,
    clock: Clock,
    target_chains: int | None,
    lanes: int,
    sample_seed: int | None,
    sizes: dict[str, int] | None,
) -> CopyReport:
    target = destination.target
    assert target is not None
    to_meter = FiguresMeter(target, clock)
    stored = cp.get("sample") if cp is not None else None
    sample = Sample.from_json(spec.options.verify_sample, stored, seed=sample_seed)
    run = CopyRun(
        source.dataplane,
        target.dataplane,
        spec,
        cp,
        source.profile,
        target.profile,
        ids=ids,
        sample=sample,
        clock=clock,
        progress=progress,
        target_chains=target_chains,
        lanes=lanes,
        sizes=sizes,
    )
    phase = cp.get("phase", "copying") if cp is not None else "copying"
    if phase == "copying":
        done = {ns for ns in names if cp.get(f"done:{ns}", False)} if cp is not None else set()
        await run.run(names, done)
        if cp is not None:
            with cp.step() as step:
                step.set("phase", "verifying")
    counters = cp.counters() if cp is not None else {}
    copied_by_ns = _per_namespace(names, counters, run.by_namespace if cp is None else None)
    verification = CopyVerification(False, note="verify=False")
    if spec.options.verify:
        expected = await _expected(spec, source, cp, names, copied_by_ns, ids, clock, lanes)
        verification = await verify_copy(
            source.dataplane, target.dataplane, spec, names, expected, run.sample, clock, lanes=lanes
        )
    if cp is not None:
        with cp.step() as step:
            step.set("phase", "done")
    copied = counters.get("copied", run.copied) if cp is not None else run.copied
    figures = _merged(
        meter.figures(
            done=run.copied_this_run,
            bound=run.bound(records=copied, namespaces=len(names)),
            resumed=cp.resumed if cp is not None else False,
        ),
        to_meter.figures(done=0, bound=None, resumed=False),
    )
    notes = [*destination.notes, *verification.notes]
    if cp is not None:
        notes[:0] = moved_note(cp, spec)
    report = CopyReport(
        source=shape.to_json(),
        destination={**destination.to_json(), "transport": getattr(target.dataplane, "transport", None)},
        dry_run=False,
        copied=copied,
        missing=counters.get("missing", run.missing) if cp is not None else run.missing,
        namespaces=copied_by_ns,
        namespace_map=dict(spec.namespace_map),
        verification=verification,
        notes=tuple(notes),
        **figures,
    )
    if verification.checked and not verification.ok:
        raise VerificationError(
            f"the copy's verification failed: {verification.describe()}. The destination's counts may "
            "lag its writes: rerun the copy with the same checkpoint to copy what is missing and verify "
            "again",
            report=report,
        )
    return report


def _per_namespace(
    names: Sequence[str], counters: Mapping[str, int], this_run: Mapping[str, int] | None
) -> dict[str, int]:
    """Records copied per source namespace (every namespace, 0 when it held none)."""
    if this_run is not None:
        return {ns: this_run.get(ns, 0) for ns in names}
    return {ns: counters.get(f"copied:{ns}", 0) for ns in names}


async def _expected(
    spec: CopySpec,
    source: Target,
    cp: Checkpoint | None,
    names: Sequence[str],
    copied: Mapping[str, int],
    ids: IdsInput | None,
    clock: Clock,
    lanes: int,
) -> dict[str, int]:
    """What each source namespace gave the destination: the records copied, except where a namespace
    was resumed part-way (its count may hold records copied twice): there the source is counted again."""
    expected = dict(copied)
    if cp is None or spec.selection.kind == "everything":
        return expected
    inexact = [ns for ns in names if cp.get(f"inexact:{ns}", False)]
    if inexact:
        recount = await count_selected(
            source.dataplane,
            inexact,
            spec.selection,
            ids=ids,
            profile=source.profile,
            clock=clock,
            lanes=lanes,
        )
        for ns in inexact:
            expected[ns] = recount.by_namespace.get(ns, 0)
    return expected


def _merged(source: Mapping[str, Any], destination: Mapping[str, Any]) -> dict[str, Any]:
    """This run's figures: the source's, with the destination client's requests, 429s and retries."""
    merged = dict(source)
    requests = dict(source["requests"])
    for operation, count in destination["requests"].items():
        requests[operation] = requests.get(operation, 0) + count
    merged["requests"] = requests
    merged["rate_limited"] = source["rate_limited"] + destination["rate_limited"]
    merged["retries"] = source["retries"] + destination["retries"]
    return merged


async def _dry_run(
    spec: CopySpec,
    source: Target,
    to_access: Access,
    shape: SourceShape,
    ids: IdsInput | None,
    meter: FiguresMeter,
    clock: Clock,
    lanes: int,
) -> CopyReport:
    """Resolve, count, check the destination (create nothing), estimate; send no write."""
    names = list(await _namespaces(spec, source))
    async with reach_destination(spec.destination, to_access, shape, spec.options, dry_run=True) as found:
        if found.target is not None:
            _refuse_self_copy(spec, source, found.target, names)
        count = await count_selected(
            source.dataplane, names, spec.selection, ids=ids, profile=source.profile, clock=clock, lanes=lanes
        )
        by_namespace = {ns: count.by_namespace.get(ns, 0) for ns in names}
        wire = getattr(found.target.dataplane, "transport", None) if found.target is not None else None
        per_record = await _bytes_per_record(source.dataplane, by_namespace, grpc=wire == "grpc")
        profile = found.target.profile if found.target is not None else source.profile
        estimate = estimate_copy(
            by_namespace,
            spec.selection,
            bytes_per_record=per_record,
            source=source.profile,
            destination=profile,
            lanes=lanes,
        )
        figures = meter.figures(done=0, bound=estimate["rate"], resumed=False)
        return CopyReport(
            source=shape.to_json(),
            destination=found.to_json(),
            dry_run=True,
            copied=0,
            missing=0,
            namespaces=by_namespace,
            namespace_map=dict(spec.namespace_map),
            would_copy=count.found,
            estimate=estimate,
            notes=(*found.notes, *((count.note,) if count.note else ()), "dry run: nothing copied"),
            **figures,
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def _bytes_per_record(source: DataPlane, by_namespace: Mapping[str, int], *, grpc: bool) -> float:
    """The upsert bytes of a few of the source's records on the destination's wire (0: none found)."""
    namespace = next((ns for ns, n in by_namespace.items() if n), None)
    if namespace is None:
        return 0.0
    page = await source.list_page(namespace=namespace, limit=10)
    records = list((await source.fetch(page.ids, namespace=namespace)).values()) if page.ids else []
    sizes = [batch.size for batch in cut_upserts(records, grpc=grpc)]
    return sum(sizes) / len(records) if records else 0.0
