"""Every purge plan end to end: bulkops.purge → real client → the local server (in this process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.api import Client
from bulkops.errors import UsageError
from bulkops.limits.profiles import PROFILES
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig, serve_local

NS = "tenants"


def records(ids: list[str], tenant: str) -> list[Record]:
    return [Record(i, (0.1, 0.2, 0.3, 0.4), metadata={"tenant": tenant}) for i in ids]


TARGET = [f"acme#doc{d:03d}#chunk{c:02d}" for d in range(300) for c in range(10)]  # 3000
KEEP = [f"acmf#{i}" for i in range(200)] + [f"acm#{i}" for i in range(100)] + ["acme", "acme!", "zeta"]


@dataclass
class Env:
    server: LocalServer
    client: Client
    kw: dict[str, Any]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    config = ServerConfig(limits=PROFILES["default"], latency_ms=1.0, consistency_lag_ms=50.0)
    async with serve_local(config) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", NS, records(TARGET, "acme") + records(KEEP, "other"))
        await server.seed("idx", "second", records(TARGET[:50], "acme") + records(["s1"], "other"))
        async with Client("test-key", server.url) as client:
            yield Env(server, client, {"client": client, "index": "idx", "verify_delay": 0.1})


def exact(env: Env, namespace: str, expected: list[str]) -> None:
    assert env.server.ids("idx", namespace) == sorted(expected)


async def test_prefix_plan_deletes_exactly_the_prefix(env: Env, tmp_path: Path) -> None:
    report = await bulkops.purge(namespace=NS, prefix="acme#", checkpoint=tmp_path / "c", **env.kw)
    exact(env, NS, KEEP)
    assert report.kind == "list_and_delete"
    assert report.deleted == 3000
    assert report.verification.ok
    assert report.total_requests > 30
    assert report.requests["list"] >= 30  # from the client's statistics, per operation
    assert report.bound == 20_000.0
    assert report.rate_vs_bound is not None
    assert len(env.server.ids("idx", "second")) == 51


async def test_dry_run_changes_nothing(env: Env) -> None:
    before = {ns: env.server.ids("idx", ns) for ns in (NS, "second")}
    for target in ({"prefix": "acme#"}, {"all": True}, {"ids": TARGET[:20]}):
        report = await bulkops.purge(namespace=NS, dry_run=True, **target, **env.kw)
        assert report.dry_run
        assert report.would_delete in (3000, 3303, 20)
        assert report.sample
    report = await bulkops.purge(namespaces=[NS, "second"], filter={"tenant": "acme"}, dry_run=True, **env.kw)
    assert report.would_delete == 3050
    assert {ns: env.server.ids("idx", ns) for ns in (NS, "second")} == before


async def test_ids_file_plan(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join([*TARGET[:1500], "never-existed"]) + "\n")
    report = await bulkops.purge(namespace=NS, ids_file=path, checkpoint=tmp_path / "c", **env.kw)
    assert report.kind == "delete_ids"
    assert report.verification.ok
    exact(env, NS, TARGET[1500:] + KEEP)


async def test_filter_plan_across_namespaces(env: Env) -> None:
    report = await bulkops.purge(namespaces=[NS, "second"], filter={"tenant": {"$eq": "acme"}}, **env.kw)
    assert report.kind == "delete_by_filter"
    assert report.verification.ok
    exact(env, NS, KEEP)
    exact(env, "second", ["s1"])


async def test_everything_plan_and_delete_namespace(env: Env) -> None:
    report = await bulkops.purge(namespace="second", all=True, **env.kw)
    assert report.kind == "delete_all"
    assert report.deleted == 51
    assert report.verification.ok
    assert env.server.count("idx", "second") == 0
    report = await bulkops.purge(namespace=NS, all=True, delete_namespace=True, **env.kw)
    assert report.kind == "delete_namespace"
    assert report.verification.ok
    names = [n["name"] for n in await (await env.client.index("idx")).list_namespaces()]
    assert NS not in names
    assert env.server.ids("idx", NS) == []


async def test_max_delete_guard_against_the_server(env: Env) -> None:
    with pytest.raises(UsageError, match="max_delete=2999"):
        await bulkops.purge(namespace=NS, prefix="acme#", max_delete=2999, **env.kw)
    exact(env, NS, TARGET + KEEP)
    with pytest.raises(UsageError, match="max_delete=49"):
        await bulkops.purge(namespaces=["second"], filter={"tenant": "acme"}, max_delete=49, **env.kw)
    assert len(env.server.ids("idx", "second")) == 51


async def test_backup_first_waits_for_a_ready_backup(env: Env) -> None:
    report = await bulkops.purge(namespace="second", prefix="acme#", backup_first=True, **env.kw)
    assert report.backup_id
    backup = await env.client.control.describe_backup(report.backup_id)
    assert str(backup["status"]).lower() == "ready"
    exact(env, "second", ["s1"])


async def test_purge_by_host_with_api_key_never_in_the_report(env: Env) -> None:
    host = env.server.index_host("idx")
    report = await bulkops.purge(
        host=host,
        api_key="pcsk_SECRET_123",
        controller_host=env.server.url,
        namespace=NS,
        prefix="acm#",
        verify_delay=0.1,
    )
    assert report.deleted == 100
    assert "pcsk_SECRET_123" not in repr(report)
