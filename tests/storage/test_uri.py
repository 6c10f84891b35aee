"""Parsing locations: every accepted form, and one clear error for each wrong one (no I/O)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bulkops.errors import UsageError
from bulkops.storage import StorageUri, parse_uri


@pytest.mark.parametrize(
    ("text", "scheme", "bucket", "key"),
    [
        ("s3://bucket/prefix/dir", "s3", "bucket", "prefix/dir"),
        ("s3://bucket/prefix/dir/", "s3", "bucket", "prefix/dir"),
        ("s3://bucket", "s3", "bucket", ""),
        ("s3://bucket/", "s3", "bucket", ""),
        ("S3://my.bucket-1/a//b/./c", "s3", "my.bucket-1", "a/b/c"),
        ("gs://gcs_bucket/exports", "gs", "gcs_bucket", "exports"),
        ("file:///data/export", "file", None, "data/export"),
        ("file://localhost/data/x", "file", None, "data/x"),
        ("/abs/path/", "file", None, "abs/path"),
    ],
)
def test_accepted_forms(text: str, scheme: str, bucket: str | None, key: str) -> None:
    uri = parse_uri(text)
    assert (uri.scheme, uri.bucket, uri.key) == (scheme, bucket, key)


def test_a_relative_path_is_made_absolute_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = parse_uri("out/export.parquet")
    assert uri.is_local
    assert "/" + uri.key == os.path.join(str(tmp_path), "out", "export.parquet")
    assert str(uri) == f"file://{tmp_path}/out/export.parquet"


def test_round_trip_and_joins() -> None:
    root = parse_uri("s3://bucket/exports/run-1")
    part = root.join("__default__/part-00000.parquet")
    assert str(part) == "s3://bucket/exports/run-1/__default__/part-00000.parquet"
    assert part.fs_path == "bucket/exports/run-1/__default__/part-00000.parquet"
    assert part.relative_to(root) == "__default__/part-00000.parquet"
    assert parse_uri(str(part)) == part
    assert parse_uri("s3://bucket").join("a/b") == StorageUri("s3", "bucket", "a/b")
    assert parse_uri("file:///tmp/x").join("y").fs_path == "/tmp/x/y"
    with pytest.raises(ValueError, match="not below"):
        parse_uri("s3://bucket/other").relative_to(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "storage location is empty"),
        ("ftp://host/x", "unsupported storage scheme 'ftp://'"),
        ("https://account.blob.core.windows.net/c/x", "unsupported storage scheme 'https://'"),
        ("s3://", "names no bucket"),
        ("s3:///prefix", "names no bucket"),
        ("s3://Bad_Bucket!/x", "bucket name 'Bad_Bucket!' is not valid"),
        ("s3://key:secret@bucket/x", "never carry credentials"),
        ("s3://bucket/x?endpoint_override=localhost:9000", "not in ?query"),
        ("s3://bucket/a/../b", "must not contain '..'"),
        ("file://host/data", "must be absolute"),
        ("s3://bucket/" + "k" * 1600, "at most 1500"),
    ],
)
def test_refused_forms_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("?", r"\?")) as caught:
        parse_uri(text)
    assert "\n" not in str(caught.value)


def test_joined_paths_stay_below_the_root() -> None:
    root = parse_uri("s3://bucket/root")
    for bad in ("../escape", "/absolute", "a/../../b", "a\\b"):
        with pytest.raises(UsageError):
            root.join(bad)
