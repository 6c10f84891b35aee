"""purge() against the in-memory DataPlane double: every plan, the guards, dry run, resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.errors import CheckpointMismatchError, UsageError
from bulkops.limits.profiles import Limit, load_profile
from bulkops.testing import FakeDataPlane

FAST: dict[str, Any] = {"verify_delay": 0.0, "limits": "default"}


def tenant_data() -> FakeDataPlane:
    ids = [f"t1#{i:04d}" for i in range(2500)] + [f"t2#{i:04d}" for i in range(300)] + ["t1", "t1$", "t10#x"]
    meta = {i: {"tenant": "t1" if i.startswith("t1#") else "other"} for i in ids}
    return FakeDataPlane({"ns": ids, "other": ["t1#0001", "z"]}, metadata=meta)


async def test_prefix_purge_deletes_exactly_the_prefix(tmp_path: Path) -> None:
    dp = tenant_data()
    report = await bulkops.purge(
        dataplane=dp, namespace="ns", prefix="t1#", checkpoint=tmp_path / "c", **FAST
    )
    assert report.kind == "list_and_delete"
    assert report.deleted == 2500
    assert report.verification.ok
    assert report.verification.remaining == 0
    assert report.bound == 20_000.0
    assert all(not i.startswith("t1#") for i in dp.namespaces["ns"])
    assert len(dp.namespaces["ns"]) == 303
    assert dp.namespaces["other"] == ["t1#0001", "z"]


async def test_rerun_of_a_finished_purge_only_verifies(tmp_path: Path) -> None:
    dp = tenant_data()
    await bulkops.purge(dataplane=dp, namespace="ns", prefix="t1#", checkpoint=tmp_path / "c", **FAST)
    deletes = dp.calls["delete"]
    again = await bulkops.purge(dataplane=dp, namespace="ns", prefix="t1#", checkpoint=tmp_path / "c", **FAST)
    assert again.resumed
    assert again.verification.ok
    assert dp.calls["delete"] == deletes


async def test_a_checkpoint_of_another_job_is_refused(tmp_path: Path) -> None:
    dp = tenant_data()
    await bulkops.purge(dataplane=dp, namespace="ns", prefix="t2#", checkpoint=tmp_path / "c", **FAST)
    before = list(dp.namespaces["ns"])
    with pytest.raises(CheckpointMismatchError, match="different job"):
        await bulkops.purge(dataplane=dp, namespace="ns", prefix="t1#", checkpoint=tmp_path / "c", **FAST)
    assert dp.namespaces["ns"] == before


async def test_dry_run_counts_and_samples_and_deletes_nothing(tmp_path: Path) -> None:
    dp = tenant_data()
    before = {ns: list(ids) for ns, ids in dp.namespaces.items()}
    report = await bulkops.purge(
        dataplane=dp, namespace="ns", prefix="t1#", dry_run=True, sample_size=3, **FAST
    )
    assert report.dry_run
    assert report.would_delete == 2500
    assert report.sample == ("t1#0000", "t1#0001", "t1#0002")
    assert dp.namespaces == before
    assert "delete" not in dp.calls
    assert not (tmp_path / "c").exists()


async def test_max_delete_refuses_before_the_first_delete() -> None:
    dp = tenant_data()
    with pytest.raises(UsageError, match="max_delete=1000"):
        await bulkops.purge(
            dataplane=dp, namespace="ns", prefix="t1#", max_delete=1000, target_chains=1, **FAST
        )
    assert "delete" not in dp.calls
    assert dp.calls["list"] <= 1000 // 100 + 5  # counting stopped soon after the guard, not at the end
    report = await bulkops.purge(dataplane=dp, namespace="ns", prefix="t1#", max_delete=2500, **FAST)
    assert report.deleted == 2500


async def test_ids_file_purge_and_a_bad_line(tmp_path: Path) -> None:
    dp = tenant_data()
    good = tmp_path / "ids.txt"
    good.write_text("t2#0001\nt2#0002\n\nnot-there\nt1\n")
    report = await bulkops.purge(dataplane=dp, namespace="ns", ids_file=good, **FAST)
    assert report.kind == "delete_ids"
    assert {"t2#0001", "t2#0002", "t1"}.isdisjoint(dp.namespaces["ns"])
    assert report.verification.ok
    bad = tmp_path / "bad.txt"
    bad.write_text("t2#0003\nt2#0004\nt2#\u00e9t\u00e9\n")
    deletes = dp.calls["delete"]
    with pytest.raises(UsageError, match=r"bad.txt, line 3: .*non-ASCII"):
        await bulkops.purge(dataplane=dp, namespace="ns", ids_file=bad, **FAST)
    assert dp.calls["delete"] == deletes
    assert "t2#0003" in dp.namespaces["ns"]


async def test_ids_iterable_validation_names_the_position() -> None:
    dp = tenant_data()
    with pytest.raises(UsageError, match=r"ids\[1\]: .*empty"):
        await bulkops.purge(dataplane=dp, namespace="ns", ids=["t2#0001", ""], **FAST)
    with pytest.raises(UsageError, match="no such file"):
        await bulkops.purge(dataplane=dp, namespace="ns", ids_file="t2#0001", **FAST)
    assert "delete" not in dp.calls


async def test_filter_purge_fans_out_over_namespaces() -> None:
    dp = tenant_data()
    dp.namespaces["third"] = ["t1#0005", "q"]
    report = await bulkops.purge(
        dataplane=dp, namespaces=["ns", "other", "third"], filter={"tenant": {"$eq": "t1"}}, **FAST
    )
    assert report.kind == "delete_by_filter"
    assert dp.calls["delete_by_filter"] == 3
    assert report.verification.ok
    assert all(not i.startswith("t1#") for i in dp.namespaces["ns"])
    assert dp.namespaces["other"] == ["z"]
    assert dp.namespaces["third"] == ["q"]


async def test_everything_uses_delete_all_or_deletes_the_namespace() -> None:
    dp = tenant_data()
    report = await bulkops.purge(dataplane=dp, namespace="ns", all=True, **FAST)
    assert report.kind == "delete_all"
    assert report.deleted == 2803
    assert dp.namespaces["ns"] == []
    assert dp.calls["delete_all"] == 1
    report = await bulkops.purge(dataplane=dp, namespace="other", all=True, delete_namespace=True, **FAST)
    assert report.kind == "delete_namespace"
    assert "other" not in dp.namespaces


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": "a", "all": True}, "exactly one"),
        ({}, "exactly one"),
        ({"prefix": ""}, "all=True"),
        ({"prefix": "a\x00"}, "NUL"),
        ({"prefix": "a", "delete_namespace": True}, "with all=True"),
        ({"prefix": "a", "namespaces": ["x", "x"], "namespace": None}, "given twice"),
        ({"prefix": "a", "max_delete": -1}, "max_delete"),
        ({"prefix": "a", "backup_first": True}, "index=<name>"),
        ({"prefix": "a b"}, "whitespace"),
        ({"prefix": ["a", ""]}, "whole namespace"),
        ({"filter": {"tag": {"$regex": "t"}}}, r"operator '\$regex'"),
        ({"filter": {"$not": {"tag": "x"}}}, "unknown operator"),
        ({"filter": {"n": {"$gt": "5"}}}, "needs a number"),
        ({"prefix": "a", "verify_delay": float("inf")}, "finite"),
        ({"prefix": "a", "verify_delay": float("nan")}, "finite"),
    ],
)
async def test_usage_errors_send_nothing(kwargs: dict[str, Any], message: str) -> None:
    dp = tenant_data()
    args: dict[str, Any] = {"dataplane": dp, "namespace": "ns", **FAST, **kwargs}
    if args.get("namespace") is None:
        args.pop("namespace")
    with pytest.raises(UsageError, match=message) as refused:
        await bulkops.purge(**args)
    assert refused.value.param is not None  # the parameter the error is about, for the CLI's words
    assert dp.calls == {}


async def test_several_prefixes_all_apply_and_overlaps_are_listed_once(tmp_path: Path) -> None:
    dp = tenant_data()
    report = await bulkops.purge(
        dataplane=dp, namespace="ns", prefix=["t2#", "t1#", "t1#00"], checkpoint=tmp_path / "c", **FAST
    )
    assert report.deleted == 2800  # t1#0000..2499 and t2#0000..0299, each once
    assert dp.namespaces["ns"] == ["t1", "t1$", "t10#x"]
    assert "'t1#', 't2#'" in report.plan
    assert report.verification.ok


async def test_several_namespaces_all_apply_to_a_prefix_purge(tmp_path: Path) -> None:
    dp = tenant_data()
    report = await bulkops.purge(
        dataplane=dp, namespaces=["ns", "other"], prefix="t1#", checkpoint=tmp_path / "c", **FAST
    )
    assert report.deleted == 2501
    assert report.namespaces == ("ns", "other")
    assert dp.namespaces["other"] == ["z"]
    assert all(not i.startswith("t1#") for i in dp.namespaces["ns"])
    assert report.verification.ok


async def test_a_namespace_that_does_not_exist_is_refused_unless_allowed(tmp_path: Path) -> None:
    dp = tenant_data()
    checkpoint = tmp_path / "c"
    with pytest.raises(UsageError, match="'nosuchns' does not exist") as refused:
        await bulkops.purge(dataplane=dp, namespace="nosuchns", prefix="t1#", checkpoint=checkpoint, **FAST)
    assert refused.value.param == "namespace"
    assert "allow_missing=True" in str(refused.value)
    assert "delete" not in dp.calls
    assert os.listdir(tmp_path) == []  # refused before it recorded anything: no checkpoint, no lock
    report = await bulkops.purge(dataplane=dp, namespace="nosuchns", prefix="t1#", allow_missing=True, **FAST)
    assert report.deleted == 0
    assert report.verification.ok


async def test_an_empty_default_namespace_is_refused_with_a_hint() -> None:
    dp = tenant_data()
    with pytest.raises(UsageError, match=r"default namespace .* is empty.*all_namespaces=True"):
        await bulkops.purge(dataplane=dp, prefix="t1#", **FAST)
    assert "delete" not in dp.calls


async def test_all_namespaces() -> None:
    dp = tenant_data()
    report = await bulkops.purge(dataplane=dp, all_namespaces=True, prefix="t1#", **FAST)
    assert report.namespaces == ("ns", "other")
    assert report.deleted == 2501


async def test_limits_none_means_no_pacing_with_a_dataplane() -> None:
    dp = tenant_data()
    paced = await bulkops.purge(dataplane=dp, namespace="ns", prefix="t2#", verify_delay=0.0)
    unpaced = await bulkops.purge(
        dataplane=tenant_data(), namespace="ns", prefix="t2#", verify_delay=0.0, limits=None
    )
    assert paced.bound == 20_000.0  # the default profile's list budget
    assert unpaced.bound is None  # None is "no limits" here too, not the default profile


async def test_a_profile_object_is_in_force_with_its_overrides() -> None:
    """Its name ("default") is what the checkpoint records; the overrides must still pace this run."""
    slow = load_profile("default").with_overrides([Limit("list", "index", "requests", 10)])
    report = await bulkops.purge(
        dataplane=tenant_data(), namespace="ns", prefix="t2#", verify_delay=0.0, limits=slow
    )
    assert report.bound == 1_000.0  # 10 list requests/s × 100 IDs, not the default profile's 20,000
