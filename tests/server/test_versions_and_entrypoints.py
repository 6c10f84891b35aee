"""Answer shapes per API version, the 2026-07 create body, sparse indexes, and the entry points
(ServerThread helpers, `bulkops serve` usage errors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bulkops.models import Record, SparseValues
from bulkops.server import LocalServer, ServerConfig, ServerThread
from tests.server.conftest import V2510, call

V2607 = {"X-Pinecone-Api-Version": "2026-07"}
LEGACY_BODY = {
    "name": "v",
    "dimension": 3,
    "metric": "dotproduct",
    "spec": {"serverless": {"cloud": "gcp", "region": "europe-west4"}},
}


async def test_describe_shape_follows_the_version_header(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, _ = await call(http, "POST", f"{server.url}/indexes", json=LEGACY_BODY)
    assert status == 201
    _, old = await call(http, "GET", f"{server.url}/indexes/v", headers={})
    assert old["spec"] == {"serverless": {"cloud": "gcp", "region": "europe-west4"}}
    _, mid = await call(http, "GET", f"{server.url}/indexes/v", headers=V2510)
    assert mid["spec"]["serverless"]["read_capacity"] == {"mode": "OnDemand", "status": {"state": "Ready"}}
    _, new = await call(http, "GET", f"{server.url}/indexes/v", headers=V2607)
    assert "spec" not in new
    assert new["schema"] == {
        "fields": {"_values": {"type": "dense_vector", "dimension": 3, "metric": "dotproduct"}}
    }
    assert new["deployment"] == {"deployment_type": "managed", "cloud": "gcp", "region": "europe-west4"}
    assert new["host"] == server.index_host("v")


async def test_2026_07_create_body_for_dense_and_sparse(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    dense = {
        "name": "d",
        "schema": {"fields": {"_values": {"type": "dense_vector", "dimension": 2, "metric": "euclidean"}}},
        "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
        "deletion_protection": "disabled",
    }
    status, body = await call(http, "POST", f"{server.url}/indexes", json=dense, headers=V2607)
    assert status == 201
    assert body["schema"]["fields"]["_values"]["metric"] == "euclidean"
    sparse = {
        "name": "s",
        "schema": {"fields": {"_sparse_values": {"type": "sparse_vector"}}},
        "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
    }
    status, body = await call(http, "POST", f"{server.url}/indexes", json=sparse, headers=V2607)
    assert status == 201
    assert body["schema"] == {"fields": {"_sparse_values": {"type": "sparse_vector"}}}
    host = server.index_host("s")
    vectors = [
        {"id": "a", "sparseValues": {"indices": [1, 5], "values": [0.5, 2.0]}},
        {"id": "b", "sparseValues": {"indices": [5], "values": [1.0]}},
    ]
    status, _ = await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": vectors})
    assert status == 200
    _, body = await call(http, "GET", f"{host}/vectors/fetch", params={"ids": "a"})
    assert body["vectors"]["a"]["sparseValues"] == {"indices": [1, 5], "values": [0.5, 2.0]}
    _, body = await call(
        http, "POST", f"{host}/query", json={"topK": 2, "sparseVector": {"indices": [5], "values": [1.0]}}
    )
    assert [(m["id"], m["score"]) for m in body["matches"]] == [("a", 2.0), ("b", 1.0)]
    status, body = await call(
        http, "POST", f"{host}/vectors/upsert", json={"vectors": [{"id": "c", "values": [1.0]}]}
    )
    assert status == 400
    status, body = await call(http, "POST", f"{host}/vectors/update", json={"id": "a", "values": [1.0]})
    assert status == 400
    assert "Sparse index" in body["message"]


def test_server_thread_helpers_from_a_sync_caller() -> None:
    with ServerThread(ServerConfig()) as server:
        host = server.create_index_direct("t", 2)
        assert host == server.index_host("t")
        assert (
            server.seed(
                "t",
                "ns",
                [Record("b", (1.0, 2.0)), Record("a", (3.0, 4.0), SparseValues([1], [0.5]), {"k": "v"})],
            )
            == 2
        )
        assert server.ids("t", "ns") == ["a", "b"]
        assert server.count("t", "ns") == 2
        (record,) = server.get_records("t", "ns", ["a"])
        assert record == Record("a", (3.0, 4.0), SparseValues((1,), (0.5,)), {"k": "v"})


def test_bulkops_serve_refuses_a_bad_fault_spec_before_starting() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bulkops", "serve", "--port", "0", "--faults", "explode:2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "fault rule 'explode:2' is not valid" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "99999"], "port must be from 0 to 65535"),
        (["--port", "-1"], "port must be from 0 to 65535"),
        (["--index-port-base", "0"], "index port base must be from 1 to 65535"),
        (["--index-port-base", "70000"], "index port base must be from 1 to 65535"),
        (["--consistency-lag", "-5"], "consistency lag must be a finite number"),
        (["--consistency-lag", "nan"], "consistency lag must be a finite number"),
        (["--consistency-lag", "inf"], "consistency lag must be a finite number"),
        (["--latency", "nan"], "milliseconds must be finite"),
        (["--latency", "list=inf:2"], "milliseconds must be finite"),
        (["--list-page-max", "0"], "list page max must be at least 1"),
        (["--tls-cert", __file__], "TLS needs both a certificate and its key"),
        (["--tls-cert", __file__, "--tls-key", __file__], "both must be PEM files of one key pair"),
    ],
)
def test_bulkops_serve_refuses_out_of_range_options_with_one_error_line(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bulkops.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--data-dir", str(tmp_path / "data"), *args])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
    assert fragment in err
    assert not (tmp_path / "data").exists()  # refused before anything was created
