"""``Client``: one aiohttp session, one retry budget, one set of scoped limiters per index.

    async with Client(limits="default") as client:          # PINECONE_API_KEY from the environment
        indexes = await client.control.list_indexes()
        index = await client.index(name="docs")             # one describe call, then cached
        await index.delete_ids(["a", "b"], namespace="ns")
        print(client.stats.total_requests)

Everything the client sends shares its session (connection pool), its retry budget (so a dead server
fails fast for every caller at once) and, per index host, one :class:`~bulkops.limits.ScopedLimiter`
(so every worker of a job slows down together after a 429).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import TracebackType
from typing import Any

from bulkops.api.config import DEFAULT_API_VERSION, ClientConfig, normalize_host
from bulkops.api.control_plane import ControlPlaneClient
from bulkops.api.executor import RequestExecutor
from bulkops.api.rest.data_plane import DataPlaneClient
from bulkops.api.rest.transport import AiohttpTransport, Transport
from bulkops.api.stats import RequestStats, StatsRecorder, Subscriber
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import UsageError
from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import Profile
from bulkops.limits.retry import RetryBudget, RetryPolicy
from bulkops.limits.scoped import ScopedLimiter

__all__ = ["Client"]


class Client:
    """Async context manager owning one HTTP session for the control plane and every index."""

    def __init__(
        self,
        api_key: str | None = None,
        controller_host: str | None = None,
        *,
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
        transport: Transport | None = None,
        rng: random.Random | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        """Resolve settings now (a missing key is a UsageError here, before anything is sent).

        ``limits``: ``"default"``, ``"strict"``, ``"none"``, a JSON overrides file, a Profile, or None
        (no pacing). ``deadline``: seconds from entering the context after which nothing is started or
        retried. ``transport``: a test double instead of aiohttp.
        """
        extra: dict[str, Any] = {}
        if max_fetch_url_bytes is not None:
            extra["max_fetch_url_bytes"] = max_fetch_url_bytes
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
            **extra,
        )
        self.clock = clock
        self._transport_override = transport
        self._transport: Transport | None = None
        self._rng = rng
        self._stats = StatsRecorder()
        self._budget = RetryBudget(self.config.retry_budget_tokens)
        self._limiters: dict[str, ScopedLimiter] = {}
        self._indexes: dict[str, DataPlaneClient] = {}
        self._hosts_by_name: dict[str, str] = {}
        self._executor: RequestExecutor | None = None
        self._control: ControlPlaneClient | None = None

    def __repr__(self) -> str:
        state = "open" if self._executor is not None else "closed"
        host, profile = self.config.controller_host, self.config.limits.name
        return f"Client(controller_host={host!r}, limits={profile!r}, {state})"

    # --- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        if self._executor is not None:
            raise UsageError("this Client is already open; use one `async with` block per client")
        config = self.config
        self._transport = self._transport_override or AiohttpTransport(
            config.headers(),
            secret=config.api_key,
            max_connections=config.max_connections,
            timeout=config.timeout,
        )
        deadline_at = self.clock.now() + config.deadline if config.deadline is not None else None
        self._executor = RequestExecutor(
            self._transport,
            policy=config.retry,
            budget=self._budget,
            clock=self.clock,
            stats=self._stats,
            secret=config.api_key,
            deadline_at=deadline_at,
            timeout=config.timeout,
            rng=self._rng,
        )
        self._control = ControlPlaneClient(config.controller_host, executor=self._executor, clock=self.clock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session. Data-plane clients obtained from this client stop working."""
        transport, self._transport = self._transport, None
        self._executor = None
        self._control = None
        self._indexes.clear()
        if transport is not None:
            await transport.aclose()

    def _running(self) -> RequestExecutor:
        if self._executor is None:
            raise UsageError("the Client is not open: use `async with Client(...) as client:`")
        return self._executor

    # --- planes -------------------------------------------------------------------------------------

    @property
    def control(self) -> ControlPlaneClient:
        """The control plane (indexes, backups, restore jobs)."""
        self._running()
        assert self._control is not None
        return self._control

    async def index(self, name: str | None = None, *, host: str | None = None) -> DataPlaneClient:
        """The data plane of index ``name`` (its host found with one describe call, then cached), or
        of ``host`` directly."""
        if host is not None:
            return self.index_at(host, name=name)
        if not name:
            raise UsageError("index() needs name=... or host=...")
        cached = self._hosts_by_name.get(name)
        if cached is None:
            described = await self.control.describe_index(name)
            raw_host = described.get("host")
            if not raw_host:
                raise UsageError(f"index {name!r} has no host yet; wait until it is ready")
            cached = self._hosts_by_name[name] = normalize_host(str(raw_host))
        return self.index_at(cached, name=name)

    def index_at(self, host: str, *, name: str | None = None) -> DataPlaneClient:
        """The data plane at ``host`` (scheme optional: https is assumed; http is kept)."""
        executor = self._running()
        url = normalize_host(host)
        client = self._indexes.get(url)
        if client is None:
            client = self._indexes[url] = DataPlaneClient(
                url,
                executor=executor,
                limiter=self._limiter(url, name),
                name=name,
                max_fetch_url_bytes=self.config.max_fetch_url_bytes,
            )
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
        """A frozen snapshot: requests, 429s, retries, bytes and the current rate of every scope."""
        rates = {
            str(key): rate for limiter in self._limiters.values() for key, rate in limiter.rates().items()
        }
        return self._stats.snapshot(rates=rates, retry_budget=self._budget.tokens)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` on every completion, failure, 429 and retry; returns unsubscribe."""
        return self._stats.subscribe(callback)
