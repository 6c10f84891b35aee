"""What export and import share around their run: the data plane, the checkpoint path, the counters.

Both jobs take the same ways of naming an index (a name, a host, or a ready data plane) and report the
same client figures, so these live here once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.errors import UsageError
from bulkops.limits.profiles import Profile, load_profile

__all__ = [
    "RUN_FIELDS",
    "checkpoint_path_for",
    "client_counts",
    "open_dataplane",
    "run_fields",
    "run_fields_from_json",
    "run_fields_to_json",
]

# The report fields that describe one run's requests and speed (stored with the finished report).
RUN_FIELDS = ("requests", "rate_limited", "retries", "elapsed", "records_per_second")


@contextlib.asynccontextmanager
async def open_dataplane(
    *,
    index: str | None,
    host: str | None,
    dataplane: DataPlane | None,
    api_key: str | None,
    controller_host: str | None,
    limits: str | Profile | None,
    client_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[tuple[DataPlane, Profile, Any]]:
    """The data plane to work on, the limits profile in force, and the client (None if given one)."""
    if dataplane is not None:
        profile = limits if isinstance(limits, Profile) else load_profile(limits or "default")
        yield dataplane, profile, None
        return
    if (index is None) == (host is None):
        raise UsageError("give exactly one of index=<name> or host=<index host URL>")
    from bulkops.api.client import Client

    async with Client(api_key, controller_host, limits=limits, **dict(client_options or {})) as client:
        dp = await client.index(index) if index is not None else client.index_at(host or "")
        yield dp, client.config.limits, client


def checkpoint_path_for(target: Path, checkpoint: str | Path | None, suffix: str) -> Path:
    """The checkpoint the caller named, else ``<target><suffix>`` next to the job's file."""
    return Path(checkpoint) if checkpoint is not None else target.with_name(target.name + suffix)


def client_counts(client: Any) -> tuple[dict[str, int], int, int]:
    """Requests per operation, 429s and retries the client saw (nothing to count without one)."""
    if client is None:
        return {}, 0, 0
    stats = client.stats
    return dict(stats.requests), sum(stats.rate_limited.values()), sum(stats.retries.values())


def run_fields(client: Any, *, elapsed: float, records: int) -> dict[str, Any]:
    """The :data:`RUN_FIELDS` of a run that wrote ``records`` in ``elapsed`` seconds."""
    requests, rate_limited, retries = client_counts(client)
    return {
        "requests": requests,
        "rate_limited": rate_limited,
        "retries": retries,
        "elapsed": elapsed,
        "records_per_second": records / elapsed if elapsed > 0 else 0.0,
    }


def run_fields_to_json(report: Any) -> dict[str, Any]:
    """The :data:`RUN_FIELDS` of a report as JSON (mappings copied into plain dicts)."""
    out: dict[str, Any] = {}
    for name in RUN_FIELDS:
        value = getattr(report, name)
        out[name] = dict(value) if isinstance(value, Mapping) else value
    return out


def run_fields_from_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`RUN_FIELDS` of a stored report, as keyword arguments for the report class."""
    return {name: doc[name] for name in RUN_FIELDS}
