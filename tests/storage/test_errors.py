"""Bad storage settings against a real S3-compatible server: one line that says what to do, the right
error class (usage vs transport), and never a key from the environment in the message."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bulkops.errors import BulkopsError, TransportError, UsageError
from bulkops.storage import open_storage
from tests.storage.s3server import S3Bucket

WRONG_SECRET = "wrongSecretKey/ThatMustNeverBePrinted0123"


def _one_line(error: BaseException, s3: S3Bucket) -> str:
    text = str(error)
    assert "\n" not in text
    assert s3.server.secret not in text
    assert s3.server.key_id not in text
    assert WRONG_SECRET not in text
    return text


def test_an_unknown_bucket(s3: S3Bucket) -> None:
    storage = open_storage("s3://no-such-bucket-here/exports")
    for action in (storage.check, storage.list_files, lambda: storage.read_bytes("a.parquet")):
        with pytest.raises((UsageError, FileNotFoundError)) as caught:
            action()
        text = _one_line(caught.value, s3)
        if isinstance(caught.value, UsageError):
            assert "bucket 'no-such-bucket-here' does not exist in the object store at" in text
            assert "(from AWS_ENDPOINT_URL)" in text
    with pytest.raises(UsageError, match="bucket 'no-such-bucket-here' does not exist"):
        storage.write_bytes("a.parquet", b"x")


def test_an_unknown_bucket_is_not_taken_for_an_empty_directory(s3: S3Bucket) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        open_storage("s3://no-such-bucket-here").list_files()


def test_a_wrong_secret_is_refused_by_name_of_its_source(
    s3: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG_SECRET)
    with pytest.raises(UsageError) as caught:
        open_storage(s3.uri("x")).list_files()
    text = _one_line(caught.value, s3)
    assert "refused the credentials from the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)" in text
    assert "SIGNATURE_DOES_NOT_MATCH" in text


def test_an_unknown_key_id(s3: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAKEYATALL0000")
    with pytest.raises(UsageError, match="INVALID_ACCESS_KEY_ID") as caught:
        open_storage(s3.uri("x")).write_bytes("a", b"x")
    assert "AKIANOTAKEYATALL0000" not in _one_line(caught.value, s3)
    assert s3.keys() == []


def test_no_credentials_at_all(s3: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UsageError) as caught:
        open_storage(s3.uri("x")).list_files()
    text = _one_line(caught.value, s3)
    assert text.startswith(f"no credentials found for {s3.uri('x')}")
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in text


def test_an_endpoint_nobody_listens_on_is_a_transport_error(s3: S3Bucket) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        storage = open_storage(s3.uri("x"), storage_endpoint=f"http://127.0.0.1:{port}")
        with pytest.raises(TransportError) as caught:
            storage.list_files()
    text = _one_line(caught.value, s3)
    assert f"cannot reach the object store at http://127.0.0.1:{port} (from --storage-endpoint)" in text


def test_every_storage_error_is_a_bulkops_error_with_an_exit_code(s3: S3Bucket) -> None:
    with pytest.raises(BulkopsError) as caught:
        open_storage("s3://no-such-bucket-here").check()
    assert caught.value.exit_code == 2


def test_a_profile_from_the_shared_credentials_file_is_used(
    s3: S3Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    profile = "[bulkops-test]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
    credentials.write_text(profile.format(s3.server.key_id, s3.server.secret))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "bulkops-test")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage = open_storage(s3.uri("via-profile"))
    assert storage.settings.credentials == "AWS profile 'bulkops-test' (AWS_PROFILE)"
    storage.write_bytes("x.bin", b"through the profile")
    with monkeypatch.context() as boto:  # boto3 (the tests' own view) would look for the profile too
        boto.delenv("AWS_PROFILE")
        assert s3.get("via-profile/x.bin") == b"through the profile"
    credentials.write_text(profile.format(s3.server.key_id, WRONG_SECRET))
    with pytest.raises(UsageError) as caught:
        open_storage(s3.uri("via-profile")).list_files()
    text = _one_line(caught.value, s3)
    assert "refused the credentials from AWS profile 'bulkops-test' (AWS_PROFILE)" in text
