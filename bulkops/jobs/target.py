"""The index a job works on: named in its spec (:class:`TargetSpec`), opened into a :class:`Target`.

Every job takes the same target arguments: ``index`` (a name, looked up in the project) and/or ``host``,
``controller_host`` (the project's control plane), ``limits``, ``transport``, and either an API key
(``api_key``, or the environment variable ``api_key_env``, never stored) or an open ``client`` /
``dataplane``. Opening gives the data plane, the limits profile in force, the request statistics and,
with a client, the control plane.

Identity: an index named in a project is that index wherever it is served from, so a checkpoint of it
stays valid when its host changes (a local server restarted on new ports); the host's name (not its
port) must still match, because on Pinecone it names the project. A target known only by host is
that host, port included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit

from bulkops.api.protocols import DataPlane, TransportName
from bulkops.errors import Param, UsageError
from bulkops.limits.profiles import Profile, load_profile

if TYPE_CHECKING:
    from bulkops.api.client import Client
    from bulkops.api.control_plane import ControlPlaneClient
    from bulkops.api.stats import RequestStats

__all__ = [
    "NO_ACCESS",
    "TRANSPORTS",
    "Access",
    "IndexInfo",
    "Limits",
    "Target",
    "TargetSpec",
    "open_client",
    "open_target",
]

TRANSPORTS: tuple[TransportName, ...] = get_args(TransportName)
Limits = str | Profile | None  # a profile name, a JSON file of overrides, a Profile; None: no pacing


def _limits_name(limits: Limits) -> str:
    if limits is None:
        return "none"
    return limits.name if isinstance(limits, Profile) else str(limits)


def _profile(spec: TargetSpec) -> Profile:
    """The profile in force: the one given to this run, else the recorded one ("none": no pacing)."""
    return spec.profile if spec.profile is not None else load_profile(spec.limits)


def _place(url: str | None) -> str | None:
    """The host name of a URL without scheme or port (None when unknown)."""
    return (urlsplit(url).hostname or url) if url else None


def _same_place(a: str | None, b: str | None) -> bool:
    return a is None or b is None or _place(a) == _place(b)


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """Which index, as a spec records it (never the API key).

    ``limits`` is recorded so a resume paces the same way; ``transport`` and ``api_key_env`` are how
    to reach it. None of the three is part of the job's identity. ``profile``: the Profile object this
    run was given, if any (it may hold overrides its name does not say); never stored.
    """

    index: str | None = None
    host: str | None = None
    controller_host: str | None = None
    limits: str = "default"
    transport: TransportName = "auto"
    api_key_env: str | None = None
    profile: Profile | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        *,
        index: str | None,
        host: str | None,
        controller_host: str | None = None,
        limits: Limits = "default",
        transport: str = "auto",
        api_key_env: str | None = None,
        opened: bool = False,
    ) -> TargetSpec:
        """Validate the target arguments. ``opened``: a client or data plane is given, so neither an
        index nor a host is required."""
        if not opened and not index and not host:
            raise UsageError("say which index: ", Param("index"), "=<name> or ", Param("host"), "=<URL>")
        if index is not None and not (isinstance(index, str) and index):
            raise UsageError(Param("index", index), " must be a non-empty index name")
        if transport not in TRANSPORTS:
            raise UsageError(Param("transport", transport), f" must be one of {', '.join(TRANSPORTS)}")
        profile = limits if isinstance(limits, Profile) else None
        wire: TransportName = "grpc" if transport == "grpc" else ("rest" if transport == "rest" else "auto")
        return cls(index, host, controller_host, _limits_name(limits), wire, api_key_env, profile)

    def same_index(self, other: TargetSpec) -> bool:
        """Whether two specs name the same index (see the module docstring)."""
        if self.index and other.index:
            return (
                self.index == other.index
                and _same_place(self.controller_host, other.controller_host)
                and _same_place(self.host, other.host)
            )
        return (self.host or "").rstrip("/") == (other.host or "").rstrip("/")

    def describe(self) -> str:
        if self.index:
            return f"index {self.index!r}" + (f" at {self.host}" if self.host else "")
        return f"the index at {self.host}"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "host": self.host,
            "controller_host": self.controller_host,
            "limits": self.limits,
            "transport": self.transport,
            "api_key_env": self.api_key_env,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TargetSpec:
        transport = doc.get("transport") or "auto"
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}")
        return cls(
            index=doc.get("index"),
            host=doc.get("host"),
            controller_host=doc.get("controller_host"),
            limits=str(doc.get("limits") or "default"),
            transport=transport,
            api_key_env=doc.get("api_key_env"),
        )


@dataclass(frozen=True, slots=True)
class Access:
    """How this run reaches the index: an API key (else ``api_key_env``, else ``PINECONE_API_KEY``), an
    open ``client`` (its limits in force), or a ready ``dataplane`` (tests, a caller's own client);
    ``client_options`` for a client of our own. Never stored: a resume is given it again."""

    api_key: str | None = field(default=None, repr=False)
    client: Client | None = None
    dataplane: DataPlane | None = None
    client_options: Mapping[str, Any] | None = None

    @property
    def opened(self) -> bool:
        """A client or data plane is given: the spec need not name an index or host."""
        return self.client is not None or self.dataplane is not None


NO_ACCESS = Access()  # the key from the environment, a client of the job's own


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What could be learned about the index: the manifest records it, an import checks records by it.

    ``vector_type`` None: unknown (neither the data plane nor the control plane said).
    """

    name: str | None
    host: str
    dimension: int | None
    metric: str | None
    vector_type: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "dimension": self.dimension,
            "metric": self.metric,
            "vector_type": self.vector_type or "dense",
        }


@dataclass(frozen=True, slots=True)
class Target:
    """An opened target: ``spec`` with its host and project filled in, the data plane, the limits
    profile in force, and the client (None when only a data plane was given)."""

    spec: TargetSpec
    dataplane: DataPlane
    profile: Profile
    client: Client | None = None

    @property
    def control(self) -> ControlPlaneClient | None:
        return self.client.control if self.client is not None else None

    def stats(self) -> RequestStats | None:
        """The client's request statistics now (None without a client: nothing to count with)."""
        return self.client.stats if self.client is not None else None

    async def describe(self) -> IndexInfo:
        """Dimension, metric and vector type from the index stats, else the control plane (best effort)."""
        stats: Mapping[str, Any] = {}
        with contextlib.suppress(Exception):
            stats = await self.dataplane.describe_index_stats()
        dimension = stats.get("dimension")
        metric = stats.get("metric")
        vector_type = stats.get("vectorType") or stats.get("vector_type")
        control = self.control
        if (
            control is not None
            and self.spec.index
            and (dimension is None or metric is None or not vector_type)
        ):
            with contextlib.suppress(Exception):
                described = await control.describe_index(self.spec.index)
                dimension = dimension or described.get("dimension")
                metric = metric or described.get("metric")
                vector_type = vector_type or described.get("vector_type")
        return IndexInfo(
            name=self.spec.index,
            host=self.dataplane.host,
            dimension=int(dimension) if dimension else None,
            metric=str(metric) if metric else None,
            vector_type=str(vector_type) if vector_type else None,
        )


def _api_key(spec: TargetSpec, api_key: str | None) -> str | None:
    if api_key is not None or spec.api_key_env is None:
        return api_key
    key = os.environ.get(spec.api_key_env)
    if not key:
        raise UsageError(f"no API key: the environment variable {spec.api_key_env} is not set")
    return key


@contextlib.asynccontextmanager
async def open_client(spec: TargetSpec, access: Access) -> AsyncIterator[Client]:
    """The client a run reaches ``spec``'s project with: the ``client`` given, or one of its own (the
    key given, else ``api_key_env``, else ``PINECONE_API_KEY``; the spec's limits and transport)."""
    if access.client is not None:
        yield access.client
        return
    from bulkops.api.client import Client

    options = dict(access.client_options or {})
    key = _api_key(spec, access.api_key)
    options.setdefault("transport", spec.transport)
    async with Client(key, spec.controller_host, limits=_profile(spec), **options) as own:
        yield own


@contextlib.asynccontextmanager
async def open_target(spec: TargetSpec, access: Access) -> AsyncIterator[Target]:
    """Open ``spec``: with a ready ``dataplane`` (the spec's ``limits`` pace nothing but set the
    bounds), an open ``client`` (its own limits and transport are in force), or a client of our own
    (with the spec's ``transport``)."""
    client, dataplane = access.client, access.dataplane
    if dataplane is not None:
        profile = client.config.limits if client is not None else _profile(spec)
        yield Target(_resolved(spec, dataplane, client), dataplane, profile, client)
        return
    async with open_client(spec, access) as opened:
        yield await _open_with(spec, opened)


async def _open_with(spec: TargetSpec, client: Client) -> Target:
    dp = client.index_at(spec.host, name=spec.index) if spec.host else await client.index(spec.index)
    return Target(_resolved(spec, dp, client), dp, client.config.limits, client)


def _resolved(spec: TargetSpec, dp: DataPlane, client: Client | None) -> TargetSpec:
    controller = client.config.controller_host if client is not None else spec.controller_host
    return replace(spec, host=dp.host, controller_host=controller)
