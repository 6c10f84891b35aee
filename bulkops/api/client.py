"""``Client``: one HTTP session, gRPC channels, one retry budget, one set of scoped limiters per index.

    async with Client(limits="default") as client:          # PINECONE_API_KEY from the environment
        indexes = await client.control.list_indexes()
        index = await client.index(name="docs")             # one describe call, then cached
        print(index.transport)                              # "grpc" on Pinecone, "rest" where no gRPC
        await index.delete_ids(["a", "b"], namespace="ns")
        print(client.stats.total_requests)

Everything the client sends shares its connections (one aiohttp session; one gRPC channel per index
host), its retry budget (so a dead server fails fast for every caller at once) and, per index host, one
:class:`~bulkops.limits.ScopedLimiter` (so every worker of a job slows down together after a 429),
whichever transport carries the data plane. ``transport="auto"`` (the default) uses gRPC where the
index host speaks it and REST elsewhere (see :mod:`bulkops.api.selection`); the control plane is REST.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio

from bulkops.api.bulk_import import BulkImportClient
from bulkops.api.config import DEFAULT_API_VERSION, ClientConfig, normalize_host, plain_http_error
from bulkops.api.control_plane import ControlPlaneClient
from bulkops.api.executor import RequestExecutor
from bulkops.api.grpc.data_plane import GrpcDataPlane
from bulkops.api.grpc.transport import AioGrpcTransport, GrpcTransport
from bulkops.api.protocols import IndexClient, TransportName
from bulkops.api.rest.data_plane import DataPlaneClient
from bulkops.api.rest.transport import AiohttpTransport, Transport
from bulkops.api.selection import DeferredIndexClient, probe_grpc
from bulkops.api.stats import RequestStats, StatsRecorder, Subscriber
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import UsageError
from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import Profile
from bulkops.limits.retry import RetryBudget, RetryPolicy
from bulkops.limits.scoped import ScopedLimiter

__all__ = ["Client"]

log = logging.getLogger("bulkops.api")

_PROBE_TIMEOUT = 10.0


class Client:
    """Async context manager owning the connections for the control plane and every index."""

    def __init__(
        self,
        api_key: str | None = None,
        controller_host: str | None = None,
        *,
        transport: TransportName | str | Transport | GrpcTransport = "auto",
        limits: str | Profile | None = "default",
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
        clock: Clock = SYSTEM_CLOCK,
        tuning: AdaptiveTuning | None = None,
        max_connections: int = 100,
        max_fetch_url_bytes: int | None = None,
        retry_budget_tokens: float = 20.0,
        ssl_ca_certs: str | Path | None = None,
        rng: random.Random | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        """Resolve settings now (a missing key is a UsageError here, before anything is sent).

        ``transport``: ``"auto"`` (gRPC where the index host speaks it, else REST), ``"grpc"`` (an
        error if the host does not speak it), ``"rest"``; or a test double, a REST
        :class:`~bulkops.api.rest.transport.Transport` (then the data plane is REST) or a
        :class:`~bulkops.api.grpc.transport.GrpcTransport` (then it is gRPC, the control plane REST).
        ``limits``: ``"default"``, ``"strict"``, ``"none"``, a JSON overrides file, a Profile, or None
        (no pacing). ``deadline``: seconds from entering the context after which nothing is started or
        retried. ``ssl_ca_certs``: a PEM file of CA certificates to trust (both transports).
        """
        extra: dict[str, Any] = {}
        if max_fetch_url_bytes is not None:
            extra["max_fetch_url_bytes"] = max_fetch_url_bytes
        self._http_double: Transport | None = None
        self._grpc_double: GrpcTransport | None = None
        choice: str
        if isinstance(transport, str):
            choice = transport
        elif isinstance(transport, GrpcTransport):
            self._grpc_double, choice = transport, "grpc"
        else:
            self._http_double, choice = transport, "rest"
        self.config = config or ClientConfig.resolve(
            api_key,
            controller_host,
            limits=limits,
            api_version=api_version,
            timeout=timeout,
            max_attempts=max_attempts,
            retry=retry,
            deadline=deadline,
            tuning=tuning,
            max_connections=max_connections,
            retry_budget_tokens=retry_budget_tokens,
            transport=choice,
            ssl_ca_certs=ssl_ca_certs,
            **extra,
        )
        self.clock = clock
        self._http: Transport | None = None
        self._grpc: GrpcTransport | None = None
        self._rng = rng
        self._stats = StatsRecorder()
        self._budget = RetryBudget(self.config.retry_budget_tokens)
        self._limiters: dict[str, ScopedLimiter] = {}
        self._indexes: dict[str, IndexClient] = {}
        self._deferred: dict[str, DeferredIndexClient] = {}
        self._picking: dict[str, anyio.Lock] = {}
        self._hosts_by_name: dict[str, str] = {}
        self._executor: RequestExecutor | None = None
        self._control: ControlPlaneClient | None = None

    def __repr__(self) -> str:
        state = "open" if self._executor is not None else "closed"
        host, profile = self.config.controller_host, self.config.limits.name
        return (
            f"Client(controller_host={host!r}, transport={self.config.transport!r}, "
            f"limits={profile!r}, {state})"
        )

    # --- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        if self._executor is not None:
            raise UsageError("this Client is already open; use one `async with` block per client")
        config = self.config
        self._http = self._http_double or AiohttpTransport(
            config.headers(),
            secret=config.api_key,
            max_connections=config.max_connections,
            timeout=config.timeout,
            ssl_ca_certs=config.ssl_ca_certs,
        )
        deadline_at = self.clock.now() + config.deadline if config.deadline is not None else None
        self._executor = RequestExecutor(
            policy=config.retry,
            budget=self._budget,
            clock=self.clock,
            stats=self._stats,
            secret=config.api_key,
            deadline_at=deadline_at,
            timeout=config.timeout,
            rng=self._rng,
        )
        self._control = ControlPlaneClient(
            config.controller_host, executor=self._executor, transport=self._http, clock=self.clock
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections. Data-plane clients obtained from this client stop working."""
        http, self._http = self._http, None
        grpc, self._grpc = self._grpc, None
        self._executor = None
        self._control = None
        self._indexes.clear()
        self._deferred.clear()
        if grpc is not None:
            await grpc.aclose()
        if http is not None:
            await http.aclose()

    def _running(self) -> RequestExecutor:
        if self._executor is None:
            raise UsageError("the Client is not open: use `async with Client(...) as client:`")
        return self._executor

    def _grpc_transport(self) -> GrpcTransport:
        """The client's gRPC channels, opened on first use (a REST-only job never creates any)."""
        if self._grpc is None:
            self._grpc = self._grpc_double or AioGrpcTransport(
                self.config.grpc_metadata(),
                user_agent=self.config.user_agent,
                ssl_ca_certs=self.config.ssl_ca_certs,
            )
        return self._grpc

    # --- planes -------------------------------------------------------------------------------------

    @property
    def control(self) -> ControlPlaneClient:
        """The control plane (indexes, backups, restore jobs)."""
        self._running()
        assert self._control is not None
        return self._control

    async def index(self, name: str | None = None, *, host: str | None = None) -> IndexClient:
        """The data plane of index ``name`` (its host found with one describe call, then cached), or
        of ``host`` directly, over the transport picked for that host (probed once, see ``transport``)."""
        if host is not None:
            return await self._index_client(normalize_host(host), name)
        return await self._index_client(await self._host_of(name, "index"), name)

    async def bulk_imports(self, name: str | None = None, *, host: str | None = None) -> BulkImportClient:
        """The bulk import endpoints of index ``name`` (or of ``host``): REST on the index host, paced by
        the index's limiter and retried by the client's executor like every data-plane request."""
        url = normalize_host(host) if host is not None else await self._host_of(name, "bulk_imports")
        assert self._http is not None
        return BulkImportClient(
            url, executor=self._running(), transport=self._http, limiter=self._limiter(url, name)
        )

    async def _host_of(self, name: str | None, method: str) -> str:
        """The host of index ``name``: one describe call, then cached."""
        if not name:
            raise UsageError(f"{method}() needs name=... or host=...")
        cached = self._hosts_by_name.get(name)
        if cached is None:
            described = await self.control.describe_index(name)
            raw_host = described.get("host")
            if not raw_host:
                raise UsageError(f"index {name!r} has no host yet; wait until it is ready")
            cached = self._hosts_by_name[name] = normalize_host(str(raw_host))
        return cached

    def index_at(self, host: str, *, name: str | None = None) -> IndexClient:
        """The data plane at ``host`` (scheme optional: https is assumed; http is kept), without awaiting.

        With ``transport="auto"`` or ``"grpc"`` and a host not used yet, the client returned picks its
        transport at its first request (``.transport`` is ``"auto"`` until then); ``await
        client.index(host=...)`` picks before returning.
        """
        self._running()
        url = normalize_host(host)
        ready = self._ready(url, name)
        if ready is not None:
            return ready
        deferred = self._deferred.get(url)
        if deferred is None:
            deferred = self._deferred[url] = DeferredIndexClient(
                url,
                name=name,
                limiter=self._limiter(url, name),
                resolve=lambda: self._index_client(url, name),
            )
        return deferred

    async def _index_client(self, url: str, name: str | None) -> IndexClient:
        ready = self._ready(url, name)
        if ready is not None:
            return ready
        async with self._picking.setdefault(url, anyio.Lock()):  # concurrent first requests: one probe
            ready = self._ready(url, name)
            if ready is not None:
                return ready
            picked, reason, stats = await self._probe(url)
            return self._create(url, name, picked, reason, probe_stats=stats)

    def _ready(self, url: str, name: str | None) -> IndexClient | None:
        """The client of ``url`` if it exists or needs no probe (REST asked for, or a test double given)."""
        existing = self._indexes.get(url)
        if existing is not None:
            return existing
        known: TransportName | None = None
        if self._grpc_double is not None:
            known = "grpc"
        elif self._http_double is not None or self.config.transport == "rest":
            known = "rest"
        return self._create(url, name, known, f"transport={self.config.transport}") if known else None

    async def _probe(self, url: str) -> tuple[TransportName, str, bytes | None]:
        """The transport for ``url``, why, and the probe's stats answer (``auto`` or ``grpc``: one
        probe, see the selection module)."""
        probe = await probe_grpc(
            self._grpc_transport(), url, timeout=min(self.config.timeout, _PROBE_TIMEOUT)
        )
        if self.config.transport == "grpc":
            if probe.speaks_grpc is False:
                if wrong := plain_http_error(url, probe.reason):
                    raise wrong
                raise UsageError(
                    f"transport='grpc' but the index host {url} does not speak gRPC ({probe.reason}); "
                    "use transport='rest', or 'auto' to use gRPC only where the host speaks it"
                )
            return "grpc", f"transport=grpc; probe: {probe.reason}", probe.stats
        picked: TransportName = "grpc" if probe.speaks_grpc else "rest"
        return picked, f"transport=auto; probe: {probe.reason}", probe.stats

    def _create(
        self,
        url: str,
        name: str | None,
        picked: TransportName,
        reason: str,
        *,
        probe_stats: bytes | None = None,
    ) -> IndexClient:
        executor = self._running()
        limiter = self._limiter(url, name)
        client: IndexClient
        if picked == "grpc":
            client = GrpcDataPlane(
                url,
                executor=executor,
                transport=self._grpc_transport(),
                limiter=limiter,
                name=name,
                probe_stats=probe_stats,
            )
        else:
            assert self._http is not None
            client = DataPlaneClient(
                url,
                executor=executor,
                transport=self._http,
                limiter=limiter,
                name=name,
                max_fetch_url_bytes=self.config.max_fetch_url_bytes,
            )
        self._indexes[url] = client
        self._stats.transports[url] = picked
        log.info("index host %s: using %s (%s)", url, picked.upper(), reason)
        return client

    def _limiter(self, host: str, name: str | None) -> ScopedLimiter:
        limiter = self._limiters.get(host)
        if limiter is None:
            limiter = self._limiters[host] = ScopedLimiter(
                self.config.limits, index_name=name or host, clock=self.clock, tuning=self.config.tuning
            )
        return limiter

    # --- statistics ---------------------------------------------------------------------------------

    @property
    def stats(self) -> RequestStats:
        """A frozen snapshot: requests, 429s, retries, bytes, the current rate of every scope and the
        transport of every index host."""
        rates = {
            str(key): rate for limiter in self._limiters.values() for key, rate in limiter.rates().items()
        }
        return self._stats.snapshot(rates=rates, retry_budget=self._budget.tokens)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` on every completion, failure, 429 and retry; returns unsubscribe."""
        return self._stats.subscribe(callback)
