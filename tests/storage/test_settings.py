"""Endpoint, region and credential sources resolved from arguments and the environment (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.errors import UsageError
from bulkops.storage import resolve_settings

KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


def _home(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), **env}


def test_the_endpoint_comes_from_the_argument_then_bulkops_then_the_aws_variables(tmp_path: Path) -> None:
    env = _home(
        tmp_path,
        **KEYS,
        BULKOPS_STORAGE_ENDPOINT="http://127.0.0.1:9000",
        AWS_ENDPOINT_URL_S3="http://s3-only:1",
        AWS_ENDPOINT_URL="http://all:2",
    )
    chosen = resolve_settings("s3", storage_endpoint="https://minio.local:9443/", environ=env)
    assert (chosen.endpoint, chosen.endpoint_source) == ("https://minio.local:9443", "--storage-endpoint")
    assert resolve_settings("s3", environ=env).endpoint_source == "BULKOPS_STORAGE_ENDPOINT"
    del env["BULKOPS_STORAGE_ENDPOINT"]
    assert resolve_settings("s3", environ=env).endpoint == "http://s3-only:1"
    del env["AWS_ENDPOINT_URL_S3"]
    assert resolve_settings("s3", environ=env).endpoint == "http://all:2"
    del env["AWS_ENDPOINT_URL"]
    assert resolve_settings("s3", environ=env).endpoint is None


def test_gcs_reads_the_emulator_variable_and_not_the_aws_ones(tmp_path: Path) -> None:
    env = _home(tmp_path, AWS_ENDPOINT_URL="http://aws:1", STORAGE_EMULATOR_HOST="localhost:4443")
    chosen = resolve_settings("gs", environ=env)
    assert (chosen.endpoint, chosen.endpoint_source) == ("http://localhost:4443", "STORAGE_EMULATOR_HOST")


@pytest.mark.parametrize("bad", ["not a url", "ftp://host:1", "http://host:1/path", "http://u:p@host:1"])
def test_a_malformed_endpoint_is_one_clear_error(bad: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="storage endpoint") as caught:
        resolve_settings("s3", storage_endpoint=bad, environ=_home(tmp_path, **KEYS))
    assert "p@" not in str(caught.value)


def test_region_from_argument_environment_or_endpoint(tmp_path: Path) -> None:
    env = _home(tmp_path, **KEYS, AWS_DEFAULT_REGION="eu-west-1")
    assert resolve_settings("s3", region="ap-south-1", environ=env).region == "ap-south-1"
    assert resolve_settings("s3", environ=env).region == "eu-west-1"
    assert resolve_settings("s3", environ={**env, "AWS_REGION": "us-west-2"}).region == "us-west-2"
    no_region = _home(tmp_path, **KEYS)
    assert resolve_settings("s3", environ=no_region).region is None  # the bucket's own, asked later
    assert resolve_settings("s3", storage_endpoint="http://h:1", environ=no_region).region == "us-east-1"


def test_credential_sources_are_named_never_read(tmp_path: Path) -> None:
    assert resolve_settings("s3", environ=_home(tmp_path, **KEYS)).credentials == (
        "the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    )
    assert resolve_settings("s3", environ=_home(tmp_path)).credentials is None
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[default]\naws_access_key_id = x\n[dev]\naws_access_key_id = y\n")
    assert resolve_settings("s3", environ=_home(tmp_path)).credentials == "AWS profile 'default'"
    assert resolve_settings("s3", environ=_home(tmp_path, AWS_PROFILE="dev")).credentials == (
        "AWS profile 'dev' (AWS_PROFILE)"
    )
    (aws / "config").write_text("[profile sso]\nsso_start_url = https://x\n")
    assert "sso" in str(resolve_settings("s3", environ=_home(tmp_path, AWS_PROFILE="sso")).credentials)
    web = _home(tmp_path / "none", AWS_WEB_IDENTITY_TOKEN_FILE="/var/run/token")
    assert "web identity" in str(resolve_settings("s3", environ=web).credentials)
    for settings in [resolve_settings("s3", environ=_home(tmp_path, **KEYS))]:
        assert KEYS["AWS_SECRET_ACCESS_KEY"] not in repr(settings)
        assert KEYS["AWS_ACCESS_KEY_ID"] not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA1"}, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": "s" * 40}, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
        ({"AWS_PROFILE": "nope"}, "AWS profile 'nope' \\(from AWS_PROFILE\\) is in neither"),
    ],
)
def test_half_configured_credentials_are_refused_before_any_request(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        resolve_settings("s3", environ=_home(tmp_path, **env))
    assert "s" * 40 not in str(caught.value)


def test_gcs_credentials(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text("{}")
    found = resolve_settings("gs", environ=_home(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(key)))
    assert found.credentials == "the key file in GOOGLE_APPLICATION_CREDENTIALS"
    assert resolve_settings("gs", environ=_home(tmp_path)).credentials is None
    with pytest.raises(UsageError, match="is not a file"):
        resolve_settings("gs", environ=_home(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "x")))


def test_local_paths_need_nothing(tmp_path: Path) -> None:
    settings = resolve_settings("file", environ={"AWS_ACCESS_KEY_ID": "half"})
    assert (settings.endpoint, settings.credentials) == (None, None)
