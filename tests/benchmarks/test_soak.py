"""The soak at reduced size (issue 12): one round per kind of disruption, each leading in its round —
kill -9, SIGTERM, the server killed and restarted, a second resume beside a running job — over purge,
export, import and copy run by the CLI; every round's end state exact, record by record, no traceback."""

from __future__ import annotations

import pytest

from benchmarks.chaos import soak


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_four_rounds_of_disruption_end_exact() -> None:
    result = soak.run(rounds=4, size=3_000, list_rate=10.0, seed=12)  # ~3 s per job, ~40 s in all
    assert [r["job"] for r in result["results"]] == ["purge", "export", "import", "copy"]
    assert all(count >= 1 for count in result["disruptions_landed"].values()), result["disruptions_landed"]
    assert result["server_restarts"] >= 1
    assert result["process_problems"] == []
    assert [r["problems"] for r in result["results"]] == [[], [], [], []]
    assert result["exact"] is True


def test_the_soaks_check_catches_a_missing_a_changed_and_an_unexpected_record() -> None:
    from dataclasses import replace

    want = {r.id: r for r in soak.records("x", 5)}
    assert soak.differences(dict(want), want) == []
    got = dict(want)
    del got["x-000001"]
    got["x-000002"] = replace(want["x-000002"], values=tuple(v + 0.5 for v in want["x-000002"].values))
    got["x-000003"] = replace(want["x-000003"], metadata={"n": -1})
    got["extra"] = want["x-000004"]
    problems = soak.differences(got, want)
    assert problems[0] == "1 missing, 1 unexpected"
    assert problems[1:] == ["x-000002: values or metadata differ", "x-000003: values or metadata differ"]
