"""Test certificates made with the openssl binary: a throwaway CA and a server certificate it signs
for 127.0.0.1 and localhost (rustls, used by the official SDK's gRPC client, refuses a self-signed
CA certificate used as the server's own)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

__all__ = ["HAVE_OPENSSL", "ServerCertificates", "make_certificates"]

HAVE_OPENSSL = shutil.which("openssl") is not None
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_LEAF_EXTENSIONS = (
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
    "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
)


class ServerCertificates(NamedTuple):
    ca: Path  # what clients trust
    cert: Path  # the server's certificate (--tls-cert)
    key: Path  # its key (--tls-key)


def make_certificates(folder: Path) -> ServerCertificates:
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, request, extensions = (
        folder / "cert.pem",
        folder / "key.pem",
        folder / "cert.csr",
        folder / "ext",
    )
    extensions.write_text(_LEAF_EXTENSIONS)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl(
        "req", "-x509", *_EC, "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=test-ca"
    )
    openssl("req", *_EC, "-keyout", str(key), "-out", str(request), "-subj", "/CN=localhost")
    openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(extensions),
    )  # fmt: skip
    return ServerCertificates(ca, cert, key)
