"""The library's argument names are the CLI's option names (``ids_file=`` for ``--ids-file``, ``all=`` for
``--all``); the old spellings still work, with a DeprecationWarning (issue 12)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import bulkops
from bulkops.errors import UsageError
from bulkops.testing import FakeClock, FakeDataPlane

FAST = {"verify_delay": 0}


def _plane() -> FakeDataPlane:
    return FakeDataPlane({"ns": [f"a#{i:03d}" for i in range(30)]}, clock=FakeClock(autojump=True))


async def test_all_is_the_clis_name_and_everything_still_works() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = await bulkops.purge(dataplane=_plane(), namespace="ns", all=True, **FAST)
    assert report.verification.remaining == 0
    with pytest.warns(DeprecationWarning, match="everything= is deprecated; use all="):
        old = await bulkops.purge(dataplane=_plane(), namespace="ns", everything=True, **FAST)
    assert old.kind == report.kind
    with pytest.raises(UsageError, match="give all only"):
        await bulkops.purge(dataplane=_plane(), namespace="ns", all=True, everything=True)


async def test_ids_file_is_the_clis_name_and_a_path_as_ids_still_works(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("a#001\na#002\n")
    dataplane = _plane()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = await bulkops.purge(dataplane=dataplane, namespace="ns", ids_file=ids, **FAST)
        exported = await bulkops.export(
            dataplane=dataplane, namespace="ns", ids_file=str(ids), output=tmp_path / "a.jsonl"
        )
    assert report.deleted == 2
    assert exported.exported == 0  # deleted just before
    with pytest.warns(DeprecationWarning, match="use ids_file="):
        await bulkops.purge(dataplane=_plane(), namespace="ns", ids=str(ids), **FAST)
    with pytest.raises(UsageError, match="not both"):
        await bulkops.purge(dataplane=_plane(), namespace="ns", ids=["a#001"], ids_file=ids)


async def test_resume_takes_ids_file_too(tmp_path: Path) -> None:
    checkpoint = tmp_path / "c.ckpt"
    dataplane = _plane()
    await bulkops.purge(dataplane=dataplane, namespace="ns", ids=["a#003"], checkpoint=checkpoint, **FAST)
    ids = tmp_path / "ids.txt"
    ids.write_text("a#003\n")
    report = await bulkops.resume(checkpoint, dataplane=dataplane, ids_file=ids)
    assert report.resumed
