"""Copy between two local servers with different keys (one plays the source project, one the target),
over both transports, in process: exact record for record, namespace map, creation and the mismatch
errors (nothing sent), dry run, the sample catching a planted difference, faults on either side, resume
and status of copy checkpoints, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bulkops
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import CheckpointMismatchError, UsageError, VerificationError
from bulkops.jobs import read_spec
from bulkops.jobs.copy import CopySpec
from bulkops.models import Record
from bulkops.server import parse_faults
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from tests.helpers.records import assert_same_records, make_records

SOURCE_KEY = "source-project-key-1"
TARGET_KEY = "target-project-key-2"
TRANSPORTS = ["grpc", "rest"]


@dataclass
class Projects:
    source: LocalServer
    target: LocalServer

    def kwargs(self, **extra: Any) -> dict[str, Any]:
        return {
            "index": "docs",
            "controller_host": self.source.url,
            "api_key": SOURCE_KEY,
            "to_controller_host": self.target.url,
            "to_api_key": TARGET_KEY,
            "limits": "none",
            **extra,
        }

    def records(self, server: LocalServer, index: str, namespace: str) -> dict[str, Record]:
        return {r.id: r for r in server.get_records(index, namespace, server.ids(index, namespace))}


def _metadata_rich(n: int, *, seed: int, prefix: str) -> list[Record]:
    """Records with metadata of every kind, float32 values of every magnitude, some sparse values."""
    base = make_records(n, dim=8, seed=seed, prefix=prefix)
    rng = np.random.default_rng(seed)
    out = []
    for i, record in enumerate(base):
        values = (rng.standard_normal(8) * 10.0 ** rng.integers(-30, 30, 8)).astype(np.float32)
        metadata = {
            "n": i,
            "score": float(np.float32(rng.random())),
            "tags": ["x", f"t{i % 5}"],
            "ok": i % 2 == 0,
        }
        out.append(Record(record.id, [float(v) for v in values], record.sparse_values, metadata))
    return out


@pytest.fixture
async def projects() -> AsyncIterator[Projects]:
    async with (
        serve_local(ServerConfig(api_key=SOURCE_KEY)) as source,
        serve_local(ServerConfig(api_key=TARGET_KEY)) as target,
    ):
        await source.create_index_direct("docs", dimension=8, metric="dotproduct")
        await source.seed("docs", "acme", _metadata_rich(1200, seed=1, prefix="acme#"))
        await source.seed("docs", "acme", make_records(300, seed=2, prefix="globex#"))
        await source.seed("docs", "", make_records(40, seed=3, prefix="d-"))
        await source.seed("docs", "tiny", make_records(3, seed=4, prefix="t-"))
        yield Projects(source, target)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_namespace_is_copied_exactly_into_a_created_index(
    projects: Projects, tmp_path: Path, transport: str
) -> None:
    report = await bulkops.copy(
        **projects.kwargs(to_index="docs-copy", all_namespaces=True, transport=transport, verify_sample=50),
        checkpoint=tmp_path / "c.ckpt",
    )
    assert report.copied == 1543
    assert dict(report.namespaces) == {"": 40, "acme": 1500, "tiny": 3}
    assert report.destination["created"] is True
    assert report.destination["transport"] == transport
    assert report.transport == transport
    assert report.verification.ok
    assert report.verification.sampled == 50
    for namespace in ("", "acme", "tiny"):
        got = projects.records(projects.target, "docs-copy", namespace)
        assert_same_records(got, projects.records(projects.source, "docs", namespace))
    assert TARGET_KEY.encode() not in (tmp_path / "c.ckpt").read_bytes()
    assert SOURCE_KEY.encode() not in (tmp_path / "c.ckpt").read_bytes()


async def test_the_created_index_takes_the_source_description_and_the_region_given(
    projects: Projects,
) -> None:
    from bulkops.api.client import Client

    async with Client(SOURCE_KEY, projects.source.url) as client:
        await client.control.configure_index("docs", tags={"team": "search"})
    await bulkops.copy(**projects.kwargs(to_index="eu", namespace="tiny", to_region="eu-west-1"))
    async with Client(TARGET_KEY, projects.target.url) as client:
        described = await client.control.describe_index("eu")
    assert described["dimension"] == 8
    assert described["metric"] == "dotproduct"
    assert described.get("tags") == {"team": "search"}
    assert described["spec"]["serverless"]["region"] == "eu-west-1"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_prefix_and_a_namespace_map(projects: Projects, transport: str) -> None:
    report = await bulkops.copy(
        **projects.kwargs(
            to_index="mapped",
            namespaces=["acme", "tiny"],
            prefix=["acme#", "t-"],
            namespace_map={"acme": "tenant-a"},
            transport=transport,
            target_chains=4,
        )
    )
    assert report.copied == 1203
    target = projects.target
    assert (
        target.count("mapped", "tenant-a"),
        target.count("mapped", "tiny"),
        target.count("mapped", "acme"),
    ) == (
        1200,
        3,
        0,
    )
    want = {
        k: v for k, v in projects.records(projects.source, "docs", "acme").items() if k.startswith("acme#")
    }
    assert_same_records(projects.records(projects.target, "mapped", "tenant-a"), want)


async def test_a_destination_of_another_dimension_or_vector_type_is_refused_before_anything_is_sent(
    projects: Projects, tmp_path: Path
) -> None:
    await projects.target.create_index_direct("small", dimension=4, metric="dotproduct")
    with pytest.raises(UsageError, match="dimension 4 but the source has 8"):
        await bulkops.copy(**projects.kwargs(to_index="small", namespace="acme"), checkpoint=tmp_path / "a")
    await projects.target.create_index_direct("sparse", metric="dotproduct", vector_type="sparse")
    with pytest.raises(UsageError, match="sparse index but the source is dense"):
        await bulkops.copy(**projects.kwargs(to_index="sparse", namespace="acme"), checkpoint=tmp_path / "b")
    assert projects.target.count("small", "acme") == projects.target.count("sparse", "acme") == 0
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240  (refused before it began: no checkpoint left)


async def test_no_create_refuses_a_missing_destination(projects: Projects) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        await bulkops.copy(**projects.kwargs(to_index="absent", namespace="acme", create=False))
    assert "absent" not in projects.target.indexes


async def test_dry_run_counts_and_estimates_and_writes_nothing(projects: Projects) -> None:
    report = await bulkops.copy(
        **projects.kwargs(to_index="later", all_namespaces=True, limits="default", dry_run=True)
    )
    assert report.dry_run
    assert report.copied == 0
    assert report.would_copy == 1543
    assert dict(report.namespaces) == {"": 40, "acme": 1500, "tiny": 3}
    assert report.destination["would_create"]["dimension"] == 8
    estimate = report.estimate
    assert estimate is not None
    assert estimate["requests"]["fetch"] == 1 + 2 + 1  # one per 1000 IDs of each namespace
    assert estimate["requests"]["list"] == 1 + 15 + 1
    assert estimate["seconds"] > 0
    assert "later" not in projects.target.indexes


async def test_the_sample_catches_a_planted_difference(projects: Projects, tmp_path: Path) -> None:
    checkpoint = tmp_path / "c.ckpt"
    kwargs = projects.kwargs(to_index="copy", namespace="tiny", verify_sample=10)
    first = await bulkops.copy(**kwargs, checkpoint=checkpoint)
    assert first.verification.ok
    # Flip one bit of one value in the destination, as a buggy copy would.
    planted = projects.records(projects.target, "copy", "tiny")["t-000001#c"]
    values = np.asarray(planted.values, dtype=np.float32)
    values.view(np.uint32)[3] ^= 1
    await projects.target.seed(
        "copy", "tiny", [Record(planted.id, values, planted.sparse_values, planted.metadata)]
    )
    with pytest.raises(VerificationError) as raised:
        await bulkops.resume(checkpoint, api_key=SOURCE_KEY, to_api_key=TARGET_KEY)
    check = raised.value.report.verification
    assert check.mismatch_count == 1
    assert check.mismatches[0]["id"] == "t-000001#c"
    assert check.mismatches[0]["what"] == "values"


async def test_counts_catch_a_record_missing_from_the_destination(projects: Projects, tmp_path: Path) -> None:
    checkpoint = tmp_path / "c.ckpt"
    kwargs = projects.kwargs(to_index="copy", namespace="acme", verify_delay=0.2)
    await bulkops.copy(**kwargs, checkpoint=checkpoint)
    from bulkops.api.client import Client

    async with Client(TARGET_KEY, projects.target.url) as client:
        index = await client.index("copy")
        await index.delete_ids(["acme#000007#c"], namespace="acme")
    with pytest.raises(VerificationError, match="1,499 of 1,500"):
        await bulkops.resume(checkpoint, api_key=SOURCE_KEY, to_api_key=TARGET_KEY)


async def test_resume_and_status_of_a_copy_checkpoint(projects: Projects, tmp_path: Path) -> None:
    checkpoint = tmp_path / "c.ckpt"
    report = await bulkops.copy(
        **projects.kwargs(to_index="copy", all_namespaces=True), checkpoint=checkpoint
    )
    spec = read_spec(checkpoint)
    assert isinstance(spec, CopySpec)
    assert spec.destination.index == "copy"
    assert spec.source.index == "docs"
    view = Checkpoint.inspect(checkpoint)
    assert view.kind == "copy"
    assert view.finished
    assert view.counters["copied"] == report.copied
    again = await bulkops.resume(checkpoint, api_key=SOURCE_KEY, to_api_key=TARGET_KEY)
    assert again.resumed
    assert again.copied == report.copied
    assert again.verification.ok
    assert again.requests.get("upsert", 0) == 0  # finished: it only verifies again


async def test_a_checkpoint_of_another_copy_is_refused(projects: Projects, tmp_path: Path) -> None:
    checkpoint = tmp_path / "c.ckpt"
    await bulkops.copy(**projects.kwargs(to_index="one", namespace="tiny"), checkpoint=checkpoint)
    with pytest.raises(CheckpointMismatchError, match="different job"):
        await bulkops.copy(**projects.kwargs(to_index="two", namespace="tiny"), checkpoint=checkpoint)


@pytest.mark.integration  # ~10 s each: retries back off for real
@pytest.mark.parametrize("side", ["source", "target"])
async def test_a_fault_storm_on_either_side_ends_exact(tmp_path: Path, side: str) -> None:
    # The target sees a few upserts only, so its storm is denser.
    rate = 0.05 if side == "source" else 0.2
    storm = parse_faults(f"500:{rate},503:{rate},429:{rate},reset:{rate / 2},after-reset@upsert:{rate}")
    quiet: tuple[Any, ...] = ()
    async with (
        serve_local(
            ServerConfig(api_key=SOURCE_KEY, faults=storm if side == "source" else quiet, seed=3)
        ) as a,
        serve_local(
            ServerConfig(api_key=TARGET_KEY, faults=storm if side == "target" else quiet, seed=4)
        ) as b,
    ):
        await a.create_index_direct("docs", dimension=8)
        await a.seed("docs", "ns", make_records(2500, seed=9))
        projects = Projects(a, b)
        report = await bulkops.copy(
            **projects.kwargs(to_index="copy", namespace="ns", verify_sample=100, target_chains=4),
            checkpoint=tmp_path / "c.ckpt",
            client_options={"retry_budget_tokens": 1000.0},
        )
        assert report.retries > 0
        assert report.verification.ok
        assert_same_records(projects.records(b, "copy", "ns"), projects.records(a, "docs", "ns"))


async def test_typos_and_self_copies_are_refused(projects: Projects) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        await bulkops.copy(**projects.kwargs(to_index="copy", namespace="nosuch"))
    report = await bulkops.copy(
        **projects.kwargs(to_index="copy", namespaces=["tiny", "nosuch"], allow_missing=True)
    )
    assert report.copied == 3
    with pytest.raises(UsageError, match="does not read"):
        await bulkops.copy(**projects.kwargs(to_index="copy", namespace="tiny", namespace_map={"acme": "b"}))
    with pytest.raises(UsageError, match="does not exist"):
        await bulkops.copy(
            **projects.kwargs(to_index="copy", all_namespaces=True, namespace_map={"acme ": "b"})
        )
    same_project = {**projects.kwargs(), "to_controller_host": projects.source.url, "to_api_key": SOURCE_KEY}
    with pytest.raises(UsageError, match="onto itself"):
        await bulkops.copy(**same_project, to_index="docs", namespace="tiny")
    moved = await bulkops.copy(
        **same_project, to_index="docs", namespace="tiny", namespace_map={"tiny": "tiny2"}
    )
    assert moved.copied == 3
    with pytest.raises(UsageError, match="to_index"):
        await bulkops.copy(
            index="docs", api_key=SOURCE_KEY, controller_host=projects.source.url, namespace="tiny"
        )
    with pytest.raises(UsageError, match="verify_sample"):
        await bulkops.copy(**projects.kwargs(to_index="copy", namespace="tiny", verify_sample=-1))


async def test_a_small_namespace_is_listed_page_by_page_without_probes() -> None:
    """As for export: the source namespace's count caps the fan-out, so 2,000 records at 25 ms are 20
    list requests (331 before)."""
    from bulkops.limits import PROFILES

    async with (
        serve_local(ServerConfig(api_key=SOURCE_KEY, latency_ms=25.0, limits=PROFILES["default"])) as source,
        serve_local(ServerConfig(api_key=TARGET_KEY)) as target,
    ):
        await source.create_index_direct("docs", dimension=8)
        await source.seed("docs", "ns", [Record(f"doc-{i:06d}", [0.5] * 8) for i in range(2_000)])
        projects = Projects(source, target)
        kwargs = {**projects.kwargs(to_index="docs-copy", namespace="ns"), "limits": None}
        report = await bulkops.copy(**kwargs)
        assert report.copied == 2_000
        assert report.requests["list"] == 20
