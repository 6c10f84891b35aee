"""Durability: SIGKILL the server process mid-write, restart it on the same data dir, and read
back exactly the acknowledged records (in-flight batches are all-or-nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bulkops.server import ServerConfig, serve_local
from bulkops.server.process import ServerProcess
from tests.helpers.ports import quiet_port_base
from tests.server.conftest import call

pytestmark = [pytest.mark.timeout(90), pytest.mark.integration]

CREATE = {
    "name": "crash",
    "dimension": 8,
    "metric": "cosine",
    "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}},
    "deletion_protection": "enabled",
    "tags": {"env": "test"},
}


def _batch(writer: int, n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"w{writer}-b{n:04d}-{k:03d}",
            "values": [float(writer), float(n), float(k), 1, 2, 3, 4, 5],
            "metadata": {"b": n},
        }
        for k in range(50)
    ]


async def _all_ids(http: aiohttp.ClientSession, host: str) -> list[str]:
    ids: list[str] = []
    params = {"namespace": "ns", "limit": "1000"}
    while True:
        status, body = await call(http, "GET", f"{host}/vectors/list", params=params)
        assert status == 200
        ids += [v["id"] for v in body["vectors"]]
        if "pagination" not in body:
            return ids
        params["paginationToken"] = body["pagination"]["next"]


async def test_sigkill_mid_write_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    acked: list[list[dict[str, object]]] = []
    in_flight: dict[int, list[dict[str, object]]] = {}
    enough = asyncio.Event()
    base = str(quiet_port_base())  # kept across the restart, out of the ephemeral range
    server = ServerProcess(["--data-dir", str(tmp_path), "--limits", "none", "--index-port-base", base])
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await call(http, "POST", f"{server.url}/indexes", json=CREATE)
            assert status == 201
            host = body["host"]

            async def writer(w: int) -> None:
                for n in range(10_000):
                    batch = _batch(w, n)
                    in_flight[w] = batch
                    try:
                        status, _ = await call(
                            http, "POST", f"{host}/vectors/upsert", json={"vectors": batch, "namespace": "ns"}
                        )
                    except aiohttp.ClientError:
                        return  # the server died under us: this batch is unacknowledged
                    assert status == 200
                    del in_flight[w]
                    acked.append(batch)
                    if len(acked) >= 40:
                        enough.set()

            tasks = [asyncio.create_task(writer(w)) for w in range(4)]
            await asyncio.wait_for(enough.wait(), 60)
            server.kill()
            await asyncio.gather(*tasks)
    finally:
        server.stop()

    with ServerProcess(["--data-dir", str(tmp_path), "--limits", "none"]) as restarted:
        async with aiohttp.ClientSession() as http:
            status, model = await call(http, "GET", f"{restarted.url}/indexes/crash")
            assert status == 200
            assert (model["deletion_protection"], model["tags"], model["dimension"]) == (
                "enabled",
                {"env": "test"},
                8,
            )
            present = set(await _all_ids(http, model["host"]))
            acked_ids = {v["id"] for batch in acked for v in batch}
            assert acked_ids <= present
            for batch in in_flight.values():  # unacknowledged: all or nothing
                ids = {v["id"] for v in batch}
                assert ids <= present or not (ids & present)
                present -= ids
            assert present == acked_ids
            sample = sorted(acked_ids)[:3]
            status, body = await call(
                http,
                "GET",
                f"{model['host']}/vectors/fetch",
                params=[("ids", i) for i in sample] + [("namespace", "ns")],
            )
            assert sorted(body["vectors"]) == sample
            first = body["vectors"][sample[0]]
            assert first["values"][3:] == [1.0, 2.0, 3.0, 4.0, 5.0]


async def test_indexes_backups_and_data_survive_a_clean_restart(tmp_path: Path) -> None:
    config = ServerConfig(data_dir=tmp_path, backup_ready_ms=0, index_port_base=quiet_port_base())
    async with serve_local(config) as server, aiohttp.ClientSession() as http:
        status, _ = await call(http, "POST", f"{server.url}/indexes", json=CREATE)
        host = server.index_host("crash")
        await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": _batch(1, 1), "namespace": "ns"})
        await call(
            http,
            "POST",
            f"{host}/namespaces",
            json={"name": "empty"},
            headers={"X-Pinecone-Api-Version": "2025-10"},
        )
        status, backup = await call(http, "POST", f"{server.url}/indexes/crash/backups", json={"name": "b"})
        assert status == 201
    async with serve_local(config) as server, aiohttp.ClientSession() as http:
        assert len(server.ids("crash", "ns")) == 50
        status, body = await call(http, "GET", f"{server.url}/backups/{backup['backup_id']}")
        assert (status, body["record_count"], body["status"]) == (200, 50, "Ready")
        status, body = await call(http, "GET", f"{server.index_host('crash')}/namespaces/empty")
        assert status == 200
        status, _job = await call(
            http, "POST", f"{server.url}/backups/{backup['backup_id']}/create-index", json={"name": "copy"}
        )
        assert status == 202
        assert server.ids("copy", "ns") == server.ids("crash", "ns")
