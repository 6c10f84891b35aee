"""How to reach an object store, resolved once from arguments and the environment (no I/O, no pyarrow).

bulkops never reads a secret into its own objects: the cloud SDKs inside pyarrow read the keys from the
usual places (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and
``~/.aws``, web identity and container credentials, an instance role; for GCS
``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's application default credentials, the metadata server).
What is kept here is only *where* the credentials come from, as words for error messages.

Endpoint: ``storage_endpoint=`` (the CLI's ``--storage-endpoint``), else ``BULKOPS_STORAGE_ENDPOINT``,
else for S3 ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (what the AWS CLI and boto3 honour; pyarrow
26 does not read them itself, so we pass them on) and for GCS ``STORAGE_EMULATOR_HOST``.
Region (S3): ``region=``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``; else ``us-east-1`` when an
endpoint is set (S3-compatible stores ignore it), else the bucket's own region, asked once.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bulkops.errors import UsageError
from bulkops.storage.uri import Scheme

__all__ = ["ENDPOINT_VARIABLES", "REGION_VARIABLES", "StorageSettings", "resolve_settings"]

ENDPOINT_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "s3": ("BULKOPS_STORAGE_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "gs": ("BULKOPS_STORAGE_ENDPOINT", "STORAGE_EMULATOR_HOST"),
    "file": (),
}
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
_HOST_RE = re.compile(r"^[A-Za-z0-9._:-]+$")
AWS_CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or "
    "AWS_PROFILE, or run where an instance or container role provides them"
)
GCS_CREDENTIALS_HINT = (
    "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run "
    "'gcloud auth application-default login'"
)


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Everything but the secrets. ``credentials`` says where the SDK will find them (None: nowhere
    bulkops can see; an instance or container role may still provide them)."""

    scheme: Scheme
    endpoint: str | None = None  # http(s)://host[:port]
    endpoint_source: str | None = None  # the flag or variable it came from, for messages
    region: str | None = None
    credentials: str | None = None

    @property
    def credentials_hint(self) -> str:
        return GCS_CREDENTIALS_HINT if self.scheme == "gs" else AWS_CREDENTIALS_HINT


def resolve_settings(
    scheme: Scheme,
    *,
    storage_endpoint: str | None = None,
    region: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> StorageSettings:
    """Settings for ``scheme``; a :class:`UsageError` for a malformed endpoint or half-set credentials."""
    env = os.environ if environ is None else environ
    if scheme == "file":
        return StorageSettings("file")
    endpoint, source = None, None
    if storage_endpoint:
        endpoint, source = storage_endpoint, "--storage-endpoint"
    else:
        for name in ENDPOINT_VARIABLES[scheme]:
            if env.get(name):
                endpoint, source = env[name], name
                break
    if endpoint is not None:
        endpoint = _normalized_endpoint(endpoint, source or "endpoint")
    if scheme == "gs":
        return StorageSettings("gs", endpoint, source, None, _gcs_credentials(env))
    chosen_region = region or next((env[name] for name in REGION_VARIABLES if env.get(name)), None)
    if chosen_region is None and endpoint is not None:
        chosen_region = "us-east-1"
    return StorageSettings("s3", endpoint, source, chosen_region, _aws_credentials(env))


def _normalized_endpoint(value: str, source: str) -> str:
    text = value.strip()
    if "://" not in text:  # STORAGE_EMULATOR_HOST and friends are often given as host:port
        text = "http://" + text
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _HOST_RE.match(parts.hostname)
        or parts.path.strip("/")
    ):
        raise UsageError(
            f"storage endpoint {value[:80]!r} (from {source}) is not valid: use http(s)://HOST[:PORT]"
        )
    if parts.username or parts.password:
        raise UsageError(
            f"storage endpoint from {source} must not carry credentials: use the environment for keys"
        )
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"storage endpoint from {source} has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _aws_credentials(env: Mapping[str, str]) -> str | None:
    key_id, secret = bool(env.get("AWS_ACCESS_KEY_ID")), bool(env.get("AWS_SECRET_ACCESS_KEY"))
    if key_id != secret:
        given, missing = (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            if key_id
            else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
        )
        raise UsageError(f"{given} is set but {missing} is not: set both (or neither, to use a profile)")
    if key_id:
        return "the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    home = Path(env.get("HOME") or Path.home())
    credentials_file = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    config_file = Path(env.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        profile = env.get(variable)
        if profile:
            if not _has_profile(profile, credentials_file, config_file):
                raise UsageError(
                    f"AWS profile {profile!r} (from {variable}) is in neither {credentials_file} nor "
                    f"{config_file}: create it (aws configure --profile {profile}) or unset {variable}"
                )
            return f"AWS profile {profile!r} ({variable})"
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)"
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "container credentials (AWS_CONTAINER_CREDENTIALS_*)"
    if _has_profile("default", credentials_file, config_file):
        return "AWS profile 'default'"
    return None


def _has_profile(profile: str, credentials_file: Path, config_file: Path) -> bool:
    for path, section in ((credentials_file, profile), (config_file, _config_section(profile))):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue
        if parser.has_section(section):
            return True
    return False


def _config_section(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def _gcs_credentials(env: Mapping[str, str]) -> str | None:
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        if not Path(path).is_file():
            raise UsageError(
                f"GOOGLE_APPLICATION_CREDENTIALS names {path!r}, which is not a file: point it at a "
                "service-account key file or unset it"
            )
        return "the key file in GOOGLE_APPLICATION_CREDENTIALS"
    config_dir = env.get("CLOUDSDK_CONFIG") or str(
        Path(env.get("HOME") or Path.home()) / ".config" / "gcloud"
    )
    if (Path(config_dir) / "application_default_credentials.json").is_file():
        return "gcloud application default credentials"
    return None
