"""A real S3-compatible server for tests: moto's server mode on 127.0.0.1, a free port, with request
signing checked (moto's IAM authentication), so wrong or missing credentials fail as they do on AWS.

``s3_server`` (session) starts it once; ``s3`` (per test) puts its endpoint and a valid key pair in the
environment the way a user would (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``;
``AWS_EC2_METADATA_DISABLED`` so the SDK never waits for an instance role) and creates a fresh bucket.
Child processes started by the test inherit that environment. boto3 (moto's dependency) is the tests'
independent view of the store; the code under test only ever uses pyarrow.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

SECRET_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3")
_ALLOW_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


@dataclass
class S3Server:
    """The running server: its endpoint and the one key pair it accepts."""

    endpoint: str
    key_id: str
    secret: str
    _stop: Any = field(repr=False)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def environ(self) -> dict[str, str]:
        """What a user would export to reach this store."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@dataclass
class S3Bucket:
    """One fresh bucket on the server, with the server's helpers."""

    server: S3Server
    name: str

    def uri(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}" if key else f"s3://{self.name}"

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def get(self, key: str) -> bytes:
        body: bytes = self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()
        return body

    def put(self, key: str, data: bytes) -> None:
        self.server.client().put_object(Bucket=self.name, Key=key, Body=data)

    def pending_uploads(self) -> list[str]:
        """Keys of multipart uploads begun and never completed (invisible to readers)."""
        answer = self.server.client().list_multipart_uploads(Bucket=self.name)
        return sorted(upload["Key"] for upload in answer.get("Uploads", []))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    import boto3
    from moto import settings
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # set up the one user, then check every request
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
            region_name="us-east-1",
        )
        user = f"bulkops-test-{uuid.uuid4().hex[:8]}"  # moto's state is per process, not per server
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=_ALLOW_ALL)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], server.stop)
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
        server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> S3Bucket:
    """A new bucket, with the environment set up as a user of this store would set it up."""
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("BULKOPS_STORAGE_ENDPOINT", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    bucket = S3Bucket(s3_server, f"bulkops-{uuid.uuid4().hex[:12]}")
    s3_server.client().create_bucket(Bucket=bucket.name)
    return bucket
