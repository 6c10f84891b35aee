"""The crash tools at reduced size: a kill lands mid-job, and the end state they check is exact.

Seeds are fixed so each kill's delay falls mid-way through the job's expected duration.
"""

from __future__ import annotations

import pytest

from benchmarks.chaos import export, purge

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_purge_under_kill_9_ends_exact() -> None:
    result = purge.run(target=8_000, others=2_000, kills=1, list_rate=20.0, seed=7)  # ~4 s of listing
    assert result["kills_mid_job"] == 1
    assert 0 <= result["deleted_count_at_each_kill"][0] < 8_000
    assert result["final_run"]["deleted"] == 8_000
    assert (result["left_under_prefix"], result["others_missing"], result["others_changed"]) == (0, 0, 0)
    assert result["exact"] is True


def test_export_and_import_under_kill_9_end_exact() -> None:
    result = export.run(records=30_000, dimension=16, kills=1, fmt="parquet", seed=1)
    assert (result["export"]["kills"], result["import"]["kills"]) == (1, 1)
    assert result["export"]["final_run"]["resumed"] is True
    assert (result["export"]["problems"], result["import"]["problems"]) == ([], [])
    assert result["exact"] is True
