"""``bulkops demo`` end to end at a reduced size (the full-size run is timed in the README)."""

from __future__ import annotations

import os
import subprocess

import orjson
import pytest

from tests.helpers.cli import bulkops_executable

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses


def test_demo_runs_every_step_and_reports(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINECONE_")}
    result = subprocess.run(
        [bulkops_executable(), "--json", "demo", "--scale", "0.02"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["ok"] is True
    steps = [step["step"] for step in summary["steps"]]
    assert steps[0] == "create index"
    assert any(step.startswith("seed") for step in steps)
    assert any(step.startswith("export") for step in steps)
    assert any(step.startswith("purge") for step in steps)
    assert any(step.startswith("restore") for step in steps)
    total = sum(summary["seeded"].values())
    assert summary["exported"] == summary["seeded"]["articles"]
    assert summary["purged"] == 1000  # globex# at scale 0.02
    assert sum(summary["after_purge"].values()) == total - 1000
    assert sum(summary["restored"].values()) == total
    assert summary["rate_limited"] == 0
