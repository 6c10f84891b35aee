"""Client settings, resolved once: API key and controller host from arguments or the environment.

The environment is read the way the official SDK reads it: ``PINECONE_API_KEY`` and
``PINECONE_CONTROLLER_HOST``; a host without a scheme gets ``https://``, ``http://`` is kept (a local
server), and the default control plane is ``https://api.pinecone.io``.

The API key lives only in :attr:`ClientConfig.api_key`, which is excluded from the repr; a key that
cannot travel in a header (a non-ASCII or control character: a key pasted with a stray character) is
refused here, before any request, without being shown.

Proxies come from the environment as curl and most HTTP clients read them (``HTTPS_PROXY``,
``HTTP_PROXY``, ``NO_PROXY``, either case: :func:`proxy_for`); both transports follow the same rule.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast, get_args

from bulkops._version import package_version
from bulkops.api.protocols import TransportName
from bulkops.errors import Param, UsageError
from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import PROFILES, Profile, load_profile
from bulkops.limits.retry import RetryPolicy

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CONTROLLER_HOST",
    "DEFAULT_MAX_FETCH_URL_BYTES",
    "ClientConfig",
    "check_api_key",
    "normalize_host",
    "plain_http_error",
    "proxy_for",
]

DEFAULT_CONTROLLER_HOST = "https://api.pinecone.io"
DEFAULT_API_VERSION = "2025-10"
# The request target of a fetch GET (path + query). 48 KiB holds 1000 IDs of up to ~44 characters (UUIDs
# included) in one request, as the official SDK sends them: fetch is paced per request (100 req/s), so
# a smaller budget cutting 1000 IDs into several GETs divides the achievable rate. Pinecone's own URL
# limit is undocumented; a host that answers 413/414/431 gets the batch split in half and the client
# lowers its budget for the next fetches (DataPlaneClient.fetch). Lower it for hosts known to take
# shorter URLs (many servers' defaults: 8 KiB request line).
DEFAULT_MAX_FETCH_URL_BYTES = 48 * 1024


def _user_agent() -> str:
    return f"bulkops/{package_version()}"


def normalize_host(host: str) -> str:
    """``https://`` for a bare host, ``http://`` kept, no trailing slash (as the official SDK does)."""
    text = host.strip()
    if not text:
        raise UsageError("a host must not be empty: give e.g. https://my-index-abc123.svc.pinecone.io")
    if "://" not in text:
        text = "https://" + text
    scheme = text.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"host {host!r} must use http:// or https://, not {scheme}://")
    return text.rstrip("/")


def check_api_key(key: str) -> None:
    """Refuse a key that cannot be sent in a header (non-ASCII or control characters). The key itself
    is never shown, only where the bad character is."""
    for position, char in enumerate(key, start=1):
        if not " " <= char <= "~":
            what = "a non-ASCII character" if not char.isascii() else "a control character"
            raise UsageError(
                f"the API key holds {what} at position {position} of {len(key)}, which cannot be sent in "
                "a header: check ",
                Param("api_key"),
                " or PINECONE_API_KEY (Pinecone keys are plain ASCII)",
            )


# What an SSL handshake against a server that answers in plain HTTP reports (OpenSSL, BoringSSL).
_PLAIN_HTTP_MARKS = ("wrong_version_number", "wrong version number", "packet length too long")


def plain_http_error(url: str, detail: str) -> UsageError | None:
    """A UsageError with the fix when ``detail`` (an SSL failure at ``url``) shows the server answered
    without TLS: an ``https://`` URL (or a host given without a scheme) for a plain HTTP server."""
    if not url.startswith("https://") or not any(mark in detail.lower() for mark in _PLAIN_HTTP_MARKS):
        return None
    origin = url.split("://", 1)[1].split("/", 1)[0]
    return UsageError(
        f"{origin} does not speak TLS (the TLS handshake got a plain HTTP answer): a host without a "
        f"scheme means https://; if it serves plain HTTP (a local bulkops serve, say), use http://{origin}"
    )


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy to reach ``url`` through: ``HTTPS_PROXY``/``HTTP_PROXY`` by the URL's scheme (the
    lowercase name wins), unless ``NO_PROXY`` names its host. The rule aiohttp's ``trust_env`` applies
    (urllib's), given to gRPC too: grpc itself reads only the lowercase names."""
    env = os.environ if environ is None else environ
    # Uppercase first, so that a lowercase name read after it wins.
    settings = {name.lower(): value for name, value in sorted(env.items(), key=lambda kv: kv[0].islower())}
    scheme, _, rest = url.partition("://")
    proxy = settings.get(f"{scheme.lower()}_proxy")
    if not proxy:
        return None
    host = rest.split("/", 1)[0]
    no_proxy = settings.get("no_proxy")
    if no_proxy and urllib.request.proxy_bypass_environment(host, {"no": no_proxy}):  # type: ignore[attr-defined]  # public, missing from typeshed
        return None
    return proxy


def _resolve_profile(limits: str | Profile | None) -> Profile:
    if limits is None:
        return PROFILES["none"]
    if isinstance(limits, Profile):
        return limits
    return load_profile(limits)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a :class:`bulkops.api.Client` needs, validated. Build it with :meth:`resolve`."""

    api_key: str = field(repr=False)
    controller_host: str = DEFAULT_CONTROLLER_HOST
    api_version: str = DEFAULT_API_VERSION
    timeout: float = 30.0
    """Seconds per attempt (connect + send + full answer)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deadline: float | None = None
    """Seconds from the client's start after which no request is started or retried."""
    limits: Profile = field(default_factory=lambda: PROFILES["default"])
    tuning: AdaptiveTuning = field(default_factory=AdaptiveTuning)
    max_connections: int = 100
    max_fetch_url_bytes: int = DEFAULT_MAX_FETCH_URL_BYTES
    retry_budget_tokens: float = 20.0
    transport: TransportName = "auto"
    """The data plane's transport: ``auto`` (gRPC where the index host speaks it), ``grpc`` or ``rest``."""
    ssl_ca_certs: str | None = None
    """A PEM file of CA certificates to trust for https hosts (both transports); None: the system's."""
    user_agent: str = field(default_factory=_user_agent)

    @classmethod
    def resolve(
        cls,
        api_key: str | None = None,
        controller_host: str | None = None,
        *,
        limits: str | Profile | None = "default",
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
        tuning: AdaptiveTuning | None = None,
        max_connections: int = 100,
        max_fetch_url_bytes: int = DEFAULT_MAX_FETCH_URL_BYTES,
        retry_budget_tokens: float = 20.0,
        transport: str = "auto",
        ssl_ca_certs: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Arguments first, then ``PINECONE_API_KEY`` / ``PINECONE_CONTROLLER_HOST``, then defaults."""
        env = os.environ if environ is None else environ
        key = api_key if api_key is not None else env.get("PINECONE_API_KEY")
        if key is None:
            raise UsageError(
                "no Pinecone API key: pass api_key=... or set PINECONE_API_KEY. A local server that "
                "runs without authentication accepts any placeholder, e.g. api_key='local'."
            )
        check_api_key(key)
        host = normalize_host(
            controller_host or env.get("PINECONE_CONTROLLER_HOST") or DEFAULT_CONTROLLER_HOST
        )
        policy = retry or RetryPolicy()
        if max_attempts is not None:
            if max_attempts < 1:
                raise UsageError(f"max_attempts must be at least 1, not {max_attempts}")
            policy = replace(policy, max_attempts=max_attempts)
        if timeout <= 0:
            raise UsageError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if deadline is not None and deadline <= 0:
            raise UsageError(f"deadline must be a positive number of seconds, not {deadline!r}")
        if max_connections < 1:
            raise UsageError(f"max_connections must be at least 1, not {max_connections}")
        if max_fetch_url_bytes < 256:
            raise UsageError(f"max_fetch_url_bytes must be at least 256, not {max_fetch_url_bytes}")
        if not api_version.strip():
            raise UsageError("api_version must not be empty (e.g. 2025-10)")
        if transport not in get_args(TransportName):
            raise UsageError(f"transport must be auto, grpc or rest, not {transport!r}")
        if ssl_ca_certs is not None and not Path(ssl_ca_certs).is_file():
            raise UsageError(
                f"ssl_ca_certs {str(ssl_ca_certs)!r} is not a file: give a PEM file of CA certificates"
            )
        return cls(
            api_key=key,
            controller_host=host,
            api_version=api_version.strip(),
            timeout=float(timeout),
            retry=policy,
            deadline=deadline,
            limits=_resolve_profile(limits),
            tuning=tuning or AdaptiveTuning(),
            max_connections=max_connections,
            max_fetch_url_bytes=max_fetch_url_bytes,
            retry_budget_tokens=retry_budget_tokens,
            transport=cast(TransportName, transport),  # checked against TransportName above
            ssl_ca_certs=str(ssl_ca_certs) if ssl_ca_certs is not None else None,
        )

    def headers(self) -> dict[str, str]:
        """Headers sent with every request (the key only when one was given)."""
        headers = {
            "X-Pinecone-Api-Version": self.api_version,
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        if self.api_key:
            headers["Api-Key"] = self.api_key
        return headers

    def grpc_metadata(self) -> dict[str, str]:
        """Metadata sent with every gRPC call (the key only when one was given), as Pinecone's SDKs
        send it; the user agent goes with the channel instead."""
        metadata = {"x-pinecone-api-version": self.api_version}
        if self.api_key:
            metadata["api-key"] = self.api_key
        return metadata

    def __repr__(self) -> str:
        return (
            f"ClientConfig(controller_host={self.controller_host!r}, api_version={self.api_version!r}, "
            f"transport={self.transport!r}, "
            f"limits={self.limits.name!r}, timeout={self.timeout!r}, max_attempts={self.retry.max_attempts}, "
            f"deadline={self.deadline!r}, api_key={'***' if self.api_key else '(none)'})"
        )
