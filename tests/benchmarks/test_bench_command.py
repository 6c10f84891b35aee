"""``bulkops bench``: the CLI entry drives the same harness and reports bad options as usage errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bulkops.cli.main import main


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--reps", "0"], "--reps"),
        (["--limits", "nope"], "unknown limit profile 'nope'"),
        (["--scenario", "import", "--group", "latency"], "no benchmark point matches"),
    ],
)
def test_bad_option_is_a_usage_error(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["bench", *argv]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.timeout(120)
@pytest.mark.integration  # the harness starts bulkops serve and workers as processes
def test_bench_runs_one_tiny_cell(tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = ["bench", "--quick", "--scenario", "export-ids", "--contender", "sdk-sync", "--scale", "0.02"]
    argv += ["--out", str(out), "--work-dir", str(tmp_path / "work")]
    assert _exit_code(argv) == 0
    doc = orjson.loads((out / "results.json").read_bytes())
    (run,) = doc["runs"]
    assert (run["scenario"], run["contender"], run["error"]) == ("export-ids", "sdk-sync", None)
    assert run["processed"] == run["target"] == 200  # 10,000 × 0.02, every one exported once
    assert doc["meta"]["command"].startswith("bulkops bench --quick")
