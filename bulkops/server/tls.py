"""TLS for the local server: one certificate for the control plane and every index host, where REST
(HTTP/1.1) and gRPC (HTTP/2) share each port.

ALPN offers ``http/1.1`` before ``h2``: the server's order wins, so a client offering both (curl,
browsers) gets HTTP/1.1, which is what serves REST here, while gRPC clients, which offer only
``h2``, get HTTP/2 (:mod:`bulkops.server.front` routes by the bytes that follow either way).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from bulkops.errors import UsageError

__all__ = ["ALPN_PROTOCOLS", "server_tls_context"]

ALPN_PROTOCOLS = ["http/1.1", "h2"]


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context from PEM files; a :class:`UsageError` says which file is wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # HTTP/2 requires TLS 1.2 or later
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise UsageError(
            f"TLS file {exc.filename} does not exist: pass PEM files to --tls-cert/--tls-key"
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"cannot use --tls-cert {cert} with --tls-key {key}: {exc}; "
            "both must be PEM files of one key pair"
        ) from None
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    return context
