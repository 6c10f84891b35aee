"""The copy's destination index: created from the source's description when missing, else checked.

Before anything is sent to it: a destination named by index that does not exist is created with the
source's dimension, metric, vector type and tags, in the source's cloud and region unless
``cloud``/``region`` say otherwise (``create=False`` refuses instead), and waited for until Ready. One
that exists (or is given by host) must take the source's records: a different dimension or vector type
is a :class:`~bulkops.errors.UsageError` naming both, sent before any record; a different metric is a
note (the records fit; searches rank differently).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bulkops.errors import NotFoundError, UsageError
from bulkops.jobs.copy.spec import CopyOptions
from bulkops.jobs.target import Access, IndexInfo, Target, TargetSpec, open_client, open_target

__all__ = ["Destination", "SourceShape", "describe_source", "reach_destination"]

READY_POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class SourceShape:
    """What the destination must match, and what it is created with (None: not known)."""

    name: str | None
    host: str
    dimension: int | None
    metric: str | None
    vector_type: str  # "dense" | "sparse"
    tags: Mapping[str, str] = field(default_factory=dict)
    cloud: str | None = None
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "dimension": self.dimension,
            "metric": self.metric,
            "vector_type": self.vector_type,
            "cloud": self.cloud,
            "region": self.region,
        }


@dataclass(frozen=True, slots=True)
class Destination:
    """The destination as this run found it: opened (``target``), created by this run, or (a dry run)
    to be created; ``notes`` for the report."""

    spec: TargetSpec
    target: Target | None
    created: bool = False
    would_create: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.spec.index,
            "host": self.target.dataplane.host if self.target is not None else self.spec.host,
            "created": self.created,
            "would_create": dict(self.would_create) if self.would_create is not None else None,
        }


async def describe_source(source: Target) -> SourceShape:
    """The source's dimension, metric and vector type (index stats, else the control plane), with its
    tags, cloud and region when the control plane describes it."""
    info: IndexInfo = await source.describe()
    model: Mapping[str, Any] = {}
    if source.control is not None and source.spec.index:
        with contextlib.suppress(NotFoundError):
            model = await source.control.describe_index(source.spec.index)
    serverless = (model.get("spec") or {}).get("serverless") or {}
    deployment = model.get("deployment") or {}
    vector_type = info.vector_type or str(model.get("vector_type") or "") or "dense"
    return SourceShape(
        name=info.name,
        host=info.host,
        dimension=info.dimension or _int(model.get("dimension")),
        metric=info.metric or (str(model["metric"]) if model.get("metric") else None),
        vector_type="sparse" if vector_type == "sparse" else "dense",
        tags=dict(model.get("tags") or {}),
        cloud=serverless.get("cloud") or deployment.get("cloud"),
        region=serverless.get("region") or deployment.get("region"),
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value else None


@contextlib.asynccontextmanager
async def reach_destination(
    spec: TargetSpec, access: Access, shape: SourceShape, options: CopyOptions, *, dry_run: bool
) -> AsyncIterator[Destination]:
    """The destination, checked (or created) before anything is sent, and its data plane opened.

    A dry run creates nothing: a missing destination comes back with ``would_create`` and no target.
    """
    if access.dataplane is not None or spec.index is None:  # a host or a ready data plane: check it
        async with open_target(spec, access) as target:
            notes = _check(await target.describe(), shape, target.spec.describe())
            yield Destination(target.spec, target, notes=notes)
        return
    async with open_client(spec, access) as client:
        control = client.control
        try:
            model: Mapping[str, Any] | None = await control.describe_index(spec.index)
        except NotFoundError:
            model = None
        created = False
        if model is None:
            plan = _creation(spec.index, shape, options)
            if dry_run:
                yield Destination(spec, None, would_create=plan)
                return
            await control.create_index(**plan)
            await control.wait_until_index_ready(spec.index, poll_interval=READY_POLL_SECONDS)
            created = True
        async with open_target(replace(spec, host=None), Access(client=client)) as target:
            info = await target.describe()
            notes = () if created else _check(info, shape, target.spec.describe())
            yield Destination(target.spec, target, created=created, notes=notes)


def _creation(name: str, shape: SourceShape, options: CopyOptions) -> dict[str, Any]:
    if not options.create:
        raise UsageError(
            f"the destination index {name!r} does not exist and the copy was told not to create it; "
            "create it first, or let the copy create it from the source's description",
            param="to_index",
        )
    if shape.vector_type == "dense" and shape.dimension is None:
        raise UsageError(
            f"the destination index {name!r} does not exist and the source's dimension is unknown, so it "
            "cannot be created from it; create it first"
        )
    vector_type: Literal["dense", "sparse"] = "sparse" if shape.vector_type == "sparse" else "dense"
    plan: dict[str, Any] = {
        "name": name,
        "dimension": shape.dimension if vector_type == "dense" else None,
        "metric": shape.metric,
        "cloud": options.cloud or shape.cloud or "aws",
        "region": options.region or shape.region or "us-east-1",
        "vector_type": vector_type,
    }
    if shape.tags:
        plan["tags"] = dict(shape.tags)
    return plan


def _check(info: IndexInfo, shape: SourceShape, where: str) -> tuple[str, ...]:
    """Refuse a destination the source's records do not fit; notes on what differs but fits."""
    vector_type = info.vector_type or ("dense" if info.dimension else None)
    if vector_type is not None and vector_type != shape.vector_type:
        raise UsageError(
            f"the destination, {where}, is a {vector_type} index but the source is {shape.vector_type}: "
            "its records cannot be copied there. Copy into a new index (a name that does not exist yet "
            "is created from the source) or one of the same vector type; nothing was sent",
            param="to_index",
        )
    dimensions = (info.dimension, shape.dimension)
    if shape.vector_type == "dense" and all(dimensions) and info.dimension != shape.dimension:
        raise UsageError(
            f"the destination, {where}, has dimension {info.dimension} but the source has "
            f"{shape.dimension}: its records cannot be copied there. Copy into a new index (a name that "
            "does not exist yet is created from the source) or one of dimension "
            f"{shape.dimension}; nothing was sent",
            param="to_index",
        )
    notes: list[str] = []
    if info.metric and shape.metric and info.metric != shape.metric:
        notes.append(
            f"the destination's metric is {info.metric}, the source's {shape.metric}: the records are the "
            "same, search scores are not"
        )
    if shape.vector_type == "dense" and (not info.dimension or not shape.dimension):
        notes.append("the dimension of one side is unknown, so it was not compared before copying")
    return tuple(notes)
